"""Shared by the registry's services: roles, fields, guards, saving with history, sharing."""

from django.core.exceptions import ValidationError

from portal.accounts.models import VENDOR_ROLES, Role
from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.permissions import grant, grant_many, has_object_permission
from vendors.models import (
    FrontierModel,
    PartnerCustomer,
    Vendor,
)

EDITOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.VENDOR_OFFICER})
VENDOR_CREATOR_ROLES = frozenset({Role.PORTAL_ADMIN, Role.SYSTEM})

PROFILE_FIELDS = (
    "legal_name",
    "registration_ids",
    "primary_contact_name",
    "primary_contact_email",
    "primary_contact_phone",
)
MODEL_FIELDS = (
    "name",
    "version",
    "description",
    "training_compute_flop",
    "capability_summary",
    "cyber_evaluation_summary",
    "intended_release",
)
# What the agencies reviewed: fixed once the model has left the "registered" phase.
MODEL_REVIEWED_FIELDS = ("name", "version", "training_compute_flop")
CUSTOMER_FIELDS = (
    "legal_name",
    "country",
    "sector",
    "registration_id",
    "intended_use",
    "ownership",
    "security_contact_name",
    "security_contact_email",
)
CUSTOMER_IDENTITY_FIELDS = ("legal_name", "country")


def _save(instance, *, actor, reason, update_fields=None):
    """``save_with_history`` with model validation turned into a message for the form."""
    try:
        return save_with_history(instance, actor=actor, reason=reason, update_fields=update_fields)
    except ValidationError as exc:
        raise _portal_error(exc) from None


def _portal_error(exc):
    if hasattr(exc, "message_dict"):
        pairs = [(field, message) for field, messages in exc.message_dict.items() for message in messages]
    else:
        pairs = [(None, message) for message in exc.messages]
    field = pairs[0][0] if pairs and pairs[0][0] != "__all__" else None
    return PortalError(pairs[0][1], field=field, messages=[message for _, message in pairs])


def _reason(reason, default):
    reason = " ".join((reason or "").split())
    return reason or default


def _vendor_of(user):
    return Vendor.objects.filter(organisation_id=user.organisation_id).first()


def _require_member_of(actor, vendor):
    if not (
        actor.is_active and actor.role in VENDOR_ROLES and actor.organisation_id == vendor.organisation_id
    ):
        raise PortalError("Only members of this vendor may do that.")


def _require_editor(actor, vendor):
    """Compliance admins and officers of ``vendor`` register and change its records."""
    _require_member_of(actor, vendor)
    if actor.role not in EDITOR_ROLES or not has_object_permission(actor, vendor, "contribute"):
        raise PortalError("Viewers can read the registry but not change it. Ask a compliance admin.")


def _require_team_admin(actor, vendor):
    _require_member_of(actor, vendor)
    if actor.role != Role.VENDOR_ADMIN or not has_object_permission(actor, vendor, "manage_team"):
        raise PortalError("Only the vendor's compliance admins may manage the team and the profile.")


def _require_change(actor, obj, vendor):
    _require_editor(actor, vendor)
    if not has_object_permission(actor, obj, "change"):
        raise PortalError("You may not change this record.")


def share_with_vendor(obj, vendor):
    """Give the vendor's members ``view`` and its editors ``view`` and ``change`` on ``obj``."""
    grant("view", vendor.members_group, obj)
    grant(["view", "change"], vendor.editors_group, obj)


def _share_many_with_vendor(objs, vendor):
    """``share_with_vendor`` for many new rows at once (a CSV import): the same grants, written
    with one bulk insert per permission instead of a few queries per row."""
    grant_many("view", vendor.members_group, objs)
    grant_many(["view", "change"], vendor.editors_group, objs)


def share_with_group(obj, group):
    """Let ``group`` (an agency's officials) read ``obj`` and its evidence. Called by the review
    services when a referral concerns the record; the registry never calls it on its own."""
    grant("view", group, obj)
    if isinstance(obj, FrontierModel | PartnerCustomer):
        for document in obj.evidence_documents.all():
            grant("view", group, document)
