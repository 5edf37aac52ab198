"""Who acts for an agency: its administrators propose, a second one confirms (issue 13).

``propose_role_change``, ``propose_invitation`` and ``propose_two_person_rule`` write a
``StaffingChange``. A change that gives no one the power to sign or to decide who signs (a new
reviewer, a step down) takes effect at once; giving the approver or administrator role, and any
change of the two-person rule, waits for ``confirm_staffing_change`` by another administrator of
the agency. Every step is a history row with actor and reason; the change itself keeps the value
before and after. The agency's approvers and the auditors are mailed when a change takes effect.
"""

from django.urls import reverse
from django.utils import timezone

from approvals import policies
from approvals.models import Agency, StaffingChange
from approvals.services._common import _clean_text, _person, _save, service
from portal.accounts import services as account_services
from portal.accounts.models import Role, User
from portal.errors import PortalError
from portal.notifications.services import notify


def _reason(reason):
    reason = _clean_text(reason)
    if not reason:
        raise PortalError("Say why (kept in the history and sent to the agency's approvers).", field="reason")
    return reason


def staffing_change_link(change):
    return reverse("admin:approvals_staffingchange_change", args=[change.pk])


@service
def propose_role_change(*, person, role, actor, reason):
    """Propose ``role`` for ``person``, an official of the actor's agency."""
    person = User.objects.select_for_update().get(pk=person.pk)
    policies.require_change_official_role(actor, person, role)
    change = StaffingChange(
        agency=policies.agency_of(actor),
        kind=StaffingChange.Kind.ROLE,
        person=person,
        role_before=person.role,
        role_after=role,
        reason=_reason(reason),
        requested_by=actor,
    )
    return _propose(change, actor=actor)


@service
def propose_invitation(*, email, full_name, role, actor, reason):
    """Propose a new official of the actor's agency; they are invited when it takes effect."""
    agency = policies.agency_of(actor)
    policies.require_manage_staff(actor, agency)
    email = _clean_text(email).lower()
    if not email:
        raise PortalError("Enter the new official's e-mail address.", field="email")
    if not _clean_text(full_name):
        raise PortalError("Enter the new official's full name.", field="full_name")
    if role not in policies.CONFIRMED_ROLES | {Role.AGENCY_REVIEWER}:
        raise PortalError("Choose a role: reviewer, approver or agency administrator.", field="role")
    # An address with an account elsewhere gets the same answer as a new one (the change is
    # asked, or made); its owner is told by mail when it takes effect (``_apply``). Only one of
    # the agency's own officials, whom its administrators list anyway, is refused by name.
    if _own_official(agency, email):
        raise PortalError(f"{email} is already one of {agency.code}'s officials.", field="email")
    if StaffingChange.objects.filter(
        agency=agency, email=email, status=StaffingChange.Status.PENDING
    ).exists():
        raise PortalError(f"An invitation for {email} is already waiting for confirmation.", field="email")
    change = StaffingChange(
        agency=agency,
        kind=StaffingChange.Kind.INVITATION,
        email=email,
        full_name=" ".join(full_name.split()),
        role_after=role,
        reason=_reason(reason),
        requested_by=actor,
    )
    return _propose(change, actor=actor)


@service
def propose_two_person_rule(*, agency, requires_two_persons, actor, reason):
    """Propose switching the agency's two-person rule on or off (always confirmed by another)."""
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    policies.require_manage_staff(actor, agency)
    if agency.requires_two_persons == requires_two_persons:
        raise PortalError(
            f"The two-person rule is already {'on' if requires_two_persons else 'off'} at {agency.code}.",
            field="requires_two_persons",
        )
    if agency.staffing_changes.filter(
        kind=StaffingChange.Kind.TWO_PERSON_RULE, status=StaffingChange.Status.PENDING
    ).exists():
        raise PortalError("A change to the two-person rule is already waiting for confirmation.")
    change = StaffingChange(
        agency=agency,
        kind=StaffingChange.Kind.TWO_PERSON_RULE,
        two_persons_before=agency.requires_two_persons,
        two_persons_after=requires_two_persons,
        reason=_reason(reason),
        requested_by=actor,
    )
    return _propose(change, actor=actor)


def _propose(change, *, actor):
    _save(change, actor=actor, reason=f"Proposed by {_person(actor)}: {change.reason}")
    if policies.needs_confirmation(kind=change.kind, role_after=change.role_after):
        others = User.objects.filter(
            organisation_id=change.agency.organisation_id, role=Role.AGENCY_ADMIN, is_active=True
        ).exclude(pk__in=[actor.pk, change.person_id or 0])
        notify(
            event="staffing_change_proposed",
            recipients=list(others),
            subject=f"{change.agency.code}: a staffing change waits for your confirmation",
            context={"summary": change.summary(), "requester": _person(actor), "reason": change.reason},
            link=staffing_change_link(change),
            key=f"staffing:{change.pk}",
            object_label=change.agency.code,
        )
        return change
    return _apply(change, actor=actor, reason=change.reason)


@service
def confirm_staffing_change(*, change, actor, reason=""):
    """A second administrator of the agency confirms: the change takes effect now."""
    change = StaffingChange.objects.select_for_update().select_related("agency").get(pk=change.pk)
    policies.require_confirm_staffing_change(actor, change)
    change.decided_by = actor
    change.decided_at = timezone.now()
    change.decision_reason = _clean_text(reason)
    return _apply(change, actor=actor, reason=change.decision_reason or "Confirmed.")


@service
def reject_staffing_change(*, change, actor, reason):
    """An administrator of the agency rejects (or the requester withdraws) a pending change."""
    change = StaffingChange.objects.select_for_update().select_related("agency").get(pk=change.pk)
    policies.require_reject_staffing_change(actor, change)
    change.status = StaffingChange.Status.REJECTED
    change.decided_by = actor if actor.pk != change.requested_by_id else None
    change.decided_at = timezone.now()
    change.decision_reason = _reason(reason)
    _save(change, actor=actor, reason=f"Rejected by {_person(actor)}: {change.decision_reason}")
    notify(
        event="staffing_change_rejected",
        recipients=[change.requested_by],
        subject=f"{change.agency.code}: a staffing change was rejected",
        context={"summary": change.summary(), "decider": _person(actor), "reason": change.decision_reason},
        link=staffing_change_link(change),
        key=f"staffing:{change.pk}",
        object_label=change.agency.code,
    )
    return change


def _apply(change, *, actor, reason):
    agency = change.agency
    why = f"{change.get_kind_display()} asked by {_person(change.requested_by)} ({change.reason})"
    if change.decided_by_id:
        why += f", confirmed by {_person(actor)} ({reason})"
    if change.kind == StaffingChange.Kind.TWO_PERSON_RULE:
        agency = Agency.objects.select_for_update().get(pk=agency.pk)
        agency.requires_two_persons = change.two_persons_after
        _save(
            agency,
            actor=actor,
            reason=f"{why}; two-person rule {'on' if change.two_persons_after else 'off'}.",
            update_fields=["requires_two_persons"],
        )
    elif change.kind == StaffingChange.Kind.ROLE:
        person = User.objects.select_for_update().get(pk=change.person_id)
        if person.role != change.role_before or not person.is_active:
            raise PortalError(f"{person.email}'s account changed since this was asked; ask again.")
        account_services.change_role(user=person, role=change.role_after, actor=actor, reason=why)
    elif _own_official(agency, change.email):
        raise PortalError(f"{change.email} is already one of {agency.code}'s officials; reject this change.")
    elif (existing := User.objects.filter(email__iexact=change.email).first()) is not None:
        _tell_existing_account(existing, change=change)  # nothing changes for an account elsewhere
    else:
        change.person = account_services.invite_account(
            organisation=agency.organisation,
            email=change.email,
            full_name=change.full_name,
            role=change.role_after,
            actor=actor,
            reason=why,
        )
    change.status = StaffingChange.Status.APPLIED
    _save(change, actor=actor, reason=why)
    _announce(change, actor=actor)
    return change


def _own_official(agency, email):
    return User.objects.filter(email__iexact=email, organisation_id=agency.organisation_id).exists()


def _tell_existing_account(user, *, change):
    """The owner of an account in another organisation hears that this agency tried to invite
    the address (no sign-in link); the agency's administrators are told nothing more than for a
    new address (issue 19: no account enumeration)."""
    notify(
        event="team_invitation_existing_account",
        recipients=[user],
        subject=f"Someone tried to invite you to {change.agency.name} on the Frontier Access Portal",
        context={
            "vendor": change.agency.name,
            "inviter": _person(change.requested_by),
            "role": Role(change.role_after).label,
        },
        key=f"invite-existing:staffing:{change.pk}",
        object_label=change.agency.code,
    )


def _announce(change, *, actor):
    """The agency's approvers and the auditors (and the person concerned) hear of it."""
    recipients = User.objects.filter(is_active=True).filter(
        role__in=[Role.AGENCY_APPROVER, Role.AGENCY_ADMIN], organisation_id=change.agency.organisation_id
    ) | User.objects.filter(is_active=True, role=Role.AUDITOR)
    people = list(recipients.distinct())
    if change.person_id and change.kind == StaffingChange.Kind.ROLE:
        people.append(change.person)
    notify(
        event="staffing_change_applied",
        recipients=people,
        subject=f"{change.agency.code}: {change.summary()}",
        context={
            "summary": change.summary(),
            "requester": _person(change.requested_by),
            "decider": _person(actor) if change.decided_by_id else "",
            "reason": change.reason,
        },
        link=staffing_change_link(change),
        key=f"staffing:{change.pk}",
        object_label=change.agency.code,
    )
