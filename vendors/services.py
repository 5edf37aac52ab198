"""Every change to the registry: one function per verb, each in one transaction.

Each service checks the actor's role and object permission and the record's state, writes
history with the actor and a reason, and grants object permissions on what it creates:
``view`` to the vendor's ``members_group`` and ``change`` to its ``editors_group``.
"""

import math

from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.html import format_html
from django.utils.http import urlsafe_base64_encode

from portal.accounts import services as account_services
from portal.accounts.models import VENDOR_ROLES, Organisation, Role, User
from portal.audit.history import save_with_history, stamp
from portal.audit.versions import require_current
from portal.errors import PortalError
from portal.notifications.services import notify
from portal.permissions import grant, grant_many, has_object_permission
from vendors import amendments
from vendors.choices import COUNTRY_NAMES
from vendors.models import (
    EvidenceDocument,
    FrontierModel,
    PartnerCustomer,
    Vendor,
    normalise_name,
    parse_flop,
)
from vendors.onboarding.services import request_name_change, require_free_name
from vendors.uploads import validate_document

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


# ---------------------------------------------------------------------------------------------
# Helpers


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


# ---------------------------------------------------------------------------------------------
# Vendor and team


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


# ---------------------------------------------------------------------------------------------
# Frontier models


def _compute(value):
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise PortalError(
                "Training compute must be a finite number of FLOP.", field="training_compute_flop"
            )
        if value < 0:
            raise PortalError("Training compute cannot be negative.", field="training_compute_flop")
        if value == 0:
            raise PortalError("Training compute must be more than zero.", field="training_compute_flop")
        return float(value)
    try:
        return parse_flop(value)
    except ValueError as exc:
        raise PortalError(str(exc), field="training_compute_flop") from None


def _model_duplicate(vendor, name, version, exclude_pk=None):
    existing = FrontierModel.objects.filter(vendor=vendor, name__iexact=name, version__iexact=version)
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    existing = existing.first()
    if existing is not None:
        raise PortalError(
            format_html(
                '{} {} is already registered: <a class="usa-link" href="{}">open it</a>.',
                existing.name,
                existing.version,
                reverse("vendors:model_detail", args=[existing.pk]),
            ),
            field="version",
        )


@transaction.atomic
def register_frontier_model(
    *,
    vendor,
    name,
    version,
    training_compute_flop,
    description="",
    capability_summary="",
    cyber_evaluation_summary="",
    intended_release="",
    actor,
    reason="",
):
    """Register a model of ``vendor`` in the ``registered`` phase."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_editor(actor, vendor)
    name = " ".join((name or "").split())
    version = " ".join((version or "").split())
    if not name:
        raise PortalError("Enter the model's name.", field="name")
    if not version:
        raise PortalError("Enter the model's version, for example 2.0.", field="version")
    _model_duplicate(vendor, name, version)
    frontier_model = FrontierModel(
        vendor=vendor,
        name=name,
        version=version,
        description=description or "",
        training_compute_flop=_compute(training_compute_flop),
        capability_summary=capability_summary or "",
        cyber_evaluation_summary=cyber_evaluation_summary or "",
        intended_release=intended_release or "",
        created_by=actor,
    )
    try:
        with transaction.atomic():
            _save(frontier_model, actor=actor, reason=_reason(reason, "Registered by the vendor"))
    except IntegrityError:
        raise PortalError(f"{name} {version} is already registered.", field="version") from None
    share_with_vendor(frontier_model, vendor)
    return frontier_model


@transaction.atomic
def update_frontier_model(*, frontier_model, actor, reason="", expected_version=None, **changes):
    """Edit a model's description and evaluation; name, version and compute only while registered.

    A change to a material fact while the model is held by a request or a grant is an amendment
    (``vendors.amendments``)."""
    Vendor.objects.select_for_update(no_key=True).filter(pk=frontier_model.vendor_id).first()
    amendments.holders(frontier_model, lock=True)
    frontier_model = (
        FrontierModel.objects.select_for_update().select_related("vendor").get(pk=frontier_model.pk)
    )
    vendor = frontier_model.vendor
    _require_change(actor, frontier_model, vendor)
    require_current(frontier_model, expected_version)
    unknown = set(changes) - set(MODEL_FIELDS)
    if unknown:
        raise PortalError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    Phase = FrontierModel.ReleasePhase
    if frontier_model.release_phase in {Phase.WITHDRAWN, Phase.SUSPENDED}:
        raise PortalError(
            f"{frontier_model} is {frontier_model.get_release_phase_display().lower()}; it can no longer be "
            "changed."
        )
    if "training_compute_flop" in changes:
        changes["training_compute_flop"] = _compute(changes["training_compute_flop"])
    for key in ("name", "version"):
        if key in changes:
            changes[key] = " ".join((changes[key] or "").split())
            if not changes[key]:
                raise PortalError(f"Enter the model's {key}.", field=key)
    changed = [f for f, v in changes.items() if getattr(frontier_model, f) != v]
    if not changed:
        raise PortalError("Nothing was changed.")
    if frontier_model.release_phase != Phase.REGISTERED:
        frozen = [f for f in changed if f in MODEL_REVIEWED_FIELDS]
        if frozen:
            label = FrontierModel._meta.get_field(frozen[0]).verbose_name
            raise PortalError(
                f"The {label} cannot change once the model has gone to review: the agencies review "
                "what was registered. Register the new version as a new model instead.",
                field=frozen[0],
            )
    if {"name", "version"} & set(changed):
        _model_duplicate(
            vendor,
            changes.get("name", frontier_model.name),
            changes.get("version", frontier_model.version),
            exclude_pk=frontier_model.pk,
        )
    before = {f: getattr(frontier_model, f) for f in MODEL_FIELDS}
    for field in changed:
        setattr(frontier_model, field, changes[field])
    frontier_model.updated_at = timezone.now()
    _save(
        frontier_model,
        actor=actor,
        reason=_reason(reason, "Edited by the vendor"),
        update_fields=[*changed, "updated_at"],
    )
    amendments.announce(frontier_model, actor=actor, reason=reason, before=before)
    return frontier_model


@transaction.atomic
def withdraw_frontier_model(*, frontier_model, actor, reason):
    """The vendor takes a model back; the only release-phase change a vendor may make."""
    frontier_model = (
        FrontierModel.objects.select_for_update().select_related("vendor").get(pk=frontier_model.pk)
    )
    _require_change(actor, frontier_model, frontier_model.vendor)
    reason = " ".join((reason or "").split())
    if not reason:
        raise PortalError("Say why the model is withdrawn; the agencies will read it.", field="reason")
    Phase = FrontierModel.ReleasePhase
    if frontier_model.release_phase == Phase.WITHDRAWN:
        raise PortalError(f"{frontier_model} is already withdrawn.")
    if frontier_model.release_phase == Phase.SUSPENDED:
        raise PortalError(
            f"{frontier_model} is suspended by an enforcement action and stays so until the agency lifts it."
        )
    frontier_model.release_phase = Phase.WITHDRAWN
    frontier_model.updated_at = timezone.now()
    return _save(
        frontier_model,
        actor=actor,
        reason=f"Withdrawn by the vendor: {reason}",
        update_fields=["release_phase", "updated_at"],
    )


# ---------------------------------------------------------------------------------------------
# Partner customers


def duplicate_customer_message(existing):
    """The refusal for a second customer with the same normalised name and country."""
    return format_html(
        '{} ({}) is already one of your partner customers: <a class="usa-link" href="{}">open it</a>.',
        existing.legal_name,
        existing.country_name,
        reverse("vendors:customer_detail", args=[existing.pk]),
    )


def clean_customer_fields(data):
    """Normalise and check one customer's fields; return ``(cleaned, [(field, message), ...])``.

    Shared by the form services and the CSV import, so both refuse the same things the same way.
    """
    from django.core.validators import validate_email

    from vendors.choices import Sector

    cleaned = {}
    problems = []
    limits = {f: PartnerCustomer._meta.get_field(f).max_length for f in CUSTOMER_FIELDS}
    for field in CUSTOMER_FIELDS:
        value = data.get(field, "")
        value = "" if value is None else str(value)
        value = value.strip() if field in ("intended_use", "ownership") else " ".join(value.split())
        cleaned[field] = value
    labels = {
        "legal_name": "legal name",
        "country": "country",
        "sector": "sector",
        "intended_use": "intended use",
        "security_contact_name": "security contact's name",
        "security_contact_email": "security contact's e-mail address",
    }
    for field, label in labels.items():
        if not cleaned[field]:
            problems.append((field, f"Enter the {label}."))
    for field, limit in limits.items():
        if field in {"country", "sector"}:
            continue
        if limit and len(cleaned[field]) > limit:
            problems.append(
                (field, f"The {field.replace('_', ' ')} is too long: at most {limit} characters.")
            )
    if len(cleaned["ownership"]) > 2000:
        problems.append(("ownership", "The ownership is too long: at most 2,000 characters."))
    if len(cleaned["intended_use"]) > 5000:
        problems.append(("intended_use", "The intended use is too long: at most 5,000 characters."))
    if cleaned["legal_name"] and not normalise_name(cleaned["legal_name"]):
        problems.append(("legal_name", "The legal name needs at least one letter or digit."))
    if cleaned["country"]:
        typed = cleaned["country"]
        cleaned["country"] = typed.upper()
        if cleaned["country"] not in COUNTRY_NAMES:
            problems.append(("country", f"“{typed[:40]}” is not an ISO 3166-1 country."))
    if cleaned["sector"] and cleaned["sector"] not in Sector.values:
        problems.append(("sector", f"“{cleaned['sector'][:40]}” is not one of the sectors."))
    if cleaned["security_contact_email"]:
        cleaned["security_contact_email"] = cleaned["security_contact_email"].lower()
        try:
            validate_email(cleaned["security_contact_email"])
        except ValidationError:
            problems.append(
                ("security_contact_email", "Enter a valid e-mail address, like name@example.com.")
            )
    return cleaned, problems


def _in_cell(column, value, message):
    """An import error names its column and what was typed there: the row is named beside it."""
    typed = " ".join(str(value if value is not None else "").split())
    shown = f"“{typed[:40]}{'…' if len(typed) > 40 else ''}”" if typed else "empty"
    return f"Column {column} ({shown}): {message}"


def _raise_problems(problems):
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems[:1]])


def _customer_duplicate(vendor, legal_name, country, exclude_pk=None):
    existing = PartnerCustomer.objects.filter(
        vendor=vendor, normalised_name=normalise_name(legal_name), country=country
    )
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    existing = existing.first()
    if existing is not None:
        raise PortalError(duplicate_customer_message(existing), field="legal_name")


@transaction.atomic
def register_partner_customer(*, vendor, actor, attestation=False, reason="", **fields):
    """Register a partner customer of ``vendor``; unique by normalised name and country."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_editor(actor, vendor)
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise PortalError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    cleaned, problems = clean_customer_fields(fields)
    _raise_problems(problems)
    _customer_duplicate(vendor, cleaned["legal_name"], cleaned["country"])
    now = timezone.now()
    customer = PartnerCustomer(vendor=vendor, created_by=actor, created_at=now, updated_at=now, **cleaned)
    if attestation:
        customer.attestation = True
        customer.attested_by = actor
        customer.attested_at = now
    try:
        with transaction.atomic():
            _save(customer, actor=actor, reason=_reason(reason, "Registered by the vendor"))
    except IntegrityError:
        raise PortalError(
            "This customer is already registered for your vendor.", field="legal_name"
        ) from None
    share_with_vendor(customer, vendor)
    return customer


@transaction.atomic
def update_partner_customer(
    *, partner_customer, actor, reason="", attestation=None, expected_version=None, **changes
):
    """Edit a customer; its legal name and country are fixed once it is in a submitted request.

    A change to a material fact while the customer is held by a request under review or an active
    grant is an amendment (``vendors.amendments``)."""
    Vendor.objects.select_for_update(no_key=True).filter(pk=partner_customer.vendor_id).first()
    amendments.holders(partner_customer, lock=True)
    customer = (
        PartnerCustomer.objects.select_for_update().select_related("vendor").get(pk=partner_customer.pk)
    )
    vendor = customer.vendor
    _require_change(actor, customer, vendor)
    require_current(customer, expected_version)
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise PortalError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    merged = {f: getattr(customer, f) for f in CUSTOMER_FIELDS}
    merged.update(changes)
    cleaned, problems = clean_customer_fields(merged)
    _raise_problems(problems)
    changed = [f for f in CUSTOMER_FIELDS if getattr(customer, f) != cleaned[f]]
    if attestation is not None and bool(attestation) != customer.attestation:
        changed += ["attestation", "attested_by", "attested_at"]
    if not changed:
        raise PortalError("Nothing was changed.")
    if customer.identity_frozen:
        frozen = [f for f in changed if f in CUSTOMER_IDENTITY_FIELDS]
        if frozen:
            raise PortalError(
                f"The {frozen[0].replace('_', ' ')} cannot change: this customer is in a submitted access "
                "request, and the agencies review the customer as it was submitted.",
                field=frozen[0],
            )
    if {"legal_name", "country"} & set(changed):
        _customer_duplicate(vendor, cleaned["legal_name"], cleaned["country"], exclude_pk=customer.pk)
    before = {f: getattr(customer, f) for f in CUSTOMER_FIELDS}
    for field in CUSTOMER_FIELDS:
        setattr(customer, field, cleaned[field])
    if "attestation" in changed:
        customer.attestation = bool(attestation)
        customer.attested_by = actor if attestation else None
        customer.attested_at = timezone.now() if attestation else None
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            _save(
                customer,
                actor=actor,
                reason=_reason(reason, "Edited by the vendor"),
                update_fields=[*changed, "updated_at"],
            )
    except IntegrityError:
        raise PortalError("Another customer already has this name and country.", field="legal_name") from None
    amendments.announce(customer, actor=actor, reason=reason, before=before)
    return customer


# ---------------------------------------------------------------------------------------------
# Evidence


@transaction.atomic
def attach_evidence(
    *, kind, title, uploaded_file, actor, frontier_model=None, partner_customer=None, reason=""
):
    """Attach a PDF or text document to one model or one customer."""
    if (frontier_model is None) == (partner_customer is None):
        raise PortalError("Attach the document to one model or one customer.")
    target = frontier_model or partner_customer
    target = type(target).objects.select_for_update().select_related("vendor").get(pk=target.pk)
    vendor = target.vendor
    _require_change(actor, target, vendor)
    if kind not in EvidenceDocument.Kind.values:
        raise PortalError("Choose what kind of document this is.", field="kind")
    title = " ".join((title or "").split())
    if not title:
        raise PortalError("Give the document a title, for example “Model card v2”.", field="title")
    if len(title) > 200:
        raise PortalError("The title is too long: at most 200 characters.", field="title")
    content_type, sha256, size = validate_document(uploaded_file)
    original = (getattr(uploaded_file, "name", "") or "document").rsplit("/", 1)[-1][:255]
    document = EvidenceDocument(
        vendor=vendor,
        frontier_model=target if isinstance(target, FrontierModel) else None,
        partner_customer=target if isinstance(target, PartnerCustomer) else None,
        kind=kind,
        title=title,
        original_filename=original,
        content_type=content_type,
        size_bytes=size,
        sha256=sha256,
        uploaded_by=actor,
    )
    extension = ".pdf" if content_type == "application/pdf" else ".txt"
    document.file.save(f"{sha256[:16]}{extension}", uploaded_file, save=False)
    try:
        _save(document, actor=actor, reason=_reason(reason, f"Evidence attached to {target}"))
    except Exception:
        document.file.delete(save=False)
        raise
    share_with_vendor(document, vendor)
    return document


# ---------------------------------------------------------------------------------------------
# Bulk import


def import_partner_customers(*, vendor, rows, actor, reason=""):
    """Create every customer in ``rows`` (dicts of CUSTOMER_FIELDS plus ``attestation``), or none.

    Every row is checked first, against the database and against the other rows; any defect
    refuses the whole import with one message per bad row (``row`` numbers as in the file).
    Returns the created customers.
    """
    from simple_history.utils import bulk_create_with_history

    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        _require_editor(actor, vendor)
        checked, errors = check_customer_rows(vendor, rows)
        if errors:
            raise PortalError(
                f"Nothing was imported: {len(errors)} row{'s' if len(errors) != 1 else ''} need fixing.",
                messages=[f"Row {row}: {message}" for row, message in errors],
            )
        if not checked:
            raise PortalError("The file has no customers to import.")
        now = timezone.now()
        reason = _reason(reason, "Imported by the vendor from a CSV file")
        customers = []
        for cleaned, attestation in checked:
            customer = PartnerCustomer(
                vendor=vendor,
                normalised_name=normalise_name(cleaned["legal_name"]),
                created_by=actor,
                created_at=now,
                updated_at=now,
                attestation=attestation,
                attested_by=actor if attestation else None,
                attested_at=now if attestation else None,
                **cleaned,
            )
            stamp(customer, actor=actor, reason=reason)
            customers.append(customer)
        try:
            with transaction.atomic():
                created = bulk_create_with_history(
                    customers,
                    PartnerCustomer,
                    batch_size=500,
                    default_user=actor,
                    default_change_reason=reason,
                )
        except IntegrityError:
            raise PortalError(
                "Nothing was imported: some of these customers were registered while you were importing. "
                "Upload the file again to see which."
            ) from None
        if any(c.pk is None for c in created):
            created = list(
                PartnerCustomer.objects.filter(vendor=vendor, created_at=now, created_by=actor).order_by("pk")
            )
        _share_many_with_vendor(created, vendor)
        return created


def check_customer_rows(vendor, rows):
    """Check import rows without writing: ``([(cleaned, attestation), ...], [(row, message), ...])``.

    One query loads the vendor's existing names; duplicates inside the file are found too.
    """
    existing = {
        (normalised, country): pk
        for normalised, country, pk in PartnerCustomer.objects.filter(vendor=vendor).values_list(
            "normalised_name", "country", "pk"
        )
    }
    seen = {}
    checked = []
    errors = []
    for row in rows:
        number = row.get("row")
        cleaned, problems = clean_customer_fields(row)
        if row.get("problems") or problems:
            errors.extend((number, message) for message in row.get("problems", []))
            errors.extend((number, _in_cell(field, row.get(field), message)) for field, message in problems)
            continue
        key = (normalise_name(cleaned["legal_name"]), cleaned["country"])
        if key in existing:
            errors.append(
                (
                    number,
                    f"{cleaned['legal_name']} ({COUNTRY_NAMES[cleaned['country']]}) is already one of your "
                    f"partner customers (/vendor/customers/{existing[key]}/).",
                )
            )
            continue
        if key in seen:
            errors.append(
                (number, f"{cleaned['legal_name']} ({cleaned['country']}) is also on row {seen[key]}.")
            )
            continue
        seen[key] = number
        checked.append((cleaned, bool(row.get("attestation"))))
    return checked, errors


MAX_LISTED_IMPORT_ERRORS = 2000


@transaction.atomic
def preview_customer_import(*, vendor, uploaded_file, actor):
    """Read and check an uploaded CSV without importing; keep the file for the confirmation.

    A file that cannot be read at all raises ``PortalError`` and leaves nothing behind; a
    readable file gives a ``CustomerImport`` listing every bad row (none means it can be imported).
    """
    import hashlib

    from vendors.imports import read_customer_csv
    from vendors.models import CustomerImport

    vendor = Vendor.objects.get(pk=vendor.pk)
    _require_editor(actor, vendor)
    rows = read_customer_csv(uploaded_file)
    _, errors = check_customer_rows(vendor, rows)
    uploaded_file.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    customer_import = CustomerImport(
        vendor=vendor,
        original_filename=(getattr(uploaded_file, "name", "") or "customers.csv").rsplit("/", 1)[-1][:255],
        sha256=digest.hexdigest(),
        total_rows=len(rows),
        error_count=len({row for row, _ in errors}),
        errors=[[row, message] for row, message in errors[:MAX_LISTED_IMPORT_ERRORS]],
        uploaded_by=actor,
        status=CustomerImport.Status.PREVIEWED if not errors else CustomerImport.Status.REJECTED,
    )
    if not errors:
        customer_import.file.save(f"{customer_import.sha256[:16]}.csv", uploaded_file, save=False)
    customer_import.save()
    grant("view", actor, customer_import)
    if not errors:
        grant("change", actor, customer_import)
    return customer_import


def confirm_customer_import(*, customer_import, actor):
    """Import a previewed file, all rows or none, re-checking it against the registry as it is now."""
    from vendors.imports import read_customer_csv
    from vendors.models import CustomerImport

    with transaction.atomic():
        locked = (
            CustomerImport.objects.select_for_update().select_related("vendor").get(pk=customer_import.pk)
        )
        # The uploader hears about the file's state first: a file with row errors is never given
        # the "change" permission, and being told someone else uploaded it would be untrue.
        if locked.uploaded_by_id != actor.pk or not has_object_permission(actor, locked, "view"):
            raise PortalError("Only the person who uploaded this file may import it.")
        if locked.status == CustomerImport.Status.IMPORTED:
            raise PortalError(f"This file was already imported ({locked.imported_count} customers).")
        if locked.status != CustomerImport.Status.PREVIEWED:
            raise PortalError("This file has rows that need fixing; fix them and upload it again.")
        if not has_object_permission(actor, locked, "change"):
            raise PortalError("You can no longer import this file; upload it again.")
        try:
            locked.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise PortalError("The uploaded file is no longer available; upload it again.") from None
        try:
            rows = read_customer_csv(locked.file)
        finally:
            locked.file.close()
        created = import_partner_customers(
            vendor=locked.vendor,
            rows=rows,
            actor=actor,
            reason=f"Imported from {locked.original_filename}",
        )
        locked.status = CustomerImport.Status.IMPORTED
        locked.imported_count = len(created)
        locked.imported_at = timezone.now()
        locked.save(update_fields=["status", "imported_count", "imported_at"])
        return locked, created
