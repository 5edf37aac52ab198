"""The vendor's API pages (tokens, webhooks, "Is this customer cleared?") and the lookup on the
agency's case and model pages: who sees them, who gets 404, what they show."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from api.models import ApiToken, WebhookDelivery
from api.models.tokens import hash_secret
from api.tests.conftest import make_token
from approvals.tests.enforcement_helpers import approved, suspend

pytestmark = pytest.mark.django_db

PAGES = ["/vendor/api/tokens/", "/vendor/api/webhooks/", "/vendor/api/cleared/"]
ADMIN_PAGES = ["/vendor/api/tokens/new/", "/vendor/api/webhooks/new/"]


@pytest.mark.parametrize("who", ["vendor_admin", "officer", "viewer"])
def test_every_member_reads_only_the_admin_creates(client, world, who):
    client.force_login(world[who])
    for url in PAGES:
        assert client.get(url).status_code == 200, url
    for url in ADMIN_PAGES:
        assert client.get(url).status_code == (200 if who == "vendor_admin" else 404), url
    shows_button = "Create a token" in client.get(PAGES[0]).content.decode()
    assert shows_button == (who == "vendor_admin")


@pytest.mark.parametrize("who", ["doc_approver", "auditor", "portal_admin"])
def test_non_vendor_users_get_404(client, world, who):
    client.force_login(world[who])
    for url in PAGES + ADMIN_PAGES:
        assert client.get(url).status_code == 404, url


def test_a_token_is_shown_once_and_listed_by_prefix(client, world):
    client.force_login(world["vendor_admin"])
    response = client.post(
        "/vendor/api/tokens/new/", {"name": "Provisioning", "scope": "read", "expires_in_days": "90"}
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = re.search(r'value="(fap_[^"]+)"', response.content.decode()).group(1)
    token = ApiToken.objects.get(secret_sha256=hash_secret(secret))
    listing = client.get("/vendor/api/tokens/").content.decode()
    assert token.prefix in listing
    assert secret not in listing


def test_the_token_form_keeps_what_was_typed(client, world):
    client.force_login(world["vendor_admin"])
    response = client.post(
        "/vendor/api/tokens/new/", {"name": "Keep me", "scope": "read", "expires_in_days": "999"}
    )
    body = response.content.decode()
    assert 'value="Keep me"' in body
    assert "usa-error-message" in body
    assert not ApiToken.objects.exists()


def test_revoking_through_the_page(client, world):
    token, _ = make_token(world)
    client.force_login(world["vendor_admin"])
    client.post(f"/vendor/api/tokens/{token.pk}/revoke/")
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    client.force_login(world["officer"])
    assert client.post(f"/vendor/api/tokens/{token.pk}/revoke/").status_code == 404


def test_another_vendors_token_is_404(client, world):
    from vendors.tests.factories import vendor_admin

    token, _ = make_token(world)
    client.force_login(vendor_admin(world.other_vendor))
    assert client.post(f"/vendor/api/tokens/{token.pk}/revoke/").status_code == 404
    assert token.name not in client.get("/vendor/api/tokens/").content.decode()


def test_webhook_secret_shown_once_and_failures_listed_with_redeliver(client, world):
    client.force_login(world["vendor_admin"])
    response = client.post("/vendor/api/webhooks/new/", {"url": "https://hooks.example.com/portal"})
    assert "whsec_" in response.content.decode()
    endpoint = world.vendor.webhook_endpoints.get()
    WebhookDelivery.objects.create(
        endpoint=endpoint,
        event_id="evt_x",
        event_type="grant.revoked",
        payload={},
        status="failed",
        attempts=12,
        last_error="HTTP 500",
    )
    page = client.get("/vendor/api/webhooks/").content.decode()
    assert "whsec_" not in page
    assert "HTTP 500" in page
    assert "Redeliver" in page
    response = client.post("/vendor/api/webhooks/new/", {"url": "http://hooks.example.com/x"})
    assert "https://" in response.content.decode()


def test_lookup_answers_as_the_api_does(client, world):
    grant = approved(world)
    client.force_login(world["viewer"])
    url = "/vendor/api/cleared/"
    query = {"model": world.frontier_model.pk, "customer": grant.partner_customer_id}
    assert "Cleared:" in client.get(url, query).content.decode()
    action = suspend(world)
    body = client.get(url, query).content.decode()
    assert "Not cleared" in body
    assert f"EA-{action.pk}" in body
    body = client.get(url, {"model": world.frontier_model.pk, "customer": "nope"}).content.decode()
    assert "None of your customers" in body


def test_the_agency_case_and_model_pages_answer_too(client, world):
    grant = approved(world)
    client.force_login(world["doc_approver"])
    case = client.get(f"/admin/approvals/accessrequest/{grant.access_request_id}/change/").content.decode()
    assert "Is this customer cleared?" in case
    assert "Cleared</strong>" in case
    model_page = f"/admin/approvals/enforcementaction/models/{world.frontier_model.pk}/"
    body = client.get(model_page, {"customer": grant.partner_customer_id}).content.decode()
    assert "Cleared</strong>" in body
    assert "No customer" in client.get(model_page, {"customer": "999999"}).content.decode()


@pytest.mark.parametrize("size", [10, 100])
def test_the_token_list_costs_the_same_at_any_size(client, world, django_assert_max_num_queries, size):
    now = timezone.now()
    ApiToken.objects.bulk_create(
        [
            ApiToken(
                vendor=world.vendor,
                name=f"t{n}",
                prefix=f"fap_{n:08d}",
                secret_sha256=f"{n:064d}",
                created_by=world["vendor_admin"],
                expires_at=now + timedelta(days=5),
            )
            for n in range(size)
        ]
    )
    client.force_login(world["vendor_admin"])
    with django_assert_max_num_queries(14):
        response = client.get("/vendor/api/tokens/")
    assert response.content.decode().count("fap_0") == size
