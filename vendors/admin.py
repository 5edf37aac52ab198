"""The registry in the agency dashboard: read-only for agency roles and auditors, scoped through
the permissions helper (officials see what a referral to their agency concerns)."""

from django.contrib import admin
from django.urls import path, reverse
from django.utils.html import format_html

from portal.admin import PortalModelAdmin, values_filter
from portal.admin_site import admin_site
from portal.permissions import get_visible_or_404
from vendors.models import EvidenceDocument, FrontierModel, PartnerCustomer, Vendor, format_flop
from vendors.uploads import document_response


class EvidenceInline(admin.TabularInline):
    model = EvidenceDocument
    fields = [
        "title",
        "kind",
        "original_filename",
        "content_type",
        "size_bytes",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_view_permission(self, request, obj=None):
        # The rows are filtered through the permissions helper below.
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        from portal.permissions import visible_to

        return visible_to(request.user, super().get_queryset(request).select_related("uploaded_by"))


@admin.register(Vendor, site=admin_site)
class VendorAdmin(PortalModelAdmin):
    list_display = ["legal_name", "organisation", "status", "primary_contact_email", "created_at"]
    list_filter = ["status"]
    ordering = ["-status", "legal_name"]  # designated supply-chain risks first
    list_select_related = ["organisation"]
    search_fields = ["legal_name", "registration_ids", "primary_contact_name", "primary_contact_email"]
    fields = [
        "legal_name",
        "organisation",
        "registration_ids",
        "primary_contact_name",
        "primary_contact_email",
        "primary_contact_phone",
        "status",
        "designated_at",
        "designated_by",
        "designation_legal_basis",
        "former_names",
        "created_at",
    ]
    readonly_fields = fields

    @admin.display(description="former legal names")
    def former_names(self, obj):
        from vendors.onboarding.services import former_names

        names = former_names(obj)
        return "; ".join(f"{name} (until {at:%B %-d, %Y})" for name, at in names) or "—"


@admin.register(FrontierModel, site=admin_site)
class FrontierModelAdmin(PortalModelAdmin):
    list_display = ["__str__", "vendor", "compute", "frontier", "release_phase", "updated_at"]
    list_filter = ["release_phase", "designated_frontier", ("vendor", admin.RelatedOnlyFieldListFilter)]
    ordering = ["vendor__legal_name", "name", "version"]
    list_select_related = ["vendor"]
    search_fields = ["name", "version", "description", "vendor__legal_name"]
    fields = [
        "vendor",
        "name",
        "version",
        "compute",
        "frontier_reason",
        "release_phase",
        "designated_frontier",
        "preview_customer_cap",
        "description",
        "capability_summary",
        "cyber_evaluation_summary",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [EvidenceInline]

    @admin.display(description="Training compute (FLOP)", ordering="training_compute_flop")
    def compute(self, obj):
        return format_flop(obj.training_compute_flop)

    @admin.display(description="Frontier", boolean=True)
    def frontier(self, obj):
        return obj.is_frontier

    @admin.display(description="Why frontier or not")
    def frontier_reason(self, obj):
        return obj.frontier_reason


@admin.register(PartnerCustomer, site=admin_site)
class PartnerCustomerAdmin(PortalModelAdmin):
    list_display = ["legal_name", "vendor", "country", "sector", "attestation", "identity_frozen_at"]
    list_filter = [
        values_filter("sector", "sector"),
        values_filter("country", "country"),
        "attestation",
        ("vendor", admin.RelatedOnlyFieldListFilter),
    ]
    ordering = ["legal_name", "pk"]
    list_select_related = ["vendor"]
    search_fields = ["legal_name", "registration_id", "security_contact_email", "vendor__legal_name"]
    fields = [
        "vendor",
        "legal_name",
        "country",
        "sector",
        "registration_id",
        "intended_use",
        "security_contact_name",
        "security_contact_email",
        "attestation",
        "attested_by",
        "attested_at",
        "identity_frozen_at",
        "created_by",
        "created_at",
        "updated_at",
    ]
    readonly_fields = fields
    inlines = [EvidenceInline]


@admin.register(EvidenceDocument, site=admin_site)
class EvidenceDocumentAdmin(PortalModelAdmin):
    list_display = ["title", "kind", "vendor", "attached_to", "content_type", "size_bytes", "uploaded_at"]
    list_filter = ["kind", "content_type", ("vendor", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["vendor", "frontier_model", "partner_customer", "uploaded_by"]
    search_fields = ["title", "original_filename", "sha256", "vendor__legal_name"]
    fields = [
        "title",
        "kind",
        "vendor",
        "frontier_model",
        "partner_customer",
        "download",
        "original_filename",
        "content_type",
        "size_bytes",
        "sha256",
        "uploaded_by",
        "uploaded_at",
    ]
    readonly_fields = fields

    @admin.display(description="Attached to")
    def attached_to(self, obj):
        return obj.frontier_model or obj.partner_customer

    @admin.display(description="File")
    def download(self, obj):
        url = reverse(f"{self.admin_site.name}:vendors_evidencedocument_download", args=[obj.pk])
        return format_html('<a href="{}">Download {}</a>', url, obj.original_filename)

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="vendors_evidencedocument_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """The stored file, to officials who may see the document; 404 to anyone else."""
        document = get_visible_or_404(request.user, EvidenceDocument.objects.all(), "view", pk=pk)
        return document_response(
            document.file, filename=document.original_filename, content_type=document.content_type
        )


from vendors.onboarding import admin as onboarding_admin  # noqa: E402, F401 (registration)
