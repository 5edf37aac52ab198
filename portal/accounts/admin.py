from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from portal.accounts import lockout, mfa, services
from portal.accounts.forms import AccountInvitationForm
from portal.accounts.mfa_views import require_recent_second_factor
from portal.accounts.models import STAFF_ROLES, Organisation, SignInEvent, User
from portal.admin import BoundedListParameters, NotFoundForOutsiders, PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import stamp
from portal.errors import PortalError


class ResetSecondFactorForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="How the person proved who they are (kept in the history and mailed to them).",
    )


@admin.register(Organisation, site=admin_site)
class OrganisationAdmin(PortalModelAdmin):
    list_display = ["name", "kind", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    readonly_fields = ["created_at"]

    def get_queryset(self, request):
        # Organisations are directory data: every official may read the list.
        return Organisation.objects.all()

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(User, site=admin_site)
class UserAdmin(PortalModelAdmin, DjangoUserAdmin):
    """Portal administrators manage accounts; everyone else may only look.

    Separation of duties (issue 13): a person's organisation and role are never edited here.
    A portal administrator invites operators, auditors and an agency's first administrator
    (``AccountInvitationForm``); an agency's administrators decide its reviewers and approvers
    (Staffing changes), a vendor's compliance admins its team (``/vendor/team/``).
    """

    editable_by_portal_admin = True
    ordering = ["email"]
    list_display = ["email", "full_name", "organisation", "role", "is_active", "last_login"]
    list_filter = ["role", "is_active", "organisation__kind"]
    list_select_related = ["organisation"]
    search_fields = ["email", "full_name", "organisation__name"]
    readonly_fields = ["last_login", "date_joined", "is_staff", "second_factor"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "organisation", "role"]}),
        ("Status", {"fields": ["is_active", "is_staff", "second_factor", "last_login", "date_joined"]}),
    ]
    change_form_template = "admin/accounts/user/portal_change_form.html"
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["email", "full_name", "organisation", "role", "reason"],
            },
        ),
    ]
    filter_horizontal = []
    add_form = AccountInvitationForm

    @admin.display(description="second factor")
    def second_factor(self, obj):
        return "Authenticator app set up" if mfa.confirmed_app(obj) else "None set up"

    def get_urls(self):
        return [
            path(
                "<int:pk>/unlock-sign-in/",
                self.admin_site.admin_view(self.unlock_sign_in_view),
                name="accounts_user_unlock_sign_in",
            ),
            path(
                "<int:pk>/reset-second-factor/",
                self.admin_site.admin_view(self.reset_second_factor_view),
                name="accounts_user_reset_second_factor",
            ),
            *super().get_urls(),
        ]

    def reset_second_factor_view(self, request, pk):
        """A portal administrator removes a person's lost authenticator (issue 13)."""
        person = self.get_queryset(request).filter(pk=pk).first()
        if person is None or not request.user.is_portal_admin or person.pk == request.user.pk:
            raise Http404("No such page.")
        if (again := require_recent_second_factor(request)) is not None:
            return again
        form = ResetSecondFactorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                mfa.reset_second_factor(user=person, actor=request.user, reason=form.cleaned_data["reason"])
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(
                    request, f"{person.email}'s second factor was reset; they were told by mail."
                )
                return redirect(reverse("admin:accounts_user_change", args=[person.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Reset the second factor of {person.email}",
            "form": form,
            "person": person,
            "explanation": "The person's authenticator app, passkeys and recovery codes stop working; at "
            "their next sign-in they set up a new second factor. They are told by mail.",
            "submit": "Reset second factor",
        }
        return TemplateResponse(request, "admin/accounts/user/reset_second_factor.html", context)

    def unlock_sign_in_view(self, request, pk):
        """A portal administrator lifts a sign-in lockout (issue 13), with a reason in the history."""
        person = self.get_queryset(request).filter(pk=pk).first()
        if person is None or not request.user.is_portal_admin or not lockout.is_locked(person.email):
            raise Http404("No such page.")
        form = ResetSecondFactorForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lockout.unlock_sign_in(user=person, actor=request.user, reason=form.cleaned_data["reason"])
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, f"Sign-in for {person.email} is no longer paused.")
                return redirect(reverse("admin:accounts_user_change", args=[person.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Lift the sign-in lockout of {person.email}",
            "form": form,
            "person": person,
            "explanation": "Too many failed sign-ins paused this account's sign-in. Lift the pause only "
            "when you know the failures were the person's own.",
            "submit": "Lift the lockout",
        }
        return TemplateResponse(request, "admin/accounts/user/reset_second_factor.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = dict(extra_context or {})
        person = self.get_queryset(request).filter(pk=object_id).first() if str(object_id).isdigit() else None
        extra["may_unlock_sign_in"] = bool(
            person and request.user.is_portal_admin and lockout.is_locked(person.email)
        )
        extra["may_reset_second_factor"] = request.user.is_portal_admin and str(object_id) != str(
            request.user.pk
        )
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ["organisation", "role"]
        return fields

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if obj is None:

            class RequestBoundForm(form):
                def __init__(self, *args, **kw):
                    super().__init__(*args, request=request, **kw)

            return RequestBoundForm
        return form

    def get_queryset(self, request):
        qs = User.objects.select_related("organisation")
        if request.user.sees_everything:
            return qs
        return qs.filter(organisation=request.user.organisation)

    def has_view_permission(self, request, obj=None):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or user.sees_everything or obj.organisation_id == user.organisation_id

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is not None and not self.has_change_permission(request, obj):
            # readers get neither the password hash summary nor its "Reset password" button
            fieldsets = [
                (name, {**options, "fields": [f for f in options["fields"] if f != "password"]})
                for name, options in fieldsets
            ]
        return fieldsets

    def save_model(self, request, obj, form, change):
        if not change:
            try:
                invited = services.invite_account(
                    organisation=form.cleaned_data["organisation"],
                    email=form.cleaned_data["email"],
                    full_name=form.cleaned_data["full_name"],
                    role=form.cleaned_data["role"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except PortalError as error:
                raise PermissionDenied(error.message) from error
            obj.pk = invited.pk
            return
        before = User.objects.only("organisation_id", "role", "is_superuser").get(pk=obj.pk)
        if (before.organisation_id, before.role, before.is_superuser) != (
            obj.organisation_id,
            obj.role,
            obj.is_superuser,
        ):
            raise PermissionDenied("An account's organisation and role are not changed here.")
        obj.is_staff = obj.role in STAFF_ROLES
        stamp(obj, actor=request.user, reason="Account changed in the admin by a portal administrator.")
        super().save_model(request, obj, form, change)


@admin.register(SignInEvent, site=admin_site)
class SignInEventAdmin(BoundedListParameters, NotFoundForOutsiders, admin.ModelAdmin):
    """Append-only: auditors and portal administrators read it; nobody edits it."""

    list_display = ["at", "email", "outcome", "ip_address", "user"]
    list_filter = ["outcome"]
    search_fields = ["email", "ip_address"]
    list_select_related = ["user"]
    date_hierarchy = "at"

    def has_module_permission(self, request):
        return request.user.is_active and request.user.sees_everything

    def has_view_permission(self, request, obj=None):
        return self.has_module_permission(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
