"""Who may manage a vendor's API tokens and webhooks, and use a token: stated once here.

The services enforce ``require_<verb>``; the vendor pages show their buttons by asking
``can_<verb>``. A compliance admin of the vendor (who holds ``manage_team`` on it) manages
both; every member reads the lists.
"""

from portal.accounts.models import Role
from portal.errors import PortalError
from portal.permissions import has_object_permission


def can_manage_integrations(user, vendor):
    """Create and revoke tokens, register and change webhook endpoints, redeliver events."""
    return (
        user is not None
        and user.is_authenticated
        and user.is_active
        and vendor is not None
        and user.role == Role.VENDOR_ADMIN
        and user.organisation_id == vendor.organisation_id
        and has_object_permission(user, vendor, "manage_team")
    )


def require_manage_integrations(user, vendor):
    if not can_manage_integrations(user, vendor):
        raise PortalError("Only a compliance admin of this vendor manages its API tokens and webhooks.")


def token_may_act(token, user):
    """A token acts for its creator while the creator is an active member of the token's vendor;
    a creator who left the vendor or was deactivated takes the token's power with them."""
    return (
        user.is_active
        and user.role in (Role.VENDOR_ADMIN, Role.VENDOR_OFFICER, Role.VENDOR_VIEWER)
        and user.organisation_id == token.vendor.organisation_id
    )
