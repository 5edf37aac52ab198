"""What an enforcement job carries out (``approvals.jobs`` calls ``carry_out_<verb>``): the one
service for the order, with the job's progress, and the summary the job's page shows.

The confirmation pages (``enforcement_pages``) checked the form, the rule and the records shown
before asking for the job; the service checks them all again under its locks.
"""

import inspect

from django.utils import timezone

from approvals import selectors, services
from approvals.agency_admin import shown
from approvals.models import EnforcementAction, Grant


def _names(rows, name, limit=5):
    names = [name(r) for r in rows[:limit]]
    more = len(rows) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _designation_in_force(vendor):
    return (
        EnforcementAction.objects.filter(
            vendor=vendor,
            kind=EnforcementAction.Kind.DESIGNATE_VENDOR,
            status=EnforcementAction.Status.IN_FORCE,
        )
        .select_related("responded_by")
        .first()
    )


def carry_out_suspend(actor, frontier_model, data, progress):
    action = call_service(
        services.suspend_model,
        progress,
        frontier_model=frontier_model,
        **_order(actor, data),
        partner_customers=data.get("customers"),
        scope=data.get("scope", ""),
        attest_within_hours=data.get("attest_within_hours"),
        expected_grants=data.get("expected_grants"),
        expected_requests=data.get("expected_requests"),
    )
    grants = list(
        action.suspended_grants.select_related("partner_customer").order_by("partner_customer__legal_name")
    )
    taken = f" for {action.scope}" if action.scope else ""
    action.refresh_from_db(fields=["followed_through_at"])  # (its follow-through ran at the commit)
    told = (
        "Everyone concerned has been told."
        if action.followed_through_at
        else "The notice's PDF, the attestation requests and the mail were held up by an error; the "
        "portal tries again within five minutes."
    )
    attest = (
        f" {action.vendor} must attest the cut-off of each customer by "
        f"{timezone.localtime(action.attest_by):%B %-d, %Y %H:%M}."
        if action.attest_by
        else ""
    )
    return action, (
        f"{frontier_model} is pulled offline{taken}: {action.grants_affected} grant(s) suspended"
        f"{' (' + _names(grants, lambda g: str(g.partner_customer)) + ')' if grants else ''}, "
        f"{action.requests_affected} open request(s) on hold. {told}{attest}"
    )


def carry_out_lift(actor, frontier_model, data, progress):
    action = call_service(
        services.lift_suspension,
        progress,
        frontier_model=frontier_model,
        **_order(actor, data),
        expected_grants=data.get("expected_grants"),
    )
    restored = list(
        action.reverses.suspended_grants.filter(status=Grant.Status.ACTIVE)
        .select_related("partner_customer")
        .order_by("partner_customer__legal_name")
    )
    return action, (
        f"The suspension of {frontier_model} is lifted: {action.grants_affected} grant(s) active again"
        f"{' (' + _names(restored, lambda g: str(g.partner_customer)) + ')' if restored else ''}, "
        f"{action.requests_affected} request(s) back in review."
    )


def carry_out_designate(actor, vendor, data, progress):
    action = call_service(
        services.designate_supply_chain_risk,
        progress,
        vendor=vendor,
        **_order(actor, data),
        expected_requests=data.get("expected_requests"),
    )
    return action, (
        f"{vendor} is designated a supply-chain risk and has been notified; it may answer by "
        f"{action.respond_by:%B %-d, %Y}. {action.requests_affected} open request(s) referred to DOD."
    )


def carry_out_rescind(actor, vendor, data, progress):
    designation = _designation_in_force(vendor)
    referrals = selectors.referrals_from_designation(designation) if designation else []
    action = call_service(
        services.rescind_designation,
        progress,
        vendor=vendor,
        **_order(actor, data),
        close_referrals=data.get("close_referrals", False),
    )
    closed = ""
    if data.get("close_referrals"):
        named = _names(referrals, lambda r: f"{r.access_request.tracking_number} — {r.agency.code}", 10)
        closed = f" {len(referrals)} referral(s) it caused are closed: {named}."
    return action, f"The designation of {vendor} is rescinded; the vendor has been notified.{closed}"


def _order(actor, data):
    """What every order hands its service: who gives it, on what basis, and the records shown."""
    return {
        "actor": actor,
        "legal_basis": data["legal_basis"],
        "findings": data["findings"],
        "shown": shown.decode(data.get("shown_records")),
    }


def call_service(service, progress, **kwargs):
    """Call an enforcement service, handing it ``progress`` when it reports its own."""
    if "progress" in inspect.signature(service).parameters:
        kwargs["progress"] = lambda done, total: progress(done, total)
    return service(**kwargs)


# An order made moot by another official's (a second tab, or a job that ran first): what the
# confirmation page warns of, and what a refused job says.


def _by(action):
    who = action.taken_by.full_name or action.taken_by.email
    return f"by {who} on {timezone.localtime(action.taken_at):%B %-d, %Y at %H:%M} (action #{action.pk})"


def _latest(kind, **filters):
    return (
        EnforcementAction.objects.filter(kind=kind, **filters)
        .select_related("taken_by")
        .order_by("-taken_at", "-pk")
        .first()
    )


def _stale_suspend(request, frontier_model):
    suspension = _latest(
        EnforcementAction.Kind.SUSPEND_MODEL,
        frontier_model=frontier_model,
        status=EnforcementAction.Status.IN_FORCE,
    )
    if suspension is None:
        return None
    scope = f" for {suspension.scope}" if suspension.scope else ""
    return f"Nothing was done: {frontier_model} was already pulled offline{scope} {_by(suspension)}."


def _stale_lift(request, frontier_model):
    if selectors.suspension_in_force(frontier_model) is not None:
        return None
    lift = _latest(EnforcementAction.Kind.LIFT_SUSPENSION, frontier_model=frontier_model)
    if lift is None:
        return None
    return f"Nothing was done: the suspension of {frontier_model} was already lifted {_by(lift)}."


def _stale_revoke(request, grant):
    if grant.status != Grant.Status.REVOKED:
        return None
    revocation = _latest(EnforcementAction.Kind.REVOKE_GRANT, grant=grant)
    by = _by(revocation) if revocation else f"on {timezone.localtime(grant.status_changed_at):%B %-d, %Y}"
    return (
        f"Nothing was done: the grant of {grant.access_request} to {grant.partner_customer} was "
        f"already revoked {by}."
    )


def _stale_designate(request, vendor):
    designation = _latest(
        EnforcementAction.Kind.DESIGNATE_VENDOR, vendor=vendor, status=EnforcementAction.Status.IN_FORCE
    )
    if designation is None:
        return None
    return f"Nothing was done: {vendor} was already designated a supply-chain risk {_by(designation)}."


def _stale_rescind(request, vendor):
    if vendor.is_supply_chain_risk:
        return None
    rescission = _latest(EnforcementAction.Kind.RESCIND_DESIGNATION, vendor=vendor)
    if rescission is None:
        return None
    return f"Nothing was done: the designation of {vendor} was already rescinded {_by(rescission)}."


# -- what each page shows beside the form -----------------------------------------------------
