"""Escalation as designed: once every required agency has signed, any non-concurrence escalates
the case by itself, and the lead agency's approvers are mailed "escalated" (never "ready for
decision")."""

from approvals.models import AccessRequest, Escalation, Referral
from approvals.policies import non_concurring_positions
from approvals.services._common import _person, _save, _save_request
from approvals.services._notify import (
    _lead_approvers,
    _notify_officials,
    _notify_vendor_and_officials,
    _referred_officials,
)
from portal.accounts.models import Role


def _raise(access_request, *, actor, reason, officials, history_reason):
    """Record the escalation, move the case to "escalated" and tell both sides."""
    _save(
        Escalation(access_request=access_request, raised_by=actor, reason=reason),
        actor=actor,
        reason=history_reason,
    )
    access_request.status = AccessRequest.Status.ESCALATED
    _save_request(
        access_request,
        actor=actor,
        reason="Escalated: the agencies did not all concur.",
        update_fields=["status"],
    )
    _notify_vendor_and_officials(
        access_request,
        officials,
        event="request_escalated",
        subject=f"Escalated for resolution: {access_request}",
        key=str(access_request.pk),
        official_subject=f"Escalated: {access_request}",
        official_context={"reason": reason},
    )


def escalate_or_announce_ready(access_request, *, actor):
    """After a position is signed: when every required agency has signed, escalate the case if any
    agency does not concur (automatically), else mail the lead approvers that it is ready."""
    waiting = access_request.referrals.filter(required=True).exclude(
        status__in=(Referral.Status.SIGNED, Referral.Status.CLOSED)
    )
    if waiting.exists():
        return
    objections = non_concurring_positions(access_request)
    if objections and access_request.status in (
        AccessRequest.Status.SUBMITTED,
        AccessRequest.Status.IN_REVIEW,
    ):
        reason = "; ".join(f"{p.referral.agency.code} does not concur: {p.rationale}" for p in objections)
        approvers = {o.pk: o for o in _lead_approvers()}
        approvers.update({o.pk: o for o in _referred_officials(access_request, {Role.AGENCY_APPROVER})})
        _raise(
            access_request,
            actor=actor,
            reason=reason,
            officials=list(approvers.values()),
            history_reason=f"Escalated automatically when {_person(actor)} signed the last position.",
        )
        return
    if not objections:
        _notify_officials(
            access_request,
            _lead_approvers(),
            event="ready_for_decision",
            subject=f"Ready for decision: {access_request}",
            key=str(access_request.pk),
        )
