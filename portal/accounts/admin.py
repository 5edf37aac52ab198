from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from portal.accounts.forms import AdminUserCreationForm
from portal.accounts.models import STAFF_ROLES, Organisation, SignInEvent, User
from portal.admin import NotFoundForOutsiders, PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import stamp


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
    """Portal administrators manage accounts; everyone else may only look."""

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
                "fields": ["email", "full_name", "organisation", "role", "password1", "password2"],
            },
        ),
    ]
    filter_horizontal = []
    add_form = AdminUserCreationForm

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
