"""What the REST endpoints read and parse. Output serializers list fields explicitly; input
serializers only parse: every rule lives in the services they hand their data to."""

from rest_framework import serializers

from approvals.models import AccessRequest, Decision, Grant, IncidentReport, InformationRequest
from portal.notifications.models import Notification
from vendors.choices import COUNTRY_CHOICES, Sector
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer

MAX_BULK = 1000


class FrontierModelSerializer(serializers.ModelSerializer):
    is_frontier = serializers.BooleanField(read_only=True)

    class Meta:
        model = FrontierModel
        fields = [
            "id",
            "name",
            "version",
            "description",
            "training_compute_flop",
            "release_phase",
            "is_frontier",
            "preview_customer_cap",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class EvidenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = EvidenceDocument
        fields = [
            "id",
            "kind",
            "title",
            "original_filename",
            "content_type",
            "size_bytes",
            "sha256",
            "uploaded_at",
        ]
        read_only_fields = fields


class EvidenceUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=EvidenceDocument.Kind.choices)
    title = serializers.CharField(max_length=200)
    file = serializers.FileField()


class PartnerCustomerSerializer(serializers.ModelSerializer):
    reference = serializers.CharField(source="registration_id", read_only=True)

    class Meta:
        model = PartnerCustomer
        fields = [
            "id",
            "legal_name",
            "country",
            "sector",
            "registration_id",
            "reference",
            "intended_use",
            "security_contact_name",
            "security_contact_email",
            "attestation",
            "attested_at",
            "identity_frozen_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PartnerCustomerInputSerializer(serializers.Serializer):
    legal_name = serializers.CharField(max_length=200)
    country = serializers.ChoiceField(choices=COUNTRY_CHOICES)
    sector = serializers.ChoiceField(choices=Sector.choices)
    registration_id = serializers.CharField(max_length=100, required=False, allow_blank=True)
    intended_use = serializers.CharField(max_length=5000)
    security_contact_name = serializers.CharField(max_length=200)
    security_contact_email = serializers.EmailField(max_length=254)
    attestation = serializers.BooleanField(required=False, default=False)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class PartnerCustomerUpdateSerializer(PartnerCustomerInputSerializer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.required = False


class BulkCustomersSerializer(serializers.Serializer):
    customers = PartnerCustomerInputSerializer(many=True, min_length=1, max_length=MAX_BULK)


class BulkCustomersResultSerializer(serializers.Serializer):
    created = PartnerCustomerSerializer(many=True)


class RequestDocumentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()
    original_filename = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    uploaded_at = serializers.DateTimeField()


class InformationRequestSerializer(serializers.ModelSerializer):
    agency = serializers.CharField(source="agency.code", read_only=True)

    class Meta:
        model = InformationRequest
        fields = ["id", "agency", "question", "status", "asked_at", "deadline", "answer"]
        read_only_fields = fields


class AccessRequestSerializer(serializers.ModelSerializer):
    reference = serializers.SerializerMethodField()

    class Meta:
        model = AccessRequest
        fields = [
            "id",
            "reference",
            "tracking_number",
            "status",
            "frontier_model",
            "partner_customer",
            "use_case",
            "scope",
            "requested_duration_days",
            "on_hold",
            "created_at",
            "submitted_at",
            "decided_at",
            "closed_reason",
            "version",
        ]
        read_only_fields = fields

    def get_reference(self, obj) -> str:
        return obj.tracking_number or str(obj.pk)


class AccessRequestDetailSerializer(AccessRequestSerializer):
    documents = RequestDocumentSerializer(many=True, read_only=True)
    information_requests = InformationRequestSerializer(many=True, read_only=True)

    class Meta(AccessRequestSerializer.Meta):
        fields = [*AccessRequestSerializer.Meta.fields, "documents", "information_requests"]
        read_only_fields = fields


class DraftRequestSerializer(serializers.Serializer):
    frontier_model = serializers.IntegerField(min_value=1, max_value=2**62)
    partner_customer = serializers.IntegerField(min_value=1, max_value=2**62)
    use_case = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    scope = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    requested_duration_days = serializers.IntegerField(min_value=1, max_value=3650, required=False)


class DocumentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)


class VersionedSerializer(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False,
        min_value=0,
        max_value=2**31,
        help_text="The version you read; a stale one is refused.",
    )


class WithdrawSerializer(VersionedSerializer):
    reason = serializers.CharField(max_length=2000)


class AnswerSerializer(VersionedSerializer):
    answer = serializers.CharField(max_length=10000)


class IntentResponseSerializer(VersionedSerializer):
    response = serializers.CharField(max_length=10000)


class DecisionSerializer(serializers.ModelSerializer):
    access_request = serializers.CharField(source="access_request.tracking_number", read_only=True)
    letter = serializers.CharField(source="letter_text", read_only=True)

    class Meta:
        model = Decision
        fields = ["id", "access_request", "outcome", "rationale", "decided_at", "snapshot_sha256", "letter"]
        read_only_fields = fields


class GrantSerializer(serializers.ModelSerializer):
    access_request = serializers.CharField(source="access_request.tracking_number", read_only=True)

    class Meta:
        model = Grant
        fields = [
            "id",
            "access_request",
            "frontier_model",
            "partner_customer",
            "status",
            "valid_from",
            "valid_to",
            "status_changed_at",
            "status_reason",
        ]
        read_only_fields = fields


class IncidentSerializer(serializers.ModelSerializer):
    class Meta:
        model = IncidentReport
        fields = [
            "id",
            "frontier_model",
            "category",
            "severity",
            "status",
            "description",
            "detected_on",
            "due_on",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "link", "object_label", "created_at", "read_at"]
        read_only_fields = fields
