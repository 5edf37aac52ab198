"""Staffing changes in the agency dashboard: an agency's administrators decide who acts for it.

An administrator proposes (a new role for an official, a new official, the two-person rule);
another administrator of the agency confirms or rejects on the change's page. Officials of the
agency read their agency's changes; auditors and portal administrators read every agency's.
Nobody edits a change: the pages call ``approvals.services`` and each button asks the policy.
"""

from django import forms
from django.contrib import admin, messages
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from approvals import policies, services
from approvals.models import StaffingChange
from portal.accounts.mfa_views import require_recent_second_factor
from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.export import register_scope
from portal.errors import PortalError
from portal.form_fields import IdChoiceField
from portal.params import int_param

ROLE_CHOICES = [(r.value, r.label) for r in Role if r in AGENCY_ROLES]


def changes_visible_to(user):
    if user.sees_everything:
        return StaffingChange.objects.all()
    agency = policies.agency_of(user)
    if agency is None or not user.is_active:
        return StaffingChange.objects.none()
    return StaffingChange.objects.filter(agency=agency)


register_scope("approvals.staffingchange", changes_visible_to)


class ProposalForm(forms.Form):
    """What an agency administrator asks for; the service checks it again."""

    kind = forms.ChoiceField(choices=StaffingChange.Kind.choices, widget=forms.RadioSelect)
    person = IdChoiceField(
        queryset=User.objects.none(), required=False, help_text="For a role change: the official."
    )
    email = forms.EmailField(required=False, help_text="For an invitation: the new official's address.")
    full_name = forms.CharField(max_length=200, required=False, help_text="For an invitation.")
    role = forms.ChoiceField(
        choices=[("", "---------"), *ROLE_CHOICES],
        required=False,
        help_text="Approver and agency administrator take effect when a second administrator confirms.",
    )
    requires_two_persons = forms.BooleanField(
        required=False,
        label="Two-person rule on",
        help_text="For the two-person rule: ticked to switch it on, unticked to switch it off.",
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000)

    def __init__(self, *args, actor, **kwargs):
        super().__init__(*args, **kwargs)
        agency = policies.agency_of(actor)
        self.fields["person"].queryset = (
            User.objects.filter(organisation_id=agency.organisation_id, role__in=AGENCY_ROLES, is_active=True)
            .exclude(pk=actor.pk)
            .order_by("email")
        )
        self.fields["person"].label_from_instance = lambda u: (
            f"{u.full_name} <{u.email}> ({u.get_role_display()})"
        )


class DecisionForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)


@admin.register(StaffingChange, site=admin_site)
class StaffingChangeAdmin(PortalModelAdmin):
    list_display = ["requested_at", "agency", "summary", "status", "requested_by", "decided_by"]
    list_filter = ["status", "kind"]
    list_select_related = ["agency", "person", "requested_by", "decided_by"]
    change_form_template = "admin/approvals/staffingchange/change_form.html"
    fields = [
        "agency",
        "kind",
        "status",
        "person",
        "email",
        "full_name",
        "role_before",
        "role_after",
        "two_persons_before",
        "two_persons_after",
        "reason",
        "requested_by",
        "requested_at",
        "decided_by",
        "decided_at",
        "decision_reason",
    ]
    readonly_fields = fields

    @admin.display(description="change")
    def summary(self, obj):
        return obj.summary()

    def get_queryset(self, request):
        return changes_visible_to(request.user).select_related(
            "agency", "person", "requested_by", "decided_by"
        )

    def has_view_permission(self, request, obj=None):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or changes_visible_to(user).filter(pk=obj.pk).exists()

    def has_add_permission(self, request):
        return policies.can_manage_staff(request.user, policies.agency_of(request.user))

    def has_change_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path("<int:pk>/confirm/", self.admin_site.admin_view(self.confirm_view), name="staffing_confirm"),
            path("<int:pk>/reject/", self.admin_site.admin_view(self.reject_view), name="staffing_reject"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            raise Http404("No such page.")
        if (again := require_recent_second_factor(request)) is not None:
            return again
        form = ProposalForm(request.POST or None, actor=request.user)
        if request.method == "POST" and form.is_valid():
            try:
                change = self._propose(request.user, form.cleaned_data)
            except PortalError as error:
                error.add_to_form(form)
            else:
                if change.status == StaffingChange.Status.PENDING:
                    messages.success(
                        request, "Asked. It takes effect when another administrator confirms it."
                    )
                else:
                    messages.success(request, f"Done: {change.summary()}.")
                return redirect(reverse("admin:approvals_staffingchange_change", args=[change.pk]))
        return self._page(request, "Propose a staffing change", form, submit="Propose")

    def _propose(self, actor, data):
        kind, reason = data["kind"], data["reason"]
        if kind == StaffingChange.Kind.ROLE:
            if data["person"] is None:
                raise PortalError("Choose the official whose role changes.", field="person")
            return services.propose_role_change(
                person=data["person"], role=data["role"], actor=actor, reason=reason
            )
        if kind == StaffingChange.Kind.INVITATION:
            return services.propose_invitation(
                email=data["email"],
                full_name=data["full_name"],
                role=data["role"],
                actor=actor,
                reason=reason,
            )
        return services.propose_two_person_rule(
            agency=policies.agency_of(actor),
            requires_two_persons=data["requires_two_persons"],
            actor=actor,
            reason=reason,
        )

    def _decide(self, request, pk, *, allowed, call, title, submit):
        change = self.get_queryset(request).filter(pk=pk).first()
        if change is None or not allowed(request.user, change):
            raise Http404("No such page.")
        if (again := require_recent_second_factor(request)) is not None:
            return again
        form = DecisionForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                call(change=change, actor=request.user, reason=form.cleaned_data["reason"])
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, f"{title}: {change.summary()}.")
                return redirect(reverse("admin:approvals_staffingchange_change", args=[change.pk]))
        return self._page(request, f"{title}: {change}", form, submit=submit, change=change)

    def confirm_view(self, request, pk):
        return self._decide(
            request,
            pk,
            allowed=policies.can_confirm_staffing_change,
            call=services.confirm_staffing_change,
            title="Confirm",
            submit="Confirm the change",
        )

    def reject_view(self, request, pk):
        return self._decide(
            request,
            pk,
            allowed=policies.can_reject_staffing_change,
            call=services.reject_staffing_change,
            title="Reject",
            submit="Reject the change",
        )

    def _page(self, request, title, form, *, submit, change=None):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "form": form,
            "submit": submit,
            "change": change,
            "back": reverse("admin:approvals_staffingchange_changelist"),
        }
        return TemplateResponse(request, "admin/approvals/staffingchange/form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        valid = int_param(object_id) is not None
        change = self.get_queryset(request).filter(pk=object_id).first() if valid else None
        extra = dict(extra_context or {})
        if change is not None:
            extra["may_confirm"] = policies.can_confirm_staffing_change(request.user, change)
            extra["may_reject"] = policies.can_reject_staffing_change(request.user, change)
        return super().change_view(request, object_id, form_url, extra_context=extra)
