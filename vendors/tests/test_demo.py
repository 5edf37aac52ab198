"""The registry's demo world: what DESIGN.md promises, and safe to run twice."""

import pytest

from portal.accounts import demo as accounts_demo
from portal.accounts.models import User
from portal.permissions import has_object_permission
from vendors.choices import CRITICAL_INFRASTRUCTURE_SECTORS
from vendors.demo import seed_vendors
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor

pytestmark = pytest.mark.django_db


def counts():
    return (
        Vendor.objects.count(),
        FrontierModel.objects.count(),
        PartnerCustomer.objects.count(),
        EvidenceDocument.objects.count(),
        FrontierModel.history.count(),
        PartnerCustomer.history.count(),
        EvidenceDocument.history.count(),
    )


def test_seed_vendors_builds_the_demo_registry_and_is_idempotent():
    organisations = accounts_demo.seed_accounts()
    seed_vendors(organisations)
    first = counts()
    seed_vendors(organisations)
    assert counts() == first

    aurora = Vendor.objects.get(organisation__name="Aurora Labs")
    basalt = Vendor.objects.get(organisation__name="Basalt AI")
    atlas = FrontierModel.objects.get(vendor=aurora, name="Aurora Atlas", version="2.0")
    # the registry registers models only: their release phases come from pre-release reviews
    # (approvals.demo.releases, through the review services), never set here
    assert atlas.release_phase == FrontierModel.ReleasePhase.REGISTERED
    assert atlas.training_compute_flop == pytest.approx(3.2e26)
    assert set(aurora.frontier_models.values_list("release_phase", flat=True)) == {"registered"}
    assert basalt.frontier_models.count() == 2
    aurora_customers = list(aurora.partner_customers.all())
    assert len(aurora_customers) == 12
    assert any(c.country == "US" and c.sector in CRITICAL_INFRASTRUCTURE_SECTORS for c in aurora_customers)
    assert any(c.country != "US" for c in aurora_customers)
    assert basalt.partner_customers.count() == 5
    assert EvidenceDocument.objects.filter(content_type="application/pdf").exists()
    assert EvidenceDocument.objects.filter(content_type="text/plain").exists()
    pdf = EvidenceDocument.objects.filter(content_type="application/pdf").first()
    assert pdf.file.read().startswith(b"%PDF-1.4")

    alex = User.objects.get(email="compliance@aurora.example")
    jordan = User.objects.get(email="compliance@basalt.example")
    assert has_object_permission(alex, atlas, "change")
    assert has_object_permission(User.objects.get(email="officer@aurora.example"), atlas, "change")
    assert not has_object_permission(jordan, atlas, "view")
    assert has_object_permission(jordan, basalt, "manage_team")
