"""The enforcement and clearance verbs: ``policies.can_<verb>`` (which shows the button) and the
service (which acts) agree, state by state, for the lead agency's approver, another agency's
approver, a reviewer, the vendor's officer and an auditor. Each refusal is matched by its message,
from ``require_<verb>`` and from the service alike."""

import re

import pytest

from approvals import policies, services
from approvals.tests.enforcement_helpers import BASIS, bulk_grants, suspend
from approvals.tests.factories import refresh
from portal.errors import PortalError
from vendors.models import FrontierModel
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase
OTHERS = ["oncd_approver", "doc_reviewer", "officer", "auditor"]  # never the lead agency's approver


def only_lead(doing):
    return {role: f"Only an approver of the lead agency can {doing}." for role in OTHERS}


def agree(world, verb, obj, service, *, refused, allowed=()):
    """``can_<verb>`` says no exactly where ``require_<verb>`` and the service refuse, with the same
    message; then it says yes for each of ``allowed`` and the service accepts each of them."""
    can, require = getattr(policies, f"can_{verb}"), getattr(policies, f"require_{verb}")
    for role, message in refused.items():
        actor = world[role]
        assert can(actor, obj) is False, (verb, role)
        with pytest.raises(PortalError, match=re.escape(message)):
            require(actor, obj)
        with pytest.raises(PortalError, match=re.escape(message)):
            service(actor)
    for role in allowed:
        assert can(world[role], obj) is True, (verb, role)
        service(world[role])


def live_model(world):
    """The world's model in limited preview with one active grant, readable by the lead agency."""
    grant = bulk_grants(world, 1, share=True)[0]
    return refresh(world.frontier_model), grant


# ---------------------------------------------------------------------------------------------
# Suspension


def _suspend(world):
    return lambda actor: services.suspend_model(frontier_model=world.frontier_model, actor=actor, **BASIS)


def _lift(world):
    return lambda actor: services.lift_suspension(frontier_model=world.frontier_model, actor=actor, **BASIS)


def test_suspend_model_from_limited_preview(world):
    model, _ = live_model(world)
    agree(
        world,
        "suspend_model",
        model,
        _suspend(world),
        refused=only_lead("pull a model offline"),
        allowed=["doc_approver"],
    )
    assert refresh(model).release_phase == Phase.SUSPENDED


def test_suspend_model_when_already_suspended(world):
    live_model(world)
    suspend(world)
    model = refresh(world.frontier_model)
    refused = {**only_lead("pull a model offline"), "doc_approver": f"{model} is already suspended."}
    agree(world, "suspend_model", model, _suspend(world), refused=refused)


def test_suspend_model_the_lead_approver_cannot_read(world):
    model = FrontierModelFactory(vendor=world.vendor, release_phase=Phase.LIMITED_PREVIEW)
    refused = {"doc_approver": "You may not pull a model offline on this record."}
    service = lambda actor: services.suspend_model(frontier_model=model, actor=actor, **BASIS)  # noqa: E731
    agree(world, "suspend_model", model, service, refused=refused)


def test_lift_suspension_when_suspended(world):
    live_model(world)
    suspend(world)
    model = refresh(world.frontier_model)
    agree(
        world,
        "lift_suspension",
        model,
        _lift(world),
        refused=only_lead("lift a suspension"),
        allowed=["doc_approver"],
    )
    assert refresh(model).release_phase == Phase.LIMITED_PREVIEW


def test_lift_suspension_when_not_suspended(world):
    model, _ = live_model(world)
    refused = {
        **only_lead("lift a suspension"),
        "doc_approver": f"{model} is not suspended: there is nothing to lift.",
    }
    agree(world, "lift_suspension", model, _lift(world), refused=refused)


# ---------------------------------------------------------------------------------------------
# Revocation


def _revoke(grant):
    return lambda actor: services.revoke_grant(grant=grant, actor=actor, **BASIS)


@pytest.mark.parametrize("suspended", [False, True])
def test_revoke_an_active_or_suspended_grant(world, suspended):
    _, grant = live_model(world)
    if suspended:
        suspend(world)
    grant = refresh(grant)
    agree(
        world,
        "revoke_grant",
        grant,
        _revoke(grant),
        refused=only_lead("revoke a grant"),
        allowed=["doc_approver"],
    )
    assert refresh(grant).status == grant.Status.REVOKED


def test_revoke_a_revoked_grant(world):
    _, grant = live_model(world)
    services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    grant = refresh(grant)
    refused = {
        **only_lead("revoke a grant"),
        "doc_approver": f"The grant for {grant.partner_customer} is already revoked",
    }
    agree(world, "revoke_grant", grant, _revoke(grant), refused=refused)


# ---------------------------------------------------------------------------------------------
# Designation


def _designate(vendor):
    return lambda actor: services.designate_supply_chain_risk(vendor=vendor, actor=actor, **BASIS)


def _rescind(vendor):
    return lambda actor: services.rescind_designation(vendor=vendor, actor=actor, **BASIS)


def test_designate_an_active_vendor(world):
    live_model(world)
    vendor = refresh(world.vendor)
    agree(
        world,
        "designate_vendor",
        vendor,
        _designate(vendor),
        refused=only_lead("designate a vendor"),
        allowed=["doc_approver"],
    )
    assert refresh(vendor).is_supply_chain_risk


def test_designate_a_vendor_unknown_to_the_lead_agency(world):
    vendor = world.other_vendor
    known = "none of this vendor's models is known to your agency."
    refused = {"doc_approver": f"You may not designate a vendor: {known}"}
    agree(world, "designate_vendor", vendor, _designate(vendor), refused=refused)


def test_designated_vendor_is_rescinded_not_designated_again(world):
    live_model(world)
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    vendor = refresh(world.vendor)
    refused = {
        **only_lead("designate a vendor"),
        "doc_approver": f"{vendor} is already designated a supply-chain risk since",
    }
    agree(world, "designate_vendor", vendor, _designate(vendor), refused=refused)
    agree(
        world,
        "rescind_designation",
        vendor,
        _rescind(vendor),
        refused=only_lead("rescind a designation"),
        allowed=["doc_approver"],
    )
    assert not refresh(vendor).is_supply_chain_risk


def test_rescind_an_active_vendor(world):
    live_model(world)
    vendor = refresh(world.vendor)
    refused = {
        **only_lead("rescind a designation"),
        "doc_approver": f"{vendor} is not designated a supply-chain risk.",
    }
    agree(world, "rescind_designation", vendor, _rescind(vendor), refused=refused)


# ---------------------------------------------------------------------------------------------
# Clearance and findings


CLEARANCES = {
    "clear_for_limited_preview": ("clear it for limited preview", services.clear_for_limited_preview),
    "clear_for_general_availability": (
        "clear it for general availability",
        services.clear_for_general_availability,
    ),
    "decline_clearance": ("decide its pre-release review", services.decline_clearance),
}


def under_review(world, *, in_preview=False):
    """A frontier model submitted for pre-release review (or, ``in_preview``, cleared for limited
    preview and submitted again for general availability)."""
    model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3e26)
    EvidenceDocumentFactory(vendor=world.vendor, frontier_model=model)
    submit = lambda: services.submit_for_prerelease_review(  # noqa: E731
        frontier_model=model, actor=world["officer"], summary="Red team found limited uplift."
    )
    review = submit()
    if in_preview:
        services.clear_for_limited_preview(frontier_model=model, actor=world["doc_approver"], basis="Ok.")
        review = submit()
    return refresh(model), refresh(review)


def _clear(verb, model):
    service = CLEARANCES[verb][1]
    return lambda actor: service(frontier_model=model, actor=actor, basis="Mitigations verified.")


@pytest.mark.parametrize("verb", list(CLEARANCES))
def test_clearance_of_a_model_under_review(world, verb):
    model, _ = under_review(world)
    doing = CLEARANCES[verb][0]
    agree(world, verb, model, _clear(verb, model), refused=only_lead(doing), allowed=["doc_approver"])
    assert refresh(model).release_phase != Phase.IN_REVIEW


@pytest.mark.parametrize("verb", list(CLEARANCES))
def test_clearance_of_a_model_in_preview_asking_for_general_availability(world, verb):
    model, _ = under_review(world, in_preview=True)
    doing = CLEARANCES[verb][0]
    refused = only_lead(doing)
    allowed = ["doc_approver"]
    if verb == "clear_for_limited_preview":  # it is in preview already
        refused["doc_approver"] = f"{model} is “Limited preview”: you cannot {doing}."
        allowed = []
    agree(world, verb, model, _clear(verb, model), refused=refused, allowed=allowed)


@pytest.mark.parametrize("verb", list(CLEARANCES))
def test_clearance_with_no_review_open(world, verb):
    model, _ = under_review(world)
    services.decline_clearance(frontier_model=model, actor=world["doc_approver"], basis="No.")
    model = refresh(model)
    doing = CLEARANCES[verb][0]
    refused = {
        **only_lead(doing),
        "doc_approver": f"{model} is “Registered” with no pre-release review open: you cannot {doing}.",
    }
    agree(world, verb, model, _clear(verb, model), refused=refused)


def _finding(review):
    return lambda actor: services.record_review_finding(review=review, actor=actor, text="Uplift is limited.")


def test_findings_in_an_open_review(world):
    _, review = under_review(world)
    refused = {
        role: "Only agency reviewers and approvers record findings." for role in ("officer", "auditor")
    }
    agree(
        world,
        "record_review_finding",
        review,
        _finding(review),
        refused=refused,
        allowed=["doc_approver", "oncd_approver", "doc_reviewer"],
    )
    assert review.findings.count() == 3


def test_findings_in_a_closed_review(world):
    model, review = under_review(world)
    services.decline_clearance(frontier_model=model, actor=world["doc_approver"], basis="No.")
    review = refresh(review)
    closed = f"The review of {model} is closed (not cleared); findings can no longer be added."
    refused = {
        role: "Only agency reviewers and approvers record findings." for role in ("officer", "auditor")
    }
    refused.update({role: closed for role in ("doc_approver", "oncd_approver", "doc_reviewer")})
    agree(world, "record_review_finding", review, _finding(review), refused=refused)
