"""Turn the review process's events (``approvals.events.vendor_event``) into webhook events.

Each notification event a vendor's systems care about maps to one or two webhook event types;
the payload is read from the database inside the same transaction, so it says what was just
decided. Event ids are ``evt_<notification event>_<key>``: the same change never makes two.
"""

from django.dispatch import receiver

from api.serializers.entitlements import entitlement_data, grant_data
from approvals.events import vendor_event
from approvals.models import Decision, EnforcementAction, Grant, InformationRequest
from approvals.selectors.entitlements import action_reference, entitlement

EVENT_TYPES = {
    "decision_approved": ["decision.approved", "grant.created"],
    "decision_denied": ["decision.denied"],
    "intent_to_deny": ["decision.intent_to_deny"],
    "information_request_issued": ["information_request.issued"],
    "request_returned": ["access_request.returned"],
    "grant_revoked": ["grant.revoked"],
    "grant_expired": ["grant.expired"],
    "model_suspended": ["grant.suspended"],
    "model_suspension_lifted": ["grant.lifted"],
    "vendor_designated": ["vendor.designated"],
    "vendor_designation_rescinded": ["vendor.designation_rescinded"],
}


def _request_data(access_request):
    return {
        "tracking_number": access_request.tracking_number,
        "status": access_request.status,
        "frontier_model": access_request.frontier_model_id,
        "partner_customer": access_request.partner_customer_id,
    }


def _action_data(action):
    return {
        "reference": action_reference(action),
        "kind": action.kind,
        "taken_at": action.taken_at,
        "legal_basis": action.legal_basis,
        "frontier_model": action.frontier_model_id,
    }


def _grant_entitlement(grant):
    return entitlement_data(
        entitlement(frontier_model=grant.frontier_model, partner_customer=grant.partner_customer)
    )


def _data(event, event_type, key, access_request, grant):
    if event_type in ("decision.approved", "decision.denied"):
        decision = Decision.objects.get(pk=key)
        data = {
            "decision": decision.pk,
            "outcome": decision.outcome,
            "access_request": _request_data(access_request),
        }
        if event_type == "decision.approved":
            data["grant"] = grant_data(Grant.objects.get(decision=decision))
        return data
    if event_type == "grant.created":
        grant = Grant.objects.select_related("frontier_model", "partner_customer").get(decision_id=key)
        return {"entitlement": _grant_entitlement(grant)}
    if event_type == "decision.intent_to_deny":
        return {"access_request": _request_data(access_request)}
    if event_type == "information_request.issued":
        question = InformationRequest.objects.select_related("agency").get(pk=key)
        return {
            "access_request": _request_data(access_request),
            "information_request": question.pk,
            "agency": question.agency.code,
            "question": question.question,
            "deadline": question.deadline,
        }
    if event_type == "access_request.returned":
        return {"access_request": _request_data(access_request)}
    if event_type == "grant.expired":
        return {"entitlement": _grant_entitlement(grant)}
    action = EnforcementAction.objects.select_related("grant__frontier_model", "grant__partner_customer").get(
        pk=key
    )
    data = {"action": _action_data(action)}
    if event_type == "grant.revoked":
        data["entitlement"] = _grant_entitlement(action.grant)
    elif event_type == "grant.suspended":
        data["grants"] = list(action.suspended_grants.values("pk", "partner_customer_id").order_by("pk"))
    elif event_type == "grant.lifted":
        restored = Grant.objects.filter(
            frontier_model_id=action.frontier_model_id, status=Grant.Status.ACTIVE
        ).order_by("pk")
        data["grants"] = list(restored.values("pk", "partner_customer_id"))
    return data


@receiver(vendor_event, dispatch_uid="api_webhooks")
def _on_vendor_event(sender, *, vendor, event, key, access_request=None, grant=None, **kwargs):
    from api.models import WebhookEndpoint
    from api.services import record_webhook_event

    types = EVENT_TYPES.get(event)
    if not types or not WebhookEndpoint.objects.filter(vendor=vendor, is_active=True).exists():
        return
    for event_type in types:
        suffix = "" if len(types) == 1 else f"_{event_type.split('.')[0]}"
        record_webhook_event(
            vendor=vendor,
            event_type=event_type,
            event_id=f"evt_{event}_{key}{suffix}",
            data=_data(event, event_type, key, access_request, grant),
        )
