from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied

from portal.accounts import services
from portal.accounts.forms import AccountInvitationForm
from portal.accounts.models import STAFF_ROLES, Organisation, SignInEvent, User
from portal.admin import NotFoundForOutsiders, PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import stamp
from portal.errors import PortalError


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
    readonly_fields = ["last_login", "date_joined", "is_staff"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "organisation", "role"]}),
        ("Status", {"fields": ["is_active", "is_staff", "last_login", "date_joined"]}),
    ]
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
class SignInEventAdmin(NotFoundForOutsiders, admin.ModelAdmin):
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
