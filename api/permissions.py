"""Who may call the API at all: vendor members (a token is always a vendor's); agency officials,
auditors and portal administrators read through their session. A read-only token, or a viewer,
never writes."""

from rest_framework import permissions

from api.models import ApiToken
from portal.accounts.models import Role

WRITER_ROLES = {Role.VENDOR_ADMIN, Role.VENDOR_OFFICER}


class ApiAccess(permissions.BasePermission):
    message = "Sign in or send an API token."

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in permissions.SAFE_METHODS:
            return True
        if isinstance(request.auth, ApiToken) and not request.auth.can_write:
            self.message = "This token may only read; create a read-write token to make changes."
            return False
        if user.role not in WRITER_ROLES:
            self.message = "Your role may not make changes."
            return False
        return True


class VendorOnly(permissions.BasePermission):
    """Endpoints that make sense only for a vendor (its own records)."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_vendor_member)
