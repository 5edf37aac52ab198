"""Who may do what, in which state: stated once.

Services call ``require_<verb>`` before they act; every button, link and panel asks
``can_<verb>``. Both read the same rule, so a button is shown exactly when the service would
accept the click.
"""

from approvals.models import Agency
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role
from vendors.models import FrontierModel

_UNSET = object()


VENDOR_ACTOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.VENDOR_OFFICER})


REVIEW_ROLES = frozenset({Role.AGENCY_REVIEWER, Role.AGENCY_APPROVER})


ASSIGNER_ROLES = frozenset({Role.AGENCY_APPROVER, Role.AGENCY_ADMIN})


def agency_of(user):
    """The agency ``user`` works for, or ``None`` for anyone who is not an agency official."""
    if user is None or not user.is_authenticated or user.role not in AGENCY_ROLES:
        return None
    cache = getattr(user, "_portal_agency", _UNSET)
    if cache is _UNSET:
        cache = Agency.objects.filter(organisation_id=user.organisation_id).first()
        user._portal_agency = cache
    return cache


def may_enforce(user):
    """Approvers of the lead agency take enforcement actions and clearance decisions."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    agency = agency_of(user)
    return agency is not None and agency.is_lead and user.role == Role.AGENCY_APPROVER


def may_record_findings(user):
    """Reviewers and approvers of any agency record findings in a pre-release review."""
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return agency_of(user) is not None and user.role in REVIEW_ROLES


def may_report(user, vendor):
    """Compliance officers and admins of ``vendor`` submit, report, answer and renew."""
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and user.organisation_id == vendor.organisation_id
        and user.role in VENDOR_ACTOR_ROLES
    )


def vendor_visible_to(user, vendor):
    """An agency knows a vendor through the models it may read (the vendor row is never shared)."""
    if getattr(user, "sees_everything", False):
        return True
    return permissions.visible_to(user, FrontierModel.objects.filter(vendor=vendor)).exists()
