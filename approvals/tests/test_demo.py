"""The demo world ``seed_demo`` builds: requests in every lifecycle state, through the services,
and the enforcement world (``seed_enforcement``, called by ``seed_demo`` after the review's demo),
each once however often it runs.

The demo world is seeded once for the module (about 4 s) and rolled back at its end; each test
reads it in a savepoint of its own (the ``demo_world`` fixture of the root ``conftest.py``).
"""

import pytest
from django.core.management import call_command

from approvals.demo.enforcement import seed_enforcement
from approvals.models import (
    AccessRequest,
    Agency,
    EnforcementAction,
    Grant,
    IncidentReport,
    InformationRequest,
    IntentToDeny,
    PrereleaseReview,
    Referral,
    RoutingRule,
)
from approvals.selectors import is_customer_cleared
from vendors.models import FrontierModel, Vendor

pytestmark = pytest.mark.django_db


def requests():
    return sorted(
        AccessRequest.objects.values_list("vendor__legal_name", "partner_customer__legal_name", "status")
    )


def enforcement():
    return (
        sorted(EnforcementAction.objects.values_list("kind", "status")),
        sorted(IncidentReport.objects.values_list("severity", "status")),
        AccessRequest.objects.count(),
        Grant.objects.count(),
    )


def test_seeding_again_changes_nothing(demo_world):
    # given the demo world seeded (once, by the module), when its enforcement part and then the
    # whole demo are seeded again, neither the requests nor the enforcement world change
    first = (requests(), enforcement())
    seed_enforcement({})
    assert (requests(), enforcement()) == first
    call_command("seed_demo", verbosity=0)
    seed_enforcement({})
    assert (requests(), enforcement()) == first


def test_seed_demo_builds_every_state_once(demo_world):
    assert set(AccessRequest.objects.values_list("status", flat=True)) == set(AccessRequest.Status.values)
    assert set(AccessRequest.objects.values_list("vendor__organisation__name", flat=True)) == {
        "Aurora Labs",
        "Basalt AI",
    }
    assert list(Agency.objects.values_list("code", flat=True)) == [
        "DOC",
        "CISA",
        "DOD",
        "ONCD",
        "OSTP",
        "STATE",
    ]
    assert Agency.objects.get(code="DOC").is_lead
    assert RoutingRule.objects.count() == 6
    assert InformationRequest.objects.filter(status="open").exists()
    assert InformationRequest.objects.filter(status="answered").exists()
    assert IntentToDeny.objects.exists()
    assert {"active", "expired"} <= set(Grant.objects.values_list("status", flat=True))
    approved = AccessRequest.objects.get(partner_customer__legal_name="Great Lakes Grid Operations LLC")
    agencies = set(approved.decision.conditions.values_list("agency__code", flat=True))
    assert agencies == {"DOC", "ONCD"}
    clearance = is_customer_cleared(
        frontier_model=approved.frontier_model, partner_customer=approved.partner_customer
    )
    assert clearance is not None
    assert len(clearance.conditions) == 3
    expired = Grant.objects.get(status="expired")
    assert (
        is_customer_cleared(frontier_model=expired.frontier_model, partner_customer=expired.partner_customer)
        is None
    )


def test_seed_demo_builds_the_enforcement_world(demo_world):
    # a suspended model with suspended grants and a request on hold
    granite = FrontierModel.objects.get(name="Basalt Granite")
    assert granite.release_phase == FrontierModel.ReleasePhase.SUSPENDED
    assert Grant.objects.filter(frontier_model=granite, status=Grant.Status.SUSPENDED).count() == 2
    assert AccessRequest.objects.filter(frontier_model=granite, on_hold=True).count() == 1
    # a designated vendor whose answer is pending, its open request referred to DOD
    basalt = Vendor.objects.get(organisation__name="Basalt AI")
    assert basalt.is_supply_chain_risk
    designation = EnforcementAction.objects.get(kind="designate_vendor")
    assert designation.awaits_response
    assert Referral.objects.filter(access_request__vendor=basalt, agency__code="DOD").count() == 1
    # incidents of every severity, an initial one among them
    assert set(IncidentReport.objects.values_list("severity", flat=True)) == set(
        IncidentReport.Severity.values
    )
    assert IncidentReport.objects.filter(status="initial").exists()
    # an expired grant and its renewal in progress
    renewal = AccessRequest.objects.get(renewal_of__isnull=False)
    assert renewal.renewal_of.status == Grant.Status.EXPIRED
    assert renewal.status == AccessRequest.Status.DRAFT
    # a model under pre-release review with findings; Aurora Atlas 2.0 with three active grants
    assert PrereleaseReview.objects.get(status="in_review").findings.count() == 2
    atlas = FrontierModel.objects.get(name="Aurora Atlas", version="2.0")
    assert Grant.objects.filter(frontier_model=atlas, status=Grant.Status.ACTIVE).count() == 3


def test_every_demo_model_past_registered_got_there_through_a_pre_release_review(demo_world):
    """Issue 19: no demo model's phase is set directly. Each model in limited preview or general
    availability (or suspended from preview) has the cleared review behind it, and every change of
    its phase was written by a review or enforcement service, never by the demo."""
    cleared = {
        PrereleaseReview.Status.CLEARED_LIMITED_PREVIEW: FrontierModel.ReleasePhase.LIMITED_PREVIEW,
        PrereleaseReview.Status.CLEARED_GENERAL_AVAILABILITY: FrontierModel.ReleasePhase.GENERAL_AVAILABILITY,
    }
    past_registered = FrontierModel.objects.exclude(release_phase=FrontierModel.ReleasePhase.REGISTERED)
    assert past_registered.count() == 4
    for frontier_model in past_registered:
        reviews = PrereleaseReview.objects.filter(frontier_model=frontier_model)
        if frontier_model.release_phase == FrontierModel.ReleasePhase.IN_REVIEW:
            assert reviews.get().status == PrereleaseReview.Status.IN_REVIEW
            continue
        review = reviews.get(status__in=list(cleared))
        assert review.findings.count() == 2, frontier_model
        phase_when_cleared = (
            frontier_model.history.filter(history_change_reason__startswith="Cleared for")
            .order_by("history_date")
            .values_list("release_phase", flat=True)
            .get()
        )
        assert phase_when_cleared == cleared[review.status]
        if review.status == PrereleaseReview.Status.CLEARED_LIMITED_PREVIEW:
            assert frontier_model.preview_customer_cap == review.preview_customer_cap
        # cleared before any request for it was filed
        filed = AccessRequest.objects.filter(frontier_model=frontier_model).values_list(
            "created_at", flat=True
        )
        assert all(review.decided_at < created for created in filed)
    phases = set(FrontierModel.history.values_list("history_change_reason", "release_phase"))
    assert not [p for p in phases if p[0] == "Demo world" and p[1] != FrontierModel.ReleasePhase.REGISTERED]


def test_every_agency_a_rule_routes_to_is_staffed_in_the_demo_world(demo_world):
    """Issue 13: STATE and DOD have an approver (approver@state.example, approver@dod.example)."""
    from approvals.selectors.staffing import unstaffed_agencies, unstaffed_routing_rules
    from portal.accounts.models import Role, User

    for email, code in (("approver@state.example", "STATE"), ("approver@dod.example", "DOD")):
        person = User.objects.get(email=email)
        assert person.role == Role.AGENCY_APPROVER
        assert person.organisation.agency.code == code
        assert person.check_password("portal-demo")
    assert not unstaffed_agencies().exists()
    assert not unstaffed_routing_rules().exists()
