"""One agency's review: assigning officials, drafting and signing its position, internal notes."""

from django.utils import timezone

from approvals import policies
from approvals.models import (
    Condition,
    InternalNote,
    Position,
    Referral,
)
from approvals.policies import REVIEW_ROLES, agency_of
from approvals.selectors.people import agency_officials
from approvals.services._common import (
    _check_version,
    _clean_text,
    _date,
    _lock_referral,
    _lock_request,
    _person,
    _save,
    _save_request,
    _typed,
    service,
)
from approvals.services._notify import _notify_officials
from approvals.services.escalation import escalate_or_announce_ready
from approvals.services.routing import _start_review
from portal import permissions
from portal.accounts.models import Role
from portal.audit.history import stamp
from portal.errors import PortalError


@service
def assign_officials(*, referral, actor, officials, expected_version=None):
    """Name the officials who work a referral; assignment lets a reviewer draft its position.

    Approvers and agency administrators assign anyone of their agency; a reviewer may only
    take the referral on themselves.
    """
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    policies.require_assign_officials(actor, referral)
    _check_version(access_request, expected_version)
    officials = list(officials)
    if not officials:
        raise PortalError("Choose at least one official.", field="officials")
    for official in officials:
        if agency_of(official) != agency or official.role not in REVIEW_ROLES or not official.is_active:
            raise PortalError(
                f"{_person(official)} is not a reviewer or approver of {agency.code}.", field="officials"
            )
    current = set(referral.assigned_officials.all())
    if actor.role == Role.AGENCY_REVIEWER:
        if set(officials) != {actor}:
            raise PortalError("Reviewers can assign a referral only to themselves.", field="officials")
        wanted = current | {actor}
    else:
        wanted = set(officials)
    if wanted == current:
        raise PortalError("Those officials are already assigned.", field="officials")
    names = ", ".join(sorted(_person(o) for o in wanted))
    stamp(referral, actor=actor, reason=f"Assigned to {names} by {_person(actor)}.")
    referral.assigned_officials.set(wanted)
    for official in wanted - current:
        permissions.grant("change", official, referral)
    for official in current - wanted:
        permissions.revoke("change", official, referral)
    _start_review(access_request, actor=actor, agency=agency)
    _notify_officials(
        access_request,
        [o for o in wanted - current if o != actor],
        event="referral_assigned",
        subject=f"Assigned to you: {access_request} ({agency.code})",
        key=f"{referral.pk}:{referral.history.count()}",
        context={"agency": agency.code, "due_date": _date(referral.due_date), "assigned_by": _person(actor)},
    )
    return referral


@service
def assign_to_me(*, referral, actor):
    """ "Assign to me", one click: ``actor`` joins the referral's officials as they are now, read
    under the lock, so that nobody assigned meanwhile is dropped. It asks no page version: taking a
    referral on oneself is right whatever else changed on the case. Returns ``(referral, added)``;
    ``added`` is False when ``actor`` was already on it (a second tab), and nothing changes."""
    access_request, referral = _lock_referral(referral)
    policies.require_assign_officials(actor, referral)
    if actor.role not in REVIEW_ROLES:
        raise PortalError("Only reviewers and approvers take referrals on themselves.")
    current = set(referral.assigned_officials.all())
    if actor in current:
        return referral, False
    wanted = current | {actor}
    names = ", ".join(sorted(_person(o) for o in wanted))
    stamp(referral, actor=actor, reason=f"{_person(actor)} took the referral on; assigned to {names}.")
    referral.assigned_officials.set(wanted)
    permissions.grant("change", actor, referral)
    _start_review(access_request, actor=actor, agency=referral.agency)
    return referral, True


def _clean_conditions(conditions, stance):
    """Check proposed conditions: ``[{kind, text, expires_on, seat_cap}]``."""
    cleaned = []
    for index, raw in enumerate(conditions or [], start=1):
        kind = raw.get("kind") or Condition.Kind.TEXT
        text = _clean_text(raw.get("text"))
        if not text and kind == Condition.Kind.TEXT:
            continue
        if kind not in Condition.Kind.values:
            raise PortalError(f"Condition {index}: choose what kind of condition it is.", field="conditions")
        if kind != Condition.Kind.TEXT and not text:
            text = Condition.Kind(kind).label
        item = {
            "kind": kind,
            "text": text,
            "expires_on": raw.get("expires_on"),
            "seat_cap": raw.get("seat_cap"),
        }
        if kind == Condition.Kind.EXPIRY and not item["expires_on"]:
            raise PortalError(f"Condition {index}: give the date access expires.", field="conditions")
        if kind == Condition.Kind.EXPIRY and item["expires_on"] <= timezone.localdate():
            raise PortalError(
                f"Condition {index}: the expiry date must be in the future.", field="conditions"
            )
        if kind == Condition.Kind.SEAT_CAP and not item["seat_cap"]:
            raise PortalError(f"Condition {index}: give the number of seats.", field="conditions")
        cleaned.append(item)
    if stance == Position.Stance.CONCUR_WITH_CONDITIONS and not cleaned:
        raise PortalError("State at least one condition, or concur without conditions.", field="conditions")
    if stance in (Position.Stance.CONCUR, Position.Stance.NON_CONCUR) and cleaned:
        raise PortalError(
            "Conditions belong with “Concur with conditions”: choose that position or remove them.",
            field="conditions",
        )
    return cleaned


def _create_conditions(items, *, access_request, agency, actor, position=None, reason):
    created = []
    for item in items:
        condition = Condition(
            access_request=access_request,
            agency=agency,
            position=position,
            kind=item["kind"],
            text=item["text"],
            expires_on=item["expires_on"] if item["kind"] == Condition.Kind.EXPIRY else None,
            seat_cap=item["seat_cap"] if item["kind"] == Condition.Kind.SEAT_CAP else None,
            created_by=actor,
        )
        created.append(_save(condition, actor=actor, reason=reason))
    return created


@service
def draft_position(
    *, referral, actor, stance, rationale="", conditions=(), expected_version=None, announce=True
):
    """Draft (or redraft) the agency's position; an approver then signs it.

    Reviewers draft on referrals assigned to them; approvers of the agency on any of its
    referrals.
    """
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    policies.require_draft_position(actor, referral)
    _check_version(access_request, expected_version)
    if stance not in Position.Stance.values:
        raise PortalError("Choose concur, concur with conditions, or do not concur.", field="stance")
    rationale = _clean_text(rationale)
    if stance == Position.Stance.NON_CONCUR and not rationale:
        raise PortalError(
            "Explain why the agency does not concur: a rationale is required.", field="rationale"
        )
    items = _clean_conditions(conditions, stance)
    position = Position.objects.select_for_update().filter(referral=referral).first()
    redraft = position is not None
    label = Position.Stance(stance).label.lower()
    reason = f"Position {'redrafted' if redraft else 'drafted'} by {_person(actor)}: {label}."
    reason = _typed(reason, "Rationale", rationale)
    if redraft:
        for old in position.conditions.all():
            stamp(old, actor=actor, reason="Replaced by the redrafted position.")
            old.delete()
        position.stance, position.rationale = stance, rationale
        position.drafted_by, position.drafted_at = actor, timezone.now()
        _save(position, actor=actor, reason=reason)
    else:
        position = _save(
            Position(referral=referral, stance=stance, rationale=rationale, drafted_by=actor),
            actor=actor,
            reason=reason,
        )
    _create_conditions(
        items, access_request=access_request, agency=agency, actor=actor, position=position, reason=reason
    )
    if referral.status != Referral.Status.DRAFTED:
        referral.status = Referral.Status.DRAFTED
        _save(referral, actor=actor, reason=reason, update_fields=["status"])
    _start_review(access_request, actor=actor, agency=agency)
    if not announce:  # signed in the same step: nothing waits for another approver
        return position
    _notify_officials(
        access_request,
        [o for o in agency_officials(agency, {Role.AGENCY_APPROVER}) if o != actor],
        event="position_drafted",
        subject=f"Position to sign: {access_request} ({agency.code})",
        key=f"{position.pk}:{position.history.count()}",
        context={"agency": agency.code, "stance": label, "drafted_by": _person(actor)},
    )
    return position


@service
def draft_and_sign_position(*, referral, actor, stance, rationale="", conditions=(), expected_version=None):
    """One step for an approver of an agency without the two-person rule: the position is drafted
    and signed at once (final, and visible to the other agencies)."""
    _, referral = _lock_referral(referral)
    policies.require_draft_and_sign(actor, referral)
    position = draft_position(
        referral=referral,
        actor=actor,
        stance=stance,
        rationale=rationale,
        conditions=conditions,
        expected_version=expected_version,
        announce=False,
    )
    return sign_position(referral=referral, actor=actor, expected_drafted_at=position.drafted_at.isoformat())


@service
def sign_position(*, referral, actor, expected_drafted_at=None):
    """Sign the agency's drafted position: it becomes final and visible to the other agencies."""
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    position = Position.objects.select_for_update().filter(referral=referral).first()
    policies.require_sign_position(actor, referral)
    if expected_drafted_at and expected_drafted_at != position.drafted_at.isoformat():
        raise PortalError(
            "The draft was changed after you opened it. Nothing was signed: read the new draft and sign "
            "again."
        )
    position.signed_by, position.signed_at = actor, timezone.now()
    reason = f"Position signed by {_person(actor)}: {position.get_stance_display().lower()}."
    _save(position, actor=actor, reason=reason, update_fields=["signed_by", "signed_at"])
    referral.status = Referral.Status.SIGNED
    _save(referral, actor=actor, reason=reason, update_fields=["status"])
    _save_request(
        access_request, actor=actor, reason=f"{agency.code} completed its review.", update_fields=[]
    )
    escalate_or_announce_ready(access_request, actor=actor)
    return position


@service
def add_internal_note(*, access_request, actor, body):
    """An agency's internal note on a case: its own officials (and auditors) read it, nobody else."""
    access_request = _lock_request(access_request)
    policies.require_add_note(actor, access_request)
    agency = agency_of(actor)
    body = _clean_text(body)
    if not body:
        raise PortalError("Write the note.", field="body")
    note = InternalNote(access_request=access_request, agency=agency, author=actor, body=body)
    return _save(note, actor=actor, reason=f"Internal note by {_person(actor)} ({agency.code}).")
