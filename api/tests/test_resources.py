"""The REST endpoints: the same services and selectors as the pages, another vendor's record 404,
problem details with field names, cursor pagination, ``Idempotency-Key``."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from api.tests.conftest import bearer, make_token
from approvals.models import AccessRequest
from approvals.tests.enforcement_helpers import approved
from approvals.tests.factories import draft, submitted
from vendors.models import PartnerCustomer

pytestmark = pytest.mark.django_db

CUSTOMER = {
    "legal_name": "Quarry Water Authority",
    "country": "US",
    "sector": "other",
    "registration_id": "CRM-9001",
    "intended_use": "Triage of intrusion alerts.",
    "security_contact_name": "Pat Doe",
    "security_contact_email": "pat@quarry.example",
    "attestation": True,
}


def test_a_vendor_files_and_submits_a_request_through_the_api(world, rw_client):
    # given a customer registered through the API
    response = rw_client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 201, response.json()
    customer = PartnerCustomer.objects.get(pk=response.json()["id"])
    assert customer.history.get().history_user == world["vendor_admin"]
    # when a draft is started, a document attached and the draft submitted
    body = rw_client.post(
        "/api/v1/access-requests/",
        {
            "frontier_model": world.frontier_model.pk,
            "partner_customer": customer.pk,
            "use_case": "SOC triage.",
            "scope": "200 seats, U.S. only.",
            "requested_duration_days": 365,
        },
        format="json",
    ).json()
    ref = body["reference"]
    assert body["status"] == "draft"
    upload = SimpleUploadedFile("end-use.txt", b"End-use statement.\n", content_type="text/plain")
    response = rw_client.post(
        f"/api/v1/access-requests/{ref}/documents/", {"file": upload}, format="multipart"
    )
    assert response.status_code == 201, response.json()
    response = rw_client.post(f"/api/v1/access-requests/{ref}/submit/", {}, format="json")
    # then it is submitted, with a tracking number, as through the pages
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == "submitted"
    assert response.json()["tracking_number"].startswith("FAR-")
    tracking = response.json()["tracking_number"]
    assert rw_client.get(f"/api/v1/access-requests/{tracking}/").json()["id"] == body["id"]


def test_service_refusals_are_problems_with_field_names(world, rw_client):
    rw_client.post("/api/v1/customers/", CUSTOMER, format="json")
    response = rw_client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "legal_name"
    response = rw_client.post(
        "/api/v1/customers/", {**CUSTOMER, "country": "XX", "sector": ""}, format="json"
    )
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"country", "sector"}


def test_incomplete_submission_lists_every_defect(world, rw_client):
    access_request = draft(world, with_document=False, use_case="")
    response = rw_client.post(f"/api/v1/access-requests/{access_request.pk}/submit/", {}, format="json")
    assert response.status_code == 422
    assert len(response.json()["errors"]) >= 2


def test_stale_version_is_refused(world, rw_client):
    access_request = submitted(world)
    response = rw_client.post(
        f"/api/v1/access-requests/{access_request.tracking_number}/withdraw/",
        {"reason": "No longer needed.", "expected_version": access_request.version - 1},
        format="json",
    )
    assert response.status_code == 422
    assert AccessRequest.objects.get(pk=access_request.pk).status == "submitted"


def test_idempotency_key_files_once(world, rw_client):
    headers = {"HTTP_IDEMPOTENCY_KEY": "create-quarry-1"}
    first = rw_client.post("/api/v1/customers/", CUSTOMER, format="json", **headers)
    again = rw_client.post("/api/v1/customers/", CUSTOMER, format="json", **headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json() == again.json()
    assert again["Idempotent-Replayed"] == "true"
    assert PartnerCustomer.objects.filter(legal_name=CUSTOMER["legal_name"]).count() == 1
    other = rw_client.post(
        "/api/v1/customers/", {**CUSTOMER, "legal_name": "Other"}, format="json", **headers
    )
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "Idempotency-Key"


def test_bulk_create_is_all_or_nothing(world, rw_client):
    rows = [{**CUSTOMER, "legal_name": f"Bulk {n}", "registration_id": f"B-{n}"} for n in range(3)]
    response = rw_client.post("/api/v1/customers/bulk/", {"customers": rows}, format="json")
    assert response.status_code == 201, response.json()
    assert len(response.json()["created"]) == 3
    response = rw_client.post(
        "/api/v1/customers/bulk/", {"customers": [*rows[:1], {**CUSTOMER}]}, format="json"
    )
    assert response.status_code == 422
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 4  # 3 + the world's own


def test_another_vendors_records_are_404(world):
    other = world["other_officer"]
    grant = approved(world)
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(other)
    for url in [
        f"/api/v1/models/{world.frontier_model.pk}/",
        f"/api/v1/customers/{world.partner_customer.pk}/",
        f"/api/v1/access-requests/{grant.access_request.tracking_number}/",
        f"/api/v1/grants/{grant.pk}/",
        f"/api/v1/decisions/{grant.decision_id}/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
        assert response.json()["title"] == "Not found."
    assert client.get("/api/v1/grants/").json()["results"] == []
    response = client.patch(
        f"/api/v1/customers/{world.partner_customer.pk}/", {"intended_use": "x"}, format="json"
    )
    assert response.status_code == 404


def test_lists_are_cursor_paginated_and_filtered(world, rw_client):
    for _ in range(3):
        approved(world)
    page = rw_client.get("/api/v1/grants/", {"page_size": 2}).json()
    assert len(page["results"]) == 2
    assert "cursor=" in page["next"]
    rest = rw_client.get(page["next"]).json()
    assert len(rest["results"]) == 1
    assert rw_client.get("/api/v1/grants/", {"status": "revoked"}).json()["results"] == []
    assert len(rw_client.get("/api/v1/grants/", {"status": "active"}).json()["results"]) == 3


@pytest.mark.parametrize("size", [10, 100])
def test_grant_list_costs_the_same_at_any_size(world, django_assert_max_num_queries, size):
    from approvals.tests.enforcement_helpers import bulk_grants

    bulk_grants(world, size, share=True)
    client = bearer(make_token(world)[1])
    with django_assert_max_num_queries(6):
        response = client.get("/api/v1/grants/", {"page_size": 200})
    assert len(response.json()["results"]) == size


def test_viewers_and_agencies_read_but_do_not_write(world):
    from rest_framework.test import APIClient

    for who in ("viewer", "doc_approver"):
        client = APIClient()
        client.force_login(world[who])
        assert client.get("/api/v1/grants/").status_code == 200
        assert client.post("/api/v1/customers/", CUSTOMER, format="json").status_code == 403
