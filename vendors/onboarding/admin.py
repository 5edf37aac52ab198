"""Portal administrators review vendor applications and changes of legal name in the admin."""

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from portal.accounts.mfa_views import require_recent_second_factor
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site
from portal.errors import PortalError
from portal.params import int_param
from vendors.onboarding import services
from vendors.onboarding.models import Decision, VendorApplication, VendorNameChange


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)


class _Decided(PortalModelAdmin):
    """Portal administrators decide; auditors read; nobody else sees these rows (404)."""

    verbs = {}  # url name suffix → (title, call(obj, actor, reason))

    def get_queryset(self, request):
        if request.user.is_active and request.user.sees_everything:
            return self.model._default_manager.all()
        return self.model._default_manager.none()

    def has_module_permission(self, request):
        return request.user.is_active and request.user.sees_everything

    def has_view_permission(self, request, obj=None):
        # An official asking for one of these rows gets the 404 of a row that does not exist
        # (the queryset is empty for them), not a 403 that would confirm it does.
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return [
            path(
                f"<int:pk>/{verb}/",
                self.admin_site.admin_view(self._decide),
                {"verb": verb},
                name="{}_{}_".format(*info) + verb,
            )
            for verb in self.verbs
        ] + super().get_urls()

    def _decide(self, request, pk, verb):
        obj = self.get_queryset(request).filter(pk=pk).first()
        if obj is None or obj.status != Decision.PENDING or not request.user.is_portal_admin:
            raise Http404("No such page.")
        if (again := require_recent_second_factor(request)) is not None:
            return again
        title, call = self.verbs[verb]
        form = ReasonForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                call(obj, request.user, form.cleaned_data["reason"])
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, f"{title}: {obj}.")
                info = self.model._meta.app_label, self.model._meta.model_name
                return redirect(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{title}: {obj}",
            "form": form,
            "obj": obj,
            "submit": title,
        }
        return TemplateResponse(request, "admin/vendors/onboarding_decide.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        valid = int_param(object_id) is not None
        obj = self.get_queryset(request).filter(pk=object_id).first() if valid else None
        info = self.model._meta.app_label, self.model._meta.model_name
        buttons = []
        if obj is not None and obj.status == Decision.PENDING and request.user.is_portal_admin:
            buttons = [
                (reverse("admin:{}_{}_".format(*info) + verb, args=[obj.pk]), title)
                for verb, (title, _) in self.verbs.items()
            ]
        return super().change_view(
            request, object_id, form_url, extra_context={**(extra_context or {}), "buttons": buttons}
        )


@admin.register(VendorApplication, site=admin_site)
class VendorApplicationAdmin(_Decided):
    change_form_template = "admin/vendors/onboarding_change_form.html"
    list_display = ["legal_name", "submitted_at", "country", "admin_email", "status"]
    list_filter = ["status"]
    search_fields = ["legal_name", "identifiers", "admin_email"]
    fields = [
        "legal_name",
        "country",
        "identifiers",
        "address",
        "admin_name",
        "admin_email",
        "attestation",
        "submitted_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_reason",
        "vendor",
    ]
    readonly_fields = fields
    verbs = {
        "approve": (
            "Approve",
            lambda obj, actor, reason: services.approve_application(
                application=obj, actor=actor, reason=reason
            ),
        ),
        "reject": (
            "Reject",
            lambda obj, actor, reason: services.reject_application(
                application=obj, actor=actor, reason=reason
            ),
        ),
    }


@admin.register(VendorNameChange, site=admin_site)
class VendorNameChangeAdmin(_Decided):
    change_form_template = "admin/vendors/onboarding_change_form.html"
    list_display = ["requested_at", "old_name", "new_name", "status"]
    list_filter = ["status"]
    list_select_related = ["vendor"]
    fields = [
        "vendor",
        "old_name",
        "new_name",
        "reason",
        "requested_by",
        "requested_at",
        "status",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]
    readonly_fields = fields
    verbs = {
        "approve": (
            "Approve",
            lambda obj, actor, reason: services.decide_name_change(
                change=obj, actor=actor, approve=True, reason=reason
            ),
        ),
        "reject": (
            "Reject",
            lambda obj, actor, reason: services.decide_name_change(
                change=obj, actor=actor, approve=False, reason=reason
            ),
        ),
    }
