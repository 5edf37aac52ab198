"""The lead agency's decision: snapshots, approval, escalation, intent to deny, denial."""

import hashlib
import json
from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from approvals import policies
from approvals.models import (
    GRANT_DAYS,
    INTENT_TO_DENY_DAYS,
    AccessRequest,
    Agency,
    Condition,
    Decision,
    Grant,
    IntentToDeny,
    Position,
    RequestDocument,
)
from approvals.policies import agency_of
from approvals.services._common import (
    _check_version,
    _clean_text,
    _date,
    _lock_request,
    _person,
    _save,
    _save_request,
    _typed,
    service,
)
from approvals.services._notify import (
    _lead_approvers,
    _notify_officials,
    _notify_vendor,
    _notify_vendor_and_officials,
    _referred_officials,
)
from approvals.services.escalation import _raise
from approvals.services.letters import issue_decision_letter, issue_intent_letter, letter_attachment
from approvals.services.referrals import _clean_conditions, _create_conditions
from approvals.services.requests import _close_referrals
from portal import permissions
from portal.accounts.models import Role
from portal.errors import PortalError
from vendors.models import EvidenceDocument, FrontierModel


def canonical_json(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def snapshot_sha256(snapshot):
    """The hash of a decision's snapshot, over its canonical JSON."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def decision_snapshot(access_request, conditions=()):
    """What was reviewed, as plain JSON: the request, its customer, its model and the positions.

    Only strings, integers, booleans and null, so that the stored snapshot hashes the same
    after a round trip through the database.
    """
    model = access_request.frontier_model
    customer = access_request.partner_customer
    vendor = access_request.vendor
    documents = RequestDocument.objects.filter(access_request=access_request).order_by("pk")
    evidence = EvidenceDocument.objects.filter(frontier_model=model).order_by("pk")
    referrals = access_request.referrals.select_related("agency", "position").order_by("agency__code")
    positions = []
    for referral in referrals:
        position = getattr(referral, "position", None)
        if position is not None and position.is_signed:
            positions.append(
                {
                    "agency": referral.agency.code,
                    "stance": position.stance,
                    "rationale": position.rationale,
                    "signed_at": position.signed_at.isoformat(),
                }
            )
    return {
        "request": {
            "tracking_number": access_request.tracking_number,
            "use_case": access_request.use_case,
            "scope": access_request.scope,
            "requested_duration_days": access_request.requested_duration_days,
            "submitted_at": access_request.submitted_at.isoformat() if access_request.submitted_at else None,
            "documents": [
                {
                    "title": d.title,
                    "filename": d.original_filename,
                    "sha256": d.sha256,
                    "size_bytes": d.size_bytes,
                }
                for d in documents
            ],
        },
        "vendor": {"legal_name": vendor.legal_name, "status": vendor.status},
        "customer": {
            "legal_name": customer.legal_name,
            "country": customer.country,
            "sector": customer.sector,
            "registration_id": customer.registration_id,
            "intended_use": customer.intended_use,
            "ownership": customer.ownership,
            "security_contact_name": customer.security_contact_name,
            "security_contact_email": customer.security_contact_email,
            "attestation": customer.attestation,
        },
        "model": {
            "name": model.name,
            "version": model.version,
            "description": model.description,
            # as text: a JSON float does not survive every database's JSON type unchanged
            "training_compute_flop": repr(float(model.training_compute_flop)),
            "capability_summary": model.capability_summary,
            "cyber_evaluation_summary": model.cyber_evaluation_summary,
            "intended_release": model.intended_release,
            "release_phase": model.release_phase,
            "evidence": [{"title": d.title, "sha256": d.sha256} for d in evidence],
        },
        "positions": positions,
        "conditions": [
            {
                "agency": c.agency.code,
                "kind": c.kind,
                "text": c.text,
                "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                "seat_cap": c.seat_cap,
            }
            for c in conditions
        ],
    }


def _require_within_preview_cap(access_request, today):
    """A model cleared for limited preview with a cap clears at most that many partner customers."""
    model = FrontierModel.objects.select_for_update(no_key=True).get(pk=access_request.frontier_model_id)
    if not model.preview_customer_cap:
        return
    cleared = set(
        Grant.objects.filter(
            frontier_model=model, status=Grant.Status.ACTIVE, valid_to__gte=today
        ).values_list("partner_customer_id", flat=True)
    )
    if access_request.partner_customer_id in cleared or len(cleared) < model.preview_customer_cap:
        return
    raise PortalError(
        f"{model} is cleared for limited preview for at most {model.preview_customer_cap} partner customers, "
        f"and {len(cleared)} already hold an active grant: {access_request} cannot be approved until one "
        "of those grants ends."
    )


def _decide(access_request, *, actor, outcome, rationale, conditions=()):
    """Record the decision with its snapshot, hash and letter; an approval also creates the grant."""
    now = timezone.now()
    today = timezone.localdate(now)
    if outcome == Decision.Outcome.APPROVED:
        _require_within_preview_cap(access_request, today)
    conditions = sorted(conditions, key=lambda c: (c.agency.code, c.pk))
    snapshot = decision_snapshot(access_request, conditions)
    grant = None
    valid_to = None
    if outcome == Decision.Outcome.APPROVED:
        days = min(GRANT_DAYS, access_request.requested_duration_days or GRANT_DAYS)
        valid_to = today + timedelta(days=days)
        expiries = [c.expires_on for c in conditions if c.kind == Condition.Kind.EXPIRY and c.expires_on]
        if expiries:
            valid_to = max(today, min([valid_to, *expiries]))
    letter = render_to_string(
        "approvals/letters/decision.txt",
        {
            "access_request": access_request,
            "outcome": outcome,
            "rationale": rationale,
            "conditions": conditions,
            "decided_by": actor,
            "decided_on": today,
            "valid_from": today,
            "valid_to": valid_to,
            "lead": agency_of(actor),
            "positions": snapshot["positions"],
        },
    )
    decision = Decision(
        access_request=access_request,
        outcome=outcome,
        rationale=rationale,
        decided_by=actor,
        decided_at=now,
        snapshot=snapshot,
        snapshot_sha256=snapshot_sha256(snapshot),
        letter_text=letter,
    )
    word = "Approved" if outcome == Decision.Outcome.APPROVED else "Denied"
    _save(decision, actor=actor, reason=_typed(f"{word} by {_person(actor)}.", "Rationale", rationale))
    decision.conditions.set(conditions)
    letter = issue_decision_letter(
        decision, conditions=conditions, valid_to=valid_to, positions=snapshot["positions"]
    )
    agencies = list(
        Agency.objects.filter(referrals__access_request=access_request).select_related("officials_group")
    )
    if outcome == Decision.Outcome.APPROVED:
        grant = Grant(
            decision=decision,
            access_request=access_request,
            vendor=access_request.vendor,
            frontier_model=access_request.frontier_model,
            partner_customer=access_request.partner_customer,
            valid_from=today,
            valid_to=valid_to,
            status=Grant.Status.ACTIVE,
            status_changed_at=now,
        )
        _save(grant, actor=actor, reason=f"Created by the approval of {access_request}.")
        grant.conditions.set(conditions)
        permissions.grant("view", access_request.vendor.members_group, grant)
        for agency in agencies:
            permissions.grant("view", agency.officials_group, grant)
    _close_referrals(access_request, actor=actor, reason="Closed by the decision.")
    access_request.status = (
        AccessRequest.Status.APPROVED if outcome == Decision.Outcome.APPROVED else AccessRequest.Status.DENIED
    )
    access_request.decided_at = now
    _save_request(
        access_request,
        actor=actor,
        reason=f"{word} by the lead agency; the decision letter was issued.",
        update_fields=["status", "decided_at"],
    )
    context = {
        "outcome": word.lower(),
        "valid_to": _date(valid_to) if valid_to else "",
        "reasons": rationale,
        "letter_reference": letter.reference,
        "conditions_count": len(conditions),
    }
    event = "decision_approved" if outcome == Decision.Outcome.APPROVED else "decision_denied"
    _notify_vendor_and_officials(
        access_request,
        _referred_officials(access_request),
        event=event,
        subject=f"Decision on {access_request}: {word.lower()}",
        key=str(decision.pk),
        context=context,
        attachment=letter_attachment(letter),
    )
    return decision


def _signed_conditions(access_request):
    return list(
        Condition.objects.filter(
            access_request=access_request, position__signed_at__isnull=False
        ).select_related("agency")
    )


@service
def record_decision(*, access_request, actor, rationale="", expected_version=None):
    """Approve a request every required agency concurs with, carrying all their conditions."""
    access_request = _lock_request(access_request)
    policies.require_record_decision(actor, access_request)
    _check_version(access_request, expected_version)
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.APPROVED,
        rationale=_clean_text(rationale),
        conditions=_signed_conditions(access_request),
    )


@service
def escalate_request(*, access_request, actor, reason, expected_version=None):
    """Raise a case with a signed non-concurrence for the lead agency's approver to resolve."""
    access_request = _lock_request(access_request)
    policies.require_escalate(actor, access_request)
    _check_version(access_request, expected_version)
    reason = _clean_text(reason)
    if not reason:
        raise PortalError("Say why the case is escalated.", field="reason")
    _raise(
        access_request,
        actor=actor,
        reason=reason,
        officials=_referred_officials(access_request, {Role.AGENCY_APPROVER}),
        history_reason=_typed(f"Escalated by {_person(actor)}.", "Reason", reason),
    )
    return access_request


RESOLUTIONS = {
    "approve": "Approve",
    "approve_with_conditions": "Approve with further conditions",
    "intent_to_deny": "Issue an intent to deny",
}


@service
def resolve_escalation(*, access_request, actor, outcome, rationale, conditions=(), expected_version=None):
    """Resolve an escalated case: approve (possibly with more conditions) or announce an intent to deny."""
    access_request = _lock_request(access_request)
    policies.require_resolve_escalation(actor, access_request)
    lead = agency_of(actor)
    _check_version(access_request, expected_version)
    if outcome not in RESOLUTIONS:
        raise PortalError("Choose how to resolve the escalation.", field="outcome")
    rationale = _clean_text(rationale)
    if not rationale:
        raise PortalError("Write the rationale for the resolution.", field="rationale")
    if outcome == "intent_to_deny":
        existing = IntentToDeny.objects.filter(access_request=access_request).first()
        if existing is not None:
            raise PortalError(
                f"An intent to deny was already issued on {_date(timezone.localdate(existing.issued_at))}."
            )
        if conditions and any(_clean_text(c.get("text")) for c in conditions):
            raise PortalError("An intent to deny carries no conditions.", field="conditions")
        today = timezone.localdate()
        respond_by = today + timedelta(days=INTENT_TO_DENY_DAYS)
        intent = _save(
            IntentToDeny(
                access_request=access_request, reasons=rationale, issued_by=actor, respond_by=respond_by
            ),
            actor=actor,
            reason=_typed(f"Intent to deny issued by {_person(actor)}.", "Reasons", rationale),
        )
        letter = issue_intent_letter(intent)
        _save_request(
            access_request,
            actor=actor,
            reason=f"Intent to deny issued; the vendor may respond by {_date(respond_by)}.",
            update_fields=[],
        )
        _notify_vendor(
            access_request,
            event="intent_to_deny",
            subject=f"Intent to deny {access_request}: respond by {_date(respond_by)}",
            key=str(intent.pk),
            context={
                "reasons": rationale,
                "respond_by": _date(respond_by),
                "letter_reference": letter.reference,
            },
            attachment=letter_attachment(letter),
        )
        return intent
    extra = _clean_conditions(
        conditions,
        Position.Stance.CONCUR_WITH_CONDITIONS
        if outcome == "approve_with_conditions"
        else Position.Stance.CONCUR,
    )
    added = _create_conditions(
        extra,
        access_request=access_request,
        agency=lead,
        actor=actor,
        reason=f"Condition added by {_person(actor)} in resolving the escalation.",
    )
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.APPROVED,
        rationale=rationale,
        conditions=_signed_conditions(access_request) + added,
    )


@service
def respond_to_intent_to_deny(*, access_request, actor, response, expected_version=None):
    """The vendor answers an intent to deny within its window."""
    access_request = _lock_request(access_request)
    intent = IntentToDeny.objects.select_for_update().filter(access_request=access_request).first()
    policies.require_respond_to_intent(actor, access_request)
    _check_version(access_request, expected_version)
    response = _clean_text(response)
    if not response:
        raise PortalError("Write your response.", field="response")
    intent.vendor_response = response
    intent.responded_by = actor
    intent.responded_at = timezone.now()
    intent.status = IntentToDeny.Status.RESPONDED
    _save(intent, actor=actor, reason=_typed(f"Response by {_person(actor)}.", "Response", response))
    _save_request(
        access_request, actor=actor, reason="The vendor responded to the intent to deny.", update_fields=[]
    )
    _notify_officials(
        access_request,
        _lead_approvers(),
        event="intent_to_deny_response",
        subject=f"The vendor responded to the intent to deny {access_request}",
        key=str(intent.pk),
    )
    return intent


@service
def finalise_denial(*, access_request, actor, rationale="", expected_version=None):
    """Deny after the vendor has responded to the intent to deny or its window has closed."""
    access_request = _lock_request(access_request)
    intent = IntentToDeny.objects.select_for_update().filter(access_request=access_request).first()
    policies.require_finalise_denial(actor, access_request)
    _check_version(access_request, expected_version)
    today = timezone.localdate()
    if intent.status == IntentToDeny.Status.AWAITING_RESPONSE:
        if today <= intent.respond_by:
            raise PortalError(
                f"The vendor has until {_date(intent.respond_by)} to respond; the denial can be finalised "
                "after they respond or the window closes."
            )
        intent.status = IntentToDeny.Status.WINDOW_CLOSED
        _save(
            intent,
            actor=actor,
            reason="The window to respond closed without a response.",
            update_fields=["status"],
        )
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.DENIED,
        rationale=_clean_text(rationale) or intent.reasons,
    )
