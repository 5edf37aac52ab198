"""The lead agency returns a request: as incomplete (the vendor fixes it and resubmits it under the
same tracking number, every clock restarting) or without action (closed undecided, for example
when a preview cap is full). Both from any review state, with reasons the vendor reads."""

from approvals import policies
from approvals.models import AccessRequest, Condition, Escalation, IntentToDeny, Position, Referral
from approvals.services._common import (
    _check_version,
    _clean_text,
    _lock_request,
    _person,
    _save_request,
    service,
)
from approvals.services._notify import _notify_vendor_and_officials, _referred_officials
from approvals.services.requests import _close_information_requests, _close_referrals
from portal.audit.history import stamp
from portal.errors import PortalError


def _return(access_request, *, actor, status, reason, closing, event, subject, what):
    reason = _clean_text(reason)
    if not reason:
        raise PortalError("Write the reasons: the vendor reads them.", field="reason")
    access_request.status = status
    access_request.closed_reason = reason
    access_request.on_hold = False  # a hold belongs to a review under way; a lifted suspension leaves it be
    _save_request(
        access_request,
        actor=actor,
        reason=f"{what} by the lead agency: {reason}",
        update_fields=["status", "closed_reason", "on_hold"],
    )
    _close_referrals(access_request, actor=actor, reason=closing)
    _close_information_requests(access_request, actor=actor, reason=closing)
    _notify_vendor_and_officials(
        access_request,
        _referred_officials(access_request),
        event=event,
        subject=subject,
        key=f"{access_request.pk}:{access_request.version}",
        context={"reason": reason, "returned_by": _person(actor)},
    )
    return access_request


@service
def return_incomplete(*, access_request, actor, reason, expected_version=None):
    """Send a request back to the vendor to complete; it keeps its tracking number, and on
    resubmission every agency's review starts again on a new clock."""
    access_request = _lock_request(access_request)
    policies.require_return_incomplete(actor, access_request)
    _check_version(access_request, expected_version)
    return _return(
        access_request,
        actor=actor,
        status=AccessRequest.Status.RETURNED_INCOMPLETE,
        reason=reason,
        closing="Closed: the request was returned as incomplete; it reopens when the vendor resubmits.",
        event="request_returned_incomplete",
        subject=f"Returned as incomplete: {access_request}",
        what="Returned as incomplete",
    )


@service
def return_without_action(*, access_request, actor, reason, expected_version=None):
    """Close a request without a decision, with reasons (the vendor may file a new request)."""
    access_request = _lock_request(access_request)
    policies.require_return_without_action(actor, access_request)
    _check_version(access_request, expected_version)
    return _return(
        access_request,
        actor=actor,
        status=AccessRequest.Status.RETURNED,
        reason=reason,
        closing="Closed: the request was returned without action.",
        event="request_returned",
        subject=f"Returned without action: {access_request}",
        what="Returned without action",
    )


def reopen_returned_review(access_request, routes, *, actor, now, today):
    """On resubmission of a request returned as incomplete: the agencies the rules name now review
    it afresh. Their earlier referrals reopen on a new clock (positions, conditions, an escalation
    and an intent to deny of the earlier review are superseded, and kept in history); an agency
    newly named gets a new referral. Returns ``[(referral, created)]``."""
    superseded = "Superseded: the request was returned as incomplete and resubmitted."
    for model in (Condition, Position):
        for row in model.objects.select_for_update().filter(
            **{"access_request" if model is Condition else "referral__access_request": access_request}
        ):
            stamp(row, actor=actor, reason=superseded)
            row.delete()
    for model in (IntentToDeny, Escalation):
        row = model.objects.select_for_update().filter(access_request=access_request).first()
        if row is not None:
            stamp(row, actor=actor, reason=superseded)
            row.delete()
    existing = {r.agency_id: r for r in access_request.referrals.select_for_update()}
    reopened = []
    for agency, required, routing_reason in routes:
        referral = existing.get(agency.pk)
        created = referral is None
        if created:
            referral = Referral(access_request=access_request, agency=agency)
        referral.required = required
        referral.routing_reason = routing_reason
        referral.status = Referral.Status.OPEN
        referral.referred_at = now
        referral.due_date = Referral.default_due_date(today)
        referral.clock_stopped_at = None
        referral.paused_days = 0
        reopened.append((referral, created))
    return reopened
