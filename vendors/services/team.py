"""The vendor and its team: creation, profile, invitations, roles."""

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from portal.accounts import services as account_services
from portal.accounts.models import VENDOR_ROLES, Organisation, Role, User
from portal.audit.versions import require_current
from portal.errors import PortalError
from portal.notifications.services import notify
from portal.permissions import grant, has_object_permission
from vendors.models import (
    Vendor,
)
from vendors.onboarding.services import request_name_change, require_free_name
from vendors.services._common import (
    EDITOR_ROLES,
    PROFILE_FIELDS,
    VENDOR_CREATOR_ROLES,
    _reason,
    _require_team_admin,
    _save,
    _vendor_of,
)


@transaction.atomic
def create_vendor(
    *,
    organisation,
    legal_name,
    registration_ids="",
    primary_contact_name="",
    primary_contact_email="",
    primary_contact_phone="",
    actor,
    reason,
):
    """Register ``organisation`` as a vendor, with its three permission groups."""
    if actor.role not in VENDOR_CREATOR_ROLES:
        raise PortalError("Only portal administrators register vendors.")
    if organisation.kind != Organisation.Kind.VENDOR:
        raise PortalError(f"{organisation} is not a vendor organisation.", field="organisation")
    if Vendor.objects.filter(organisation=organisation).exists():
        raise PortalError(f"{organisation} is already registered as a vendor.", field="organisation")
    require_free_name(legal_name)
    prefix = f"vendor {organisation.pk}"
    vendor = Vendor(
        organisation=organisation,
        legal_name=" ".join((legal_name or "").split()),
        registration_ids=registration_ids,
        primary_contact_name=primary_contact_name,
        primary_contact_email=primary_contact_email,
        primary_contact_phone=primary_contact_phone,
        members_group=Group.objects.create(name=f"{prefix} members"),
        editors_group=Group.objects.create(name=f"{prefix} editors"),
        admins_group=Group.objects.create(name=f"{prefix} admins"),
    )
    _save(vendor, actor=actor, reason=reason)
    grant("view", vendor.members_group, vendor)
    grant(["view", "contribute"], vendor.editors_group, vendor)
    grant(["view", "change", "manage_team"], vendor.admins_group, vendor)
    for member in organisation.members.all():
        sync_member_groups(member, vendor=vendor)
    return vendor


def sync_member_groups(user, *, vendor=None):
    """Put a vendor member in exactly the groups of their role (none once deactivated)."""
    vendor = vendor or _vendor_of(user)
    if vendor is None:
        return
    groups = {vendor.members_group, vendor.editors_group, vendor.admins_group}
    wanted = set()
    if user.is_active and user.role in VENDOR_ROLES and user.organisation_id == vendor.organisation_id:
        wanted.add(vendor.members_group)
        if user.role in EDITOR_ROLES:
            wanted.add(vendor.editors_group)
        if user.role == Role.VENDOR_ADMIN:
            wanted.add(vendor.admins_group)
    user.groups.remove(*(groups - wanted))
    if wanted:
        user.groups.add(*wanted)
    # guardian caches permissions on the user object; a changed membership must be seen now.
    for attr in [a for a in vars(user) if a.startswith("_guardian") or a.endswith("_perm_cache")]:
        delattr(user, attr)


@transaction.atomic
def update_vendor_profile(*, vendor, actor, reason="", expected_version=None, **changes):
    """Change the vendor's legal name, registration ids or contacts (compliance admins)."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_team_admin(actor, vendor)
    require_current(vendor, expected_version, label="The vendor profile")
    if not has_object_permission(actor, vendor, "change"):
        raise PortalError("You may not change this vendor's profile.")
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise PortalError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    if "legal_name" in changes:
        changes["legal_name"] = " ".join((changes["legal_name"] or "").split())
    changed = [f for f, v in changes.items() if getattr(vendor, f) != v]
    if not changed:
        raise PortalError("Nothing was changed.")
    if "legal_name" in changed:
        # Issue 13: a new legal name waits for a portal administrator (onboarding.services).
        changed.remove("legal_name")
        if not changes["legal_name"]:
            raise PortalError("Enter the company's legal name.", field="legal_name")
        request_name_change(vendor=vendor, new_name=changes["legal_name"], actor=actor, reason=reason)
        if not changed:
            return vendor
    for field in changed:
        setattr(vendor, field, changes[field])
    return _save(vendor, actor=actor, reason=_reason(reason, "Profile updated"), update_fields=changed)


@transaction.atomic
def set_security_contact_notices(*, vendor, actor, enabled, reason=""):
    """Switch on or off the plain notice the partner customers' security contacts are sent when
    a grant of theirs is suspended or revoked (compliance admins; on by default)."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_team_admin(actor, vendor)
    enabled = bool(enabled)
    if vendor.notify_customer_security_contacts == enabled:
        state = "already told" if enabled else "already not told"
        raise PortalError(f"The security contacts are {state}: nothing was changed.")
    vendor.notify_customer_security_contacts = enabled
    default = (
        "Partner customers' security contacts are told of suspensions and revocations"
        if enabled
        else "Partner customers' security contacts are no longer told of suspensions and revocations"
    )
    return _save(
        vendor,
        actor=actor,
        reason=_reason(reason, default),
        update_fields=["notify_customer_security_contacts"],
    )


def _active_admins_locked(vendor):
    return list(
        User.objects.select_for_update()
        .filter(organisation_id=vendor.organisation_id, role=Role.VENDOR_ADMIN, is_active=True)
        .values_list("pk", flat=True)
    )


def _team_member(vendor, member):
    member = User.objects.select_for_update().get(pk=member.pk)
    if member.organisation_id != vendor.organisation_id:
        raise PortalError("That person is not a member of your vendor.")
    return member


@transaction.atomic
def invite_member(*, vendor, email, full_name, role, actor, reason=""):
    """Add a colleague without a password and e-mail them a one-time link to set one.

    An address that already has an account (in any organisation) is not added and not
    changed; its owner is told by mail instead, and the service returns ``None``. The
    inviter is told the same thing either way, so the form cannot reveal who has an account."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_team_admin(actor, vendor)
    if role not in VENDOR_ROLES:
        raise PortalError("Choose a role: compliance admin, compliance officer or viewer.", field="role")
    if not " ".join((full_name or "").split()):
        raise PortalError("Enter the colleague's full name.", field="full_name")
    existing = User.objects.filter(email__iexact=(email or "").strip()).first()
    if existing is not None:
        _tell_existing_account(existing, vendor=vendor, role=role, actor=actor)
        return None
    member = account_services.create_member(
        organisation=vendor.organisation,
        email=email,
        full_name=full_name,
        role=role,
        actor=actor,
        reason=_reason(reason, f"Invited to {vendor} by {actor.email}"),
    )
    sync_member_groups(member, vendor=vendor)
    uid = urlsafe_base64_encode(force_bytes(member.pk))
    token = default_token_generator.make_token(member)
    link = reverse("accounts:password_reset_confirm", kwargs={"uidb64": uid, "token": token})
    notify(
        event="team_invitation",
        recipients=[member],
        subject=f"You are invited to {vendor} on the Frontier Access Portal",
        context={
            "vendor": vendor.legal_name,
            "inviter": actor.full_name or actor.email,
            "role": Role(role).label,
        },
        link=link,
        key=f"user:{member.pk}:{timezone.now().timestamp():.0f}",
        object_label=vendor.legal_name,
    )
    return member


def _tell_existing_account(user, *, vendor, role, actor):
    notify(
        event="team_invitation_existing_account",
        recipients=[user],
        subject=f"Someone tried to invite you to {vendor} on the Frontier Access Portal",
        context={
            "vendor": vendor.legal_name,
            "inviter": actor.full_name or actor.email,
            "role": Role(role).label,
        },
        key=f"invite-existing:{vendor.pk}:{user.pk}:{timezone.now().timestamp():.0f}",
        object_label=vendor.legal_name,
    )


@transaction.atomic
def change_member_role(*, vendor, member, role, actor, reason="", expected_version=None):
    """Make a member an admin, officer or viewer; the last active admin stays an admin."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_team_admin(actor, vendor)
    admins = _active_admins_locked(vendor)
    member = _team_member(vendor, member)
    require_current(member, expected_version, label=member.email)
    if role not in VENDOR_ROLES:
        raise PortalError("Choose a role: compliance admin, compliance officer or viewer.", field="role")
    if member.role == role:
        raise PortalError(f"{member.email} is already {Role(role).label.lower()}.", field="role")
    if not member.is_active:
        raise PortalError(f"{member.email} is deactivated; their role cannot be changed.")
    if member.pk in admins and len(admins) == 1:
        raise PortalError(
            f"{member.email} is the vendor's only compliance admin. Make someone else an admin first: "
            "a vendor always has at least one.",
            field="role",
        )
    member = account_services.change_role(
        user=member,
        role=role,
        actor=actor,
        reason=_reason(reason, f"Role changed to {Role(role).label} by {actor.email}"),
    )
    sync_member_groups(member, vendor=vendor)
    return member


@transaction.atomic
def deactivate_member(*, vendor, member, actor, reason="", expected_version=None):
    """Take away a member's access; the last active admin cannot be deactivated."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_team_admin(actor, vendor)
    admins = _active_admins_locked(vendor)
    member = _team_member(vendor, member)
    require_current(member, expected_version, label=member.email)
    if not member.is_active:
        raise PortalError(f"{member.email} is already deactivated.")
    if member.pk in admins and len(admins) == 1:
        raise PortalError(
            f"{member.email} is the vendor's only compliance admin and cannot be deactivated. "
            "Make someone else an admin first: a vendor always has at least one."
        )
    member = account_services.deactivate_member(
        user=member, actor=actor, reason=_reason(reason, f"Deactivated by {actor.email}")
    )
    sync_member_groups(member, vendor=vendor)
    return member
