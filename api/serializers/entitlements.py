"""The entitlement answer as JSON: plain functions (the check is the API's hottest path) and the
serializers that describe the same shapes to the schema."""

from rest_framework import serializers

from approvals.selectors.entitlements import MAX_BATCH, Reason, action_reference


def condition_data(condition):
    return {
        "id": condition.pk,
        "text": condition.text,
        "kind": condition.kind,
        "proposed_by": condition.agency.code,
    }


def grant_data(grant, conditions=None):
    if conditions is None:
        conditions = list(grant.conditions.select_related("agency"))
    return {
        "id": grant.pk,
        "status": grant.status,
        "valid_from": grant.valid_from.isoformat(),
        "valid_to": grant.valid_to.isoformat(),
        "status_reason": grant.status_reason,
        "access_request": grant.access_request_id,
        "conditions": [condition_data(c) for c in conditions],
    }


def entitlement_data(answer):
    action = answer.action
    return {
        "cleared": answer.cleared,
        "reason": answer.reason,
        "message": answer.message,
        "frontier_model": {
            "id": answer.frontier_model.pk,
            "name": answer.frontier_model.name,
            "version": answer.frontier_model.version,
            "release_phase": answer.frontier_model.release_phase,
        },
        "partner_customer": {
            "id": answer.partner_customer.pk,
            "legal_name": answer.partner_customer.legal_name,
            "reference": answer.partner_customer.registration_id,
        },
        "grant": grant_data(answer.grant, answer.conditions) if answer.grant else None,
        "enforcement_action": (
            {
                "reference": action_reference(action),
                "kind": action.kind,
                "taken_at": action.taken_at.isoformat(),
            }
            if action
            else None
        ),
    }


class ConditionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    kind = serializers.CharField()
    proposed_by = serializers.CharField(help_text="The code of the agency that proposed the condition.")


class GrantSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=["active", "suspended", "revoked", "expired"])
    valid_from = serializers.DateField()
    valid_to = serializers.DateField()
    status_reason = serializers.CharField()
    access_request = serializers.IntegerField()
    conditions = ConditionSerializer(many=True)


class ModelRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    version = serializers.CharField()
    release_phase = serializers.CharField()


class CustomerRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    legal_name = serializers.CharField()
    reference = serializers.CharField(help_text="The vendor's own reference (registration id).")


class ActionRefSerializer(serializers.Serializer):
    reference = serializers.CharField()
    kind = serializers.CharField()
    taken_at = serializers.DateTimeField()


class EntitlementSerializer(serializers.Serializer):
    cleared = serializers.BooleanField()
    reason = serializers.ChoiceField(
        choices=[
            Reason.CLEARED,
            Reason.NO_GRANT,
            Reason.NOT_YET_VALID,
            Reason.EXPIRED,
            Reason.SUSPENDED,
            Reason.REVOKED,
            Reason.MODEL_WITHDRAWN,
        ]
    )
    message = serializers.CharField()
    frontier_model = ModelRefSerializer()
    partner_customer = CustomerRefSerializer()
    grant = GrantSummarySerializer(allow_null=True)
    enforcement_action = ActionRefSerializer(allow_null=True)


class PairSerializer(serializers.Serializer):
    model = serializers.CharField(max_length=200, help_text="The model's id, or its name (“name version”).")
    customer = serializers.CharField(
        max_length=200, help_text="The customer's id, or the vendor's own reference."
    )


class BatchRequestSerializer(serializers.Serializer):
    pairs = PairSerializer(many=True, max_length=MAX_BATCH, min_length=1)


class BatchItemSerializer(serializers.Serializer):
    model = serializers.CharField()
    customer = serializers.CharField()
    found = serializers.BooleanField()
    error = serializers.CharField(required=False)
    entitlement = EntitlementSerializer(required=False)


class BatchResponseSerializer(serializers.Serializer):
    results = BatchItemSerializer(many=True)
