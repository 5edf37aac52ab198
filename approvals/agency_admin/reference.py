"""Reference data in the admin: agencies and routing rules (portal administrators change them)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied

from approvals import services
from approvals.models import (
    Agency,
    RoutingRule,
)
from approvals.selectors.staffing import agency_staffed
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import stamp
from portal.errors import PortalError
from portal.params import int_param


class _ReferenceData(PortalModelAdmin):
    """Every official may read it; portal administrators edit it; changes carry a reason."""

    editable_by_portal_admin = True

    def get_queryset(self, request):
        return self.model._default_manager.all()

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(Agency, site=admin_site)
class AgencyAdmin(_ReferenceData):
    autocomplete_fields = ["organisation"]
    list_display = ["code", "name", "is_lead", "requires_two_persons"]
    readonly_fields = ["officials_group"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "code", "name", "is_lead", "requires_two_persons"]
        return ["organisation", "code", "name", "is_lead", "requires_two_persons", "officials_group"]

    def get_readonly_fields(self, request, obj=None):
        # The two-person rule is the agency's own: its administrators change it, two of them
        # (Staffing changes); a portal administrator only sets it when the agency is created.
        fields = list(super().get_readonly_fields(request, obj))  # (a past version: every field)
        if obj is not None:
            fixed = ("organisation", "requires_two_persons", "officials_group")
            fields += [f for f in fixed if f not in fields]
        return fields

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "organisation" in form.base_fields:
            from portal.accounts.models import Organisation

            form.base_fields["organisation"].queryset = Organisation.objects.filter(
                kind=Organisation.Kind.AGENCY, agency__isnull=True
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            stamp(obj, actor=request.user, reason="Agency settings changed in the admin.")
            obj.save()
            return
        try:
            created = services.create_agency(
                organisation=obj.organisation,
                code=obj.code,
                name=obj.name,
                is_lead=obj.is_lead,
                requires_two_persons=obj.requires_two_persons,
                actor=request.user,
                reason="Agency added in the admin.",
            )
        except PortalError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = created.pk


@admin.register(RoutingRule, site=admin_site)
class RoutingRuleAdmin(_ReferenceData):
    list_display = ["agency", "condition", "required", "is_active", "staffed", "note"]
    list_filter = ["is_active", "condition"]
    list_select_related = ["agency"]
    fields = ["agency", "condition", "required", "is_active", "note"]

    def get_queryset(self, request):
        staffed = agency_staffed("agency__organisation_id")
        return super().get_queryset(request).annotate(agency_staffed=staffed)

    @admin.display(boolean=True, description="Someone can sign")
    def staffed(self, obj):
        return obj.agency_staffed

    def change_view(self, request, object_id, form_url="", extra_context=None):
        rule = self.get_object(request, object_id) if int_param(object_id) is not None else None
        if rule is not None and not rule.agency_staffed and request.method == "GET":
            messages.warning(
                request,
                f"{rule.agency.code} has no active approver: nobody can sign its positions, so "
                f"{'a required' if rule.required else 'an optional'} referral this rule makes is never "
                "answered. Invite an approver for the agency, or make the rule inactive.",
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        stamp(
            obj,
            actor=request.user,
            reason="Routing rule changed in the admin; it applies to requests submitted from now on.",
        )
        obj.save()
