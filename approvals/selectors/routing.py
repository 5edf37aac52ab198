"""Routing: which agencies the rules in force call on to review a request."""

from approvals.models import Agency, Referral, RoutingRule
from vendors.choices import UNITED_STATES


def rule_applies(rule, access_request):
    customer = access_request.partner_customer
    match rule.condition:
        case RoutingRule.Condition.ALWAYS:
            return True
        case RoutingRule.Condition.CRITICAL_INFRASTRUCTURE:
            return customer.is_critical_infrastructure
        case RoutingRule.Condition.OUTSIDE_UNITED_STATES:
            return customer.country != UNITED_STATES
        case RoutingRule.Condition.SUPPLY_CHAIN_RISK:
            return access_request.vendor.is_supply_chain_risk
    return False


def rule_text(rule):
    text = (
        f"{rule.agency.code}: {rule.get_condition_display()} ({'required' if rule.required else 'optional'})"
    )
    return f"{text} — {rule.note}" if rule.note else text


def route(access_request):
    """The referrals the routing rules in force call for: ``[(agency, required, reason)]``.

    The lead agency is always referred, because it records the decision.
    """
    by_agency = {}
    rules = RoutingRule.objects.filter(is_active=True).select_related("agency").order_by("agency__code", "pk")
    for rule in rules:
        if not rule_applies(rule, access_request):
            continue
        required, reasons = by_agency.get(rule.agency, (False, []))
        by_agency[rule.agency] = (required or rule.required, [*reasons, rule_text(rule)])
    lead = Agency.objects.filter(is_lead=True).first()
    if lead is not None and lead not in by_agency:
        by_agency[lead] = (True, [f"{lead.code}: lead agency, records the decision (required)"])
    return [
        (agency, required, "; ".join(reasons)[:300])
        for agency, (required, reasons) in sorted(
            by_agency.items(), key=lambda kv: (not kv[0].is_lead, kv[0].code)
        )
    ]


def supply_chain_rules():
    return list(
        RoutingRule.objects.filter(is_active=True, condition=RoutingRule.Condition.SUPPLY_CHAIN_RISK)
        .select_related("agency__officials_group")
        .order_by("agency__code", "pk")
    )


def designation_referrals(access_requests, rules=None):
    """The referrals a designation adds: ``[(access_request, agency, required, reason)]`` for every
    supply-chain-risk rule's agency not yet referred. Only those rules: a designation never
    re-routes a request by any other rule (rule changes apply to new referrals only)."""
    rules = supply_chain_rules() if rules is None else rules
    referred = set(
        Referral.objects.filter(access_request__in=[r.pk for r in access_requests]).values_list(
            "access_request_id", "agency_id"
        )
    )
    added = []
    for access_request in access_requests:
        by_agency = {}
        for rule in rules:
            if (access_request.pk, rule.agency_id) in referred:
                continue
            required, reasons = by_agency.get(rule.agency, (False, []))
            by_agency[rule.agency] = (required or rule.required, [*reasons, rule_text(rule)])
        for agency, (required, reasons) in by_agency.items():
            added.append((access_request, agency, required, "; ".join(reasons)[:300]))
    return added
