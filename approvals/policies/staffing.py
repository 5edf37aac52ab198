"""Who decides who acts for an agency (separation of duties, issue 13).

An agency's own administrators (the agency-admin role) propose changes to its officials' roles
and to its two-person rule. Giving the approver or administrator role, and any change of the
two-person rule, waits for a *second* administrator of the agency: neither the one who asked nor
the person concerned may confirm it. Administrators sign nothing (they are not reviewers or
approvers), portal administrators and the superuser flag decide nothing here, and nobody changes
their own role, so no single account can both change who may sign for an agency and sign for it.
"""

from approvals.models import Agency, StaffingChange
from approvals.policies.common import _asks, _refuse, agency_of
from portal.accounts.models import AGENCY_ROLES, Role

# Roles whose grant needs a second administrator's confirmation.
CONFIRMED_ROLES = frozenset({Role.AGENCY_APPROVER, Role.AGENCY_ADMIN})


def needs_confirmation(*, kind, role_after=None):
    return kind == StaffingChange.Kind.TWO_PERSON_RULE or role_after in CONFIRMED_ROLES


def is_agency_admin(user, agency=None):
    """An active administrator of ``agency`` (of any agency when ``agency`` is None)."""
    if user is None or not user.is_authenticated or not user.is_active or user.role != Role.AGENCY_ADMIN:
        return False
    mine = agency_of(user)
    return mine is not None and (agency is None or mine.pk == agency.pk)


def require_manage_staff(actor, agency):
    """An administrator of ``agency`` may propose changes to who acts for it."""
    if not isinstance(agency, Agency) or not is_agency_admin(actor, agency):
        _refuse("Only an administrator of the agency decides who reviews and approves for it.")


def require_change_official_role(actor, person, role=None):
    """Propose a new role for ``person``, an official of the actor's agency (not the actor)."""
    agency = agency_of(actor)
    require_manage_staff(actor, agency)
    if person.pk == actor.pk:
        _refuse("Nobody may change their own role; another administrator of your agency can.", field="role")
    if person.organisation_id != agency.organisation_id or person.role not in AGENCY_ROLES:
        _refuse("That person is not an official of your agency.", field="person")
    if not person.is_active:
        _refuse(f"{person.email} is deactivated; their role cannot be changed.", field="person")
    if role is not None:
        if role not in AGENCY_ROLES:
            _refuse("Choose a role: reviewer, approver or agency administrator.", field="role")
        if role == person.role:
            _refuse(f"{person.email} is already {Role(role).label.lower()}.", field="role")
    if StaffingChange.objects.filter(person=person, status=StaffingChange.Status.PENDING).exists():
        _refuse(f"A change to {person.email}'s role is already waiting for confirmation.", field="person")


def require_confirm_staffing_change(actor, change):
    """A second administrator of the agency confirms (or rejects) a pending change."""
    require_manage_staff(actor, change.agency)
    if change.status != StaffingChange.Status.PENDING:
        _refuse("This change has already been decided.")
    if change.requested_by_id == actor.pk:
        _refuse("A second administrator of your agency must confirm a change you asked for.")
    if change.person_id == actor.pk:
        _refuse("Nobody may confirm a change to their own role.")


def require_reject_staffing_change(actor, change):
    """Any administrator of the agency (including the one who asked) may withdraw or reject it."""
    require_manage_staff(actor, change.agency)
    if change.status != StaffingChange.Status.PENDING:
        _refuse("This change has already been decided.")


can_manage_staff = _asks(require_manage_staff, "decide who acts for the agency")
can_confirm_staffing_change = _asks(require_confirm_staffing_change, "confirm a staffing change")
can_reject_staffing_change = _asks(require_reject_staffing_change, "reject a staffing change")
