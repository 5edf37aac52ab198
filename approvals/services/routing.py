"""Agencies, their officials' groups, and the routing rules that refer a request to them."""

from django.contrib.auth.models import Group
from django.db.models import Q
from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Agency,
    EnforcementAction,
    Referral,
    RoutingRule,
)
from approvals.policies import agency_of
from approvals.selectors.people import agency_officials
from approvals.services._common import (
    _clean_text,
    _date,
    _forget_permission_cache,
    _save,
    _save_request,
    _why,
    service,
)
from approvals.services._notify import _notify_officials
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Organisation, Role
from portal.errors import PortalError

# The routing rules of DESIGN.md: agency code → condition (all required).
DEFAULT_ROUTING_RULES = [
    ("DOC", RoutingRule.Condition.ALWAYS),
    ("ONCD", RoutingRule.Condition.ALWAYS),
    ("OSTP", RoutingRule.Condition.ALWAYS),
    ("CISA", RoutingRule.Condition.CRITICAL_INFRASTRUCTURE),
    ("STATE", RoutingRule.Condition.OUTSIDE_UNITED_STATES),
    ("DOD", RoutingRule.Condition.SUPPLY_CHAIN_RISK),
]


def _start_review(access_request, *, actor, agency):
    """The first agency action on a submitted request puts it in review."""
    if access_request.status == AccessRequest.Status.SUBMITTED:
        access_request.status = AccessRequest.Status.IN_REVIEW
        _save_request(
            access_request, actor=actor, reason=f"Review started by {agency.code}.", update_fields=["status"]
        )


def sync_official_groups(user):
    """Put an agency official in exactly their agency's officials group (none when inactive)."""
    if user.role not in AGENCY_ROLES:
        return
    if hasattr(user, "_portal_agency"):
        del user._portal_agency
    agency = agency_of(user) if user.is_active else None
    wanted = agency.officials_group if agency is not None else None
    current = list(Group.objects.filter(agency_officials__isnull=False, user=user))
    stale = [g for g in current if g != wanted]
    if stale:
        user.groups.remove(*stale)
    if wanted is not None and wanted not in current:
        user.groups.add(wanted)
    _forget_permission_cache(user)


@service
def create_agency(*, organisation, code, actor, reason, name="", is_lead=False, requires_two_persons=False):
    """Register ``organisation`` as a reviewing agency with its officials' group."""
    if actor.role not in {Role.PORTAL_ADMIN, Role.SYSTEM}:
        raise PortalError("Only portal administrators set up agencies.")
    if organisation.kind != Organisation.Kind.AGENCY:
        raise PortalError(f"{organisation} is not an agency organisation.", field="organisation")
    code = _clean_text(code).upper()
    if not code:
        raise PortalError("Give the agency a short code, for example DOC.", field="code")
    if Agency.objects.filter(organisation=organisation).exists():
        raise PortalError(f"{organisation} is already set up as an agency.", field="organisation")
    if Agency.objects.filter(code=code).exists():
        raise PortalError(f"Another agency already uses the code {code}.", field="code")
    if is_lead and Agency.objects.filter(is_lead=True).exists():
        raise PortalError("There is already a lead agency; there can be only one.", field="is_lead")
    group, _ = Group.objects.get_or_create(name=f"agency {code} officials")
    agency = Agency(
        organisation=organisation,
        code=code,
        name=_clean_text(name) or organisation.name,
        is_lead=is_lead,
        requires_two_persons=requires_two_persons,
        officials_group=group,
    )
    _save(agency, actor=actor, reason=reason)
    for member in organisation.members.all():
        sync_official_groups(member)
    return agency


@service
def ensure_default_routing_rules(*, actor, reason="Default routing rules of the portal's design."):
    """Create the default rule for every agency that has a default and lacks it; return new rules."""
    created = []
    agencies = {a.code: a for a in Agency.objects.all()}
    for code, condition in DEFAULT_ROUTING_RULES:
        agency = agencies.get(code)
        if agency is None or RoutingRule.objects.filter(agency=agency, condition=condition).exists():
            continue
        rule = RoutingRule(agency=agency, condition=condition, required=True)
        created.append(_save(rule, actor=actor, reason=reason))
    return created


def _share_case(access_request, agency):
    """Let ``agency``'s officials read the request and what it concerns."""
    from vendors.services import share_with_group

    group = agency.officials_group
    permissions.grant("view", group, access_request)
    share_with_group(access_request.frontier_model, group)
    share_with_group(access_request.partner_customer, group)
    # The enforcement actions on record that concern this case: on its model, on its vendor as a
    # whole (designations), on its own grant (see _notify._agencies_concerned_by).
    concerning = EnforcementAction.objects.filter(
        Q(frontier_model_id=access_request.frontier_model_id, grant__isnull=True)
        | Q(vendor_id=access_request.vendor_id, frontier_model__isnull=True, grant__isnull=True)
        | Q(grant__access_request=access_request)
    )
    for action in concerning:
        permissions.grant("view", group, action)


def _add_referral(access_request, agency, *, required, routing_reason, actor, now, why):
    """Refer an open request to one more agency, as submission does: same clock, same sharing."""
    today = timezone.localdate(now)
    stopped = access_request.status == AccessRequest.Status.INFO_REQUESTED or access_request.on_hold
    referral = _save(
        Referral(
            access_request=access_request,
            agency=agency,
            required=required,
            routing_reason=routing_reason,
            referred_at=now,
            due_date=Referral.default_due_date(today),
            clock_stopped_at=now if stopped else None,
        ),
        actor=actor,
        reason=f"Referred by routing ({routing_reason}): {why}",
    )
    permissions.grant("view", agency.officials_group, referral)
    _share_case(access_request, agency)
    for question in access_request.information_requests.all():
        permissions.grant("view", agency.officials_group, question)
    _save_request(
        access_request, actor=actor, reason=_why(f"Referred also to {agency.code}: {why}"), update_fields=[]
    )
    _notify_officials(
        access_request,
        agency_officials(agency),
        event="referral_received",
        subject=f"New referral for {agency.code}: {access_request}",
        key=str(referral.pk),
        context={
            "agency": agency.code,
            "due_date": _date(referral.due_date),
            "required": required,
            "customer": str(access_request.partner_customer),
            "model": str(access_request.frontier_model),
        },
    )
    return referral
