"""The lead agency's enforcement and clearance verbs, and findings by any agency's officials:
``require_<verb>`` on a model, a grant, a vendor or a review; ``can_<verb>`` for the buttons.
"""

from django.utils import timezone

from approvals.models import (
    EnforcementAction,
    Grant,
    PrereleaseReview,
)
from approvals.policies.common import (
    _asks,
    _may_read,
    _once,
    _refuse,
    may_enforce,
    may_record_findings,
    require_lead_approver,
)
from portal import permissions
from portal.errors import PortalError
from vendors.models import FrontierModel

Phase = FrontierModel.ReleasePhase


ENDED_GRANT_STATUSES = (Grant.Status.REVOKED, Grant.Status.EXPIRED)


def _date(value):
    return value.strftime("%B %-d, %Y")


def _suspension_in_force(actor, frontier_model):
    """The model's suspension in force (of the whole model or of chosen customers), or ``None``;
    read once per page (``one_page(suspensions=…)``)."""
    return _once(
        actor,
        ("suspension", frontier_model.pk),
        lambda: EnforcementAction.objects.filter(
            frontier_model=frontier_model,
            kind=EnforcementAction.Kind.SUSPEND_MODEL,
            status=EnforcementAction.Status.IN_FORCE,
        ).first(),
    )


def require_suspend_model(actor, frontier_model):
    require_lead_approver(actor, "pull a model offline", frontier_model)
    if frontier_model.release_phase == Phase.SUSPENDED:
        _refuse(f"{frontier_model} is already suspended.")
    suspension = _suspension_in_force(actor, frontier_model)
    if suspension is not None:  # a suspension of chosen customers: lift it before taking another
        _refuse(
            f"{frontier_model} is already suspended for {suspension.scope or 'every customer'} "
            f"(action #{suspension.pk}, {_date(timezone.localdate(suspension.taken_at))}): lift that "
            "suspension before taking another."
        )


def require_lift_suspension(actor, frontier_model):
    require_lead_approver(actor, "lift a suspension", frontier_model)
    if _suspension_in_force(actor, frontier_model) is None:
        _refuse(f"{frontier_model} is not suspended: there is nothing to lift.")


def _require_grant_in_force(grant):
    if grant.status in ENDED_GRANT_STATUSES:
        _refuse(
            f"The grant for {grant.partner_customer} is already {grant.get_status_display().lower()} "
            f"(since {_date(timezone.localdate(grant.status_changed_at))})."
        )


def require_revoke_grant(actor, grant):
    require_lead_approver(actor, "revoke a grant", grant)
    _require_grant_in_force(grant)


def _require_not_designated(vendor):
    if vendor.is_supply_chain_risk:
        since = f" since {_date(timezone.localdate(vendor.designated_at))}" if vendor.designated_at else ""
        _refuse(f"{vendor} is already designated a supply-chain risk{since}.")


def _require_designated(vendor):
    if not vendor.is_supply_chain_risk:
        _refuse(f"{vendor} is not designated a supply-chain risk.")


def require_designate_vendor(actor, vendor):
    require_lead_approver(actor, "designate a vendor", vendor=vendor)
    _require_not_designated(vendor)


def require_rescind_designation(actor, vendor):
    require_lead_approver(actor, "rescind a designation", vendor=vendor)
    _require_designated(vendor)


def open_review(frontier_model):
    """The model's pre-release review in progress, or ``None``."""
    return PrereleaseReview.objects.filter(
        frontier_model=frontier_model, status=PrereleaseReview.Status.IN_REVIEW
    ).first()


def _require_clearance(actor, frontier_model, *, doing, phases):
    require_lead_approver(actor, doing, frontier_model)
    review = _once(actor, ("open_review", frontier_model.pk), lambda: open_review(frontier_model))
    if review is None or frontier_model.release_phase not in phases:
        _refuse(
            f"{frontier_model} is “{frontier_model.get_release_phase_display()}”"
            f"{'' if review is not None else ' with no pre-release review open'}: you cannot {doing}."
        )


CLEARANCES = {  # verb: (what it does, the phases it is taken from)
    "clear_for_limited_preview": ("clear it for limited preview", (Phase.IN_REVIEW,)),
    "clear_for_general_availability": (
        "clear it for general availability",
        (Phase.IN_REVIEW, Phase.LIMITED_PREVIEW),
    ),
    "decline_clearance": ("decide its pre-release review", (Phase.IN_REVIEW, Phase.LIMITED_PREVIEW)),
}


def require_clear_for_limited_preview(actor, frontier_model):
    doing, phases = CLEARANCES["clear_for_limited_preview"]
    _require_clearance(actor, frontier_model, doing=doing, phases=phases)


def require_clear_for_general_availability(actor, frontier_model):
    doing, phases = CLEARANCES["clear_for_general_availability"]
    _require_clearance(actor, frontier_model, doing=doing, phases=phases)


def require_decline_clearance(actor, frontier_model):
    doing, phases = CLEARANCES["decline_clearance"]
    _require_clearance(actor, frontier_model, doing=doing, phases=phases)


def require_record_review_finding(actor, review):
    if not may_record_findings(actor):
        _refuse("Only agency reviewers and approvers record findings.")
    if not _may_read(actor, review):
        _refuse("You may not record findings in this review.")
    if not review.is_open:
        _refuse(
            f"The review of {review.frontier_model} is closed ({review.get_status_display().lower()}); "
            "findings can no longer be added."
        )


def _passes(check, *args):
    try:
        check(*args)
    except PortalError:
        return False
    return True


def revocable_grants(user, grants):
    """The pks among ``grants`` that ``can_revoke_grant`` allows, in one query for a page of rows:
    the same guards (a lead approver, who may read the grant, which is still in force)."""
    if not may_enforce(user) or not grants:
        return set()
    readable = set(
        permissions.visible_to(user, Grant.objects.filter(pk__in=[g.pk for g in grants])).values_list(
            "pk", flat=True
        )
    )
    return {g.pk for g in grants if g.pk in readable and _passes(_require_grant_in_force, g)}


def designation_verbs(user, vendors):
    """``{vendor pk: "designate_vendor" or "rescind_designation"}`` for the vendors among ``vendors``
    on which ``can_designate_vendor`` or ``can_rescind_designation`` allows, in one query: the same
    guards (a lead approver who knows one of the vendor's models; the vendor's status)."""
    if not may_enforce(user) or not vendors:
        return {}
    known = set(
        permissions.visible_to(user, FrontierModel.objects.filter(vendor__in=[v.pk for v in vendors]))
        .values_list("vendor_id", flat=True)
        .distinct()
    )
    if getattr(user, "sees_everything", False):
        known = {v.pk for v in vendors}
    states = {"designate_vendor": _require_not_designated, "rescind_designation": _require_designated}
    return {
        v.pk: verb for v in vendors if v.pk in known for verb, state in states.items() if _passes(state, v)
    }


can_suspend_model = _asks(require_suspend_model, "pull the model offline")


can_lift_suspension = _asks(require_lift_suspension, "lift the model's suspension")


can_revoke_grant = _asks(require_revoke_grant, "revoke the grant")


can_designate_vendor = _asks(require_designate_vendor, "designate the vendor a supply-chain risk")


can_rescind_designation = _asks(require_rescind_designation, "rescind the vendor's designation")


can_clear_for_limited_preview = _asks(
    require_clear_for_limited_preview, "clear the model for limited preview"
)


can_clear_for_general_availability = _asks(
    require_clear_for_general_availability, "clear the model for general availability"
)


can_decline_clearance = _asks(require_decline_clearance, "decline the model's clearance")


can_record_review_finding = _asks(require_record_review_finding, "record a finding in the review")
