"""The vendor's verbs outside a request's lifecycle: submit a model for pre-release review, report
and complete an incident, answer a designation, renew a grant. ``require_<verb>`` for the services,
``can_<verb>`` for the vendor pages' buttons and panels (the same rule).
"""

from django.utils import timezone

from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Grant,
    PrereleaseReview,
)
from approvals.policies.common import VENDOR_ACTOR_ROLES, _asks, _may_read, _refuse
from portal import permissions
from vendors.models import FrontierModel

Phase = FrontierModel.ReleasePhase

# A renewal already drafted or under way blocks another; one that ended does not.
RENEWAL_CLOSED_STATUSES = (
    AccessRequest.Status.WITHDRAWN,
    AccessRequest.Status.RETURNED,
    AccessRequest.Status.DENIED,
)


def _date(value):
    return value.strftime("%B %-d, %Y")


def _require_team(actor, vendor, obj, action="view"):
    """Compliance officers and admins of ``vendor`` (reading ``obj``); viewers follow, never act."""
    if not (actor.is_active and actor.organisation_id == vendor.organisation_id):
        _refuse("Only the vendor's compliance team can do this.")
    if actor.role not in VENDOR_ACTOR_ROLES:
        _refuse("Viewers can follow the record but not act on it. Ask a compliance officer or admin.")
    readable = (
        _may_read(actor, obj) if action == "view" else permissions.has_object_permission(actor, obj, action)
    )
    if not readable:
        _refuse("You may not act on this record.")


def require_submit_for_prerelease_review(actor, frontier_model):
    _require_team(actor, frontier_model.vendor, frontier_model, "change")
    if frontier_model.release_phase not in (Phase.REGISTERED, Phase.LIMITED_PREVIEW):
        _refuse(
            f"{frontier_model} is “{frontier_model.get_release_phase_display()}”: only a registered model, "
            "or one in limited preview asking for general availability, can be submitted for review."
        )
    if PrereleaseReview.objects.filter(
        frontier_model=frontier_model, status=PrereleaseReview.Status.IN_REVIEW
    ).exists():
        _refuse(f"{frontier_model} is already under pre-release review.")
    if not frontier_model.is_frontier:
        _refuse(f"{frontier_model.frontier_reason} It needs no pre-release review.")


def require_report_incident(actor, frontier_model):
    _require_team(actor, frontier_model.vendor, frontier_model)
    if frontier_model.release_phase == Phase.REGISTERED:
        _refuse(
            f"{frontier_model} is only registered: nobody uses it yet. Report incidents of models in "
            "review, in preview or released."
        )


def require_complete_incident(actor, incident):
    _require_team(actor, incident.vendor, incident, "change")
    if incident.is_complete:
        _refuse(
            f"{incident.reference} was completed on {_date(timezone.localdate(incident.completed_at))}; "
            "report anything new as a new incident."
        )


def require_respond_to_designation(actor, action):
    _require_team(actor, action.vendor, action)
    if (
        action.kind != EnforcementAction.Kind.DESIGNATE_VENDOR
        or action.status != EnforcementAction.Status.IN_FORCE
    ):
        _refuse("There is no designation in force to answer.")
    if action.responded_at is not None:
        _refuse(
            f"Your answer was recorded on {_date(timezone.localdate(action.responded_at))}; "
            "it cannot be changed."
        )
    if timezone.localdate() > action.respond_by:
        _refuse(f"The window to answer closed on {_date(action.respond_by)}.")


def require_attest_cutoff(actor, suspension):
    _require_team(actor, suspension.vendor, suspension)
    if suspension.kind != EnforcementAction.Kind.SUSPEND_MODEL:
        _refuse("Only a suspension asks for an attestation that access was cut off.")
    if suspension.status != EnforcementAction.Status.IN_FORCE:
        _refuse(
            f"Suspension #{suspension.pk} is {suspension.get_status_display().lower()}: there is nothing "
            "to attest any more."
        )
    waiting = getattr(suspension, "attestations_waiting", None)
    if waiting is None:
        waiting = suspension.attestations.filter(attested_at__isnull=True).count()
    if not waiting:
        _refuse(f"The cut-off of every customer of suspension #{suspension.pk} is already attested.")


def require_renew_grant(actor, grant):
    _require_team(actor, grant.vendor, grant)
    if grant.status == Grant.Status.REVOKED:
        _refuse("A revoked grant cannot be renewed. File a new request if the grounds have changed.")
    if grant.status == Grant.Status.SUSPENDED:
        _refuse(
            f"The grant is suspended with {grant.frontier_model}; it can be renewed once the suspension "
            "is lifted."
        )
    existing = getattr(grant, "open_renewal", None)
    if existing is None and not hasattr(grant, "open_renewal"):
        existing = (
            AccessRequest.objects.filter(renewal_of=grant).exclude(status__in=RENEWAL_CLOSED_STATUSES).first()
        )
    if existing:
        _refuse(
            f"This grant's renewal is already under way: {existing} "
            f"({existing.get_status_display().lower()})."
        )


can_submit_for_prerelease_review = _asks(require_submit_for_prerelease_review, "submit the model for review")


can_report_incident = _asks(require_report_incident, "report an incident with the model")


can_complete_incident = _asks(require_complete_incident, "complete the incident report")


can_respond_to_designation = _asks(require_respond_to_designation, "answer the designation")


can_attest_cutoff = _asks(require_attest_cutoff, "attest that access was cut off")


can_renew_grant = _asks(require_renew_grant, "renew the grant")
