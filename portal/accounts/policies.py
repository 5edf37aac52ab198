"""Who may give whom which role: separation of duties (issue 13).

Portal administrators run the portal: organisations, agencies' existence, routing rules and
accounts of the operator and the oversight office. They never hold a role in a case and never
decide who acts in one; the one exception is the *first* administrator of a new agency or
vendor, whom they invite so that the organisation can run itself from then on. Who reviews or
approves for an agency is decided by that agency's own administrators (``approvals.policies``
adds the second administrator's confirmation); a vendor's team by its compliance admins.
The superuser flag belongs to portal administrators only (a database constraint) and grants
nothing in a case: every case rule asks the role, never the flag.
"""

from portal.accounts.models import AGENCY_ROLES, VENDOR_ROLES, Organisation, Role, User
from portal.errors import PortalError
from portal.text import end_sentence

CASE_ROLES = frozenset(AGENCY_ROLES | VENDOR_ROLES)
FIRST_ADMIN_ROLE = {
    Organisation.Kind.AGENCY: Role.AGENCY_ADMIN,
    Organisation.Kind.VENDOR: Role.VENDOR_ADMIN,
}
OPERATOR_ROLES_BY_KIND = {
    Organisation.Kind.OPERATOR: {Role.PORTAL_ADMIN},
    Organisation.Kind.OVERSIGHT: {Role.AUDITOR},
}


def has_active_admin(organisation):
    role = FIRST_ADMIN_ROLE.get(organisation.kind)
    return role is not None and organisation.members.filter(role=role, is_active=True).exists()


def roles_portal_admin_may_grant(organisation):
    """The roles a portal administrator may give a new account in ``organisation``."""
    if organisation.kind in OPERATOR_ROLES_BY_KIND:
        return set(OPERATOR_ROLES_BY_KIND[organisation.kind])
    if not has_active_admin(organisation):
        return {FIRST_ADMIN_ROLE[organisation.kind]}
    return set()


def _same_organisation_admin(actor, organisation, admin_role):
    return actor.is_active and actor.role == admin_role and actor.organisation_id == organisation.pk


def require_grant_role(actor, organisation, role, *, person=None):
    """May ``actor`` give ``role`` in ``organisation`` (to ``person``, or to a new account)?

    The system account (seed_demo, management commands) may set anything up. A portal
    administrator gives operator and oversight roles and a new organisation's first
    administrator only. An agency administrator decides the roles of their own agency
    (``approvals`` asks a second administrator first for approvers and administrators); a
    vendor's compliance admin those of their own vendor. Nobody changes their own role.
    """
    if actor.role == Role.SYSTEM:
        return
    if person is not None and person.pk == actor.pk and role not in VENDOR_ROLES:
        raise PortalError("Nobody may change their own role; ask another administrator.", field="role")
    if actor.role == Role.PORTAL_ADMIN and actor.is_active:
        if person is None and role in roles_portal_admin_may_grant(organisation):
            return
        if person is not None and role in OPERATOR_ROLES_BY_KIND.get(organisation.kind, ()):
            return
        raise PortalError(
            "Portal administrators do not decide who acts for an agency or a vendor: "
            "they may invite an organisation's first administrator, who decides from then on.",
            field="role",
        )
    if role in AGENCY_ROLES and _same_organisation_admin(actor, organisation, Role.AGENCY_ADMIN):
        return
    if role in VENDOR_ROLES and _same_organisation_admin(actor, organisation, Role.VENDOR_ADMIN):
        return
    raise PortalError(
        f"You may not give anyone the role {Role(role).label} in {end_sentence(organisation)}", field="role"
    )


def can_grant_role(actor, organisation, role, *, person=None):
    try:
        require_grant_role(actor, organisation, role, person=person)
    except PortalError:
        return False
    return True


def may_hold_superuser_flag(user: User):
    return user.role == Role.PORTAL_ADMIN
