"""The registry in the agency dashboard: scoped, read-only, evidence downloaded through a check."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from portal.tests.factories import auditor, portal_admin
from vendors import services
from vendors.models import FrontierModel, PartnerCustomer
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = ["vendor", "frontiermodel", "partnercustomer", "evidencedocument"]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_auditors_see_every_vendor_record(client, world, model):
    FrontierModelFactory(vendor=world.vendor, name="Visible Model")
    EvidenceDocumentFactory(frontier_model=FrontierModelFactory(vendor=world.other_vendor))
    PartnerCustomerFactory(vendor=world.other_vendor, legal_name="Visible Customer")
    client.force_login(auditor())
    response = client.get(reverse(f"admin:vendors_{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


def test_an_agency_official_sees_only_what_was_shared_with_their_agency(client, world):
    shared = PartnerCustomerFactory(vendor=world.vendor, legal_name="Shared Customer")
    PartnerCustomerFactory(vendor=world.vendor, legal_name="Private Customer")
    officials = Group.objects.create(name="agency officials")
    world.agency.groups.add(officials)
    client.force_login(world.agency)
    url = reverse("admin:vendors_partnercustomer_changelist")
    assert client.get(url).context["cl"].result_count == 0
    services.share_with_group(shared, officials)
    response = client.get(url)
    assert [c.legal_name for c in response.context["cl"].result_list] == ["Shared Customer"]
    private = PartnerCustomer.objects.get(legal_name="Private Customer")
    assert client.get(reverse("admin:vendors_partnercustomer_change", args=[private.pk])).status_code in {
        302,
        404,
    }


@pytest.mark.parametrize("who", ["auditor", "agency", "portal_admin"])
def test_the_registry_is_read_only_in_the_admin(client, world, who):
    frontier_model = FrontierModelFactory(vendor=world.vendor, name="Original")
    user = {"auditor": auditor, "portal_admin": portal_admin}.get(who, lambda: world.agency)()
    if who == "agency":
        officials = Group.objects.create(name="officials")
        user.groups.add(officials)
        services.share_with_group(frontier_model, officials)
    client.force_login(user)
    url = reverse("admin:vendors_frontiermodel_change", args=[frontier_model.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()
    response = client.post(url, {"name": "Changed"})
    assert response.status_code == 403
    frontier_model.refresh_from_db()
    assert frontier_model.name == "Original"
    assert client.get(reverse("admin:vendors_frontiermodel_add")).status_code == 403


def test_vendor_members_cannot_open_the_admin(client, world):
    client.force_login(world.admin)
    response = client.get(reverse("admin:vendors_frontiermodel_changelist"), follow=True)
    assert response.status_code == 404


def test_evidence_download_in_the_admin_checks_permission(client, world):
    document = EvidenceDocumentFactory(frontier_model=FrontierModelFactory(vendor=world.vendor))
    url = reverse("admin:vendors_evidencedocument_download", args=[document.pk])
    client.force_login(world.agency)
    assert client.get(url).status_code == 404
    client.force_login(auditor())
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelist_query_count_does_not_grow(client, world, django_assert_max_num_queries, size, model):
    for _ in range(size):
        EvidenceDocumentFactory(frontier_model=FrontierModelFactory(vendor=world.vendor))
        PartnerCustomerFactory(vendor=world.vendor)
    client.force_login(auditor())
    with django_assert_max_num_queries(20):
        assert client.get(reverse(f"admin:vendors_{model}_changelist")).status_code == 200


def test_model_admin_shows_compute_and_why_frontier(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3.2e26)
    client.force_login(auditor())
    page = client.get(
        reverse("admin:vendors_frontiermodel_change", args=[frontier_model.pk])
    ).content.decode()
    assert "3.2 × 10^26" in page
    assert FrontierModel.objects.get().frontier_reason in page
