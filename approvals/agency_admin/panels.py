"""The review process's panels on the agency dashboard (listed in ``ADMIN_DASHBOARD_PANELS``).

Each panel is a callable taking the request and returning ``{"template", "context"}``, or
``None`` when it has nothing for the signed-in person. The admin site in ``portal/`` renders
them without knowing this app (dependencies point approvals → portal).
"""

from approvals import policies, selectors
from approvals.selectors.staffing import unstaffed_agencies, unstaffed_referrals, unstaffed_routing_rules
from portal.accounts.models import AGENCY_ROLES


def queues_panel(request):
    """An agency official's queues: mine, unassigned, urgent, to sign, to decide; the clock chart."""
    user = request.user
    agency = policies.agency_of(user) if user.role in AGENCY_ROLES else None
    if agency is None:
        return None
    context = selectors.agency_dashboard(user)
    _ask_assign_me(user, context.get("unassigned", []))
    if agency.is_lead:  # the lead agency is warned of referrals nobody can answer
        context = {**context, "unstaffed": list(unstaffed_referrals(selectors.requests_visible_to(user)))}
    return {"template": "admin/approvals/dashboard_queues.html", "context": context}


def _ask_assign_me(user, referrals):
    """``referral.can_assign_me`` for the unassigned rows: their one-click "Assign to me" button is
    shown by asking the same rule as the case page's (``case_pages.can_assign_me``)."""
    from approvals.agency_admin.case_pages import can_assign_me

    with policies.one_page(user, readable=referrals):  # just read through the permissions helper
        for referral in referrals:
            access_request = referral.access_request
            access_request._my_referral = referral
            referral.can_assign_me = can_assign_me(user, access_request)


def oversight_panel(request):
    """Auditors and portal administrators: requests by status, every agency's clocks, outcomes."""
    user = request.user
    if not user.sees_everything:
        return None
    return {
        "template": "admin/approvals/dashboard_oversight.html",
        "context": {
            **selectors.oversight_dashboard(user),
            "unstaffed_agencies": list(unstaffed_agencies()),
            "unstaffed_rules": list(unstaffed_routing_rules()),
        },
    }


def charts_panel(request):
    """Officials and auditors: decisions per week, days to a signed position by agency, incidents."""
    user = request.user
    if not (user.sees_everything or (user.role in AGENCY_ROLES and policies.agency_of(user) is not None)):
        return None
    return {
        "template": "admin/approvals/dashboard_charts.html",
        "context": {"charts": selectors.dashboard_charts(user)},
    }
