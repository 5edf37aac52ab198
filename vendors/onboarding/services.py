"""Onboarding's verbs (issue 13): apply, approve or reject an application; ask for, approve or
reject a change of legal name. Each runs in one transaction and writes history with its reason."""

from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from portal.accounts import services as account_services
from portal.accounts.models import Organisation, Role, User
from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.notifications.services import notify
from vendors import amendments
from vendors.models import Vendor, normalise_name
from vendors.onboarding.models import Decision, VendorApplication, VendorNameChange


def _clean(value):
    return " ".join((value or "").split())


def _require_portal_admin(actor, doing):
    if actor is None or not actor.is_authenticated or not actor.is_active or actor.role != Role.PORTAL_ADMIN:
        raise PortalError(f"Only a portal administrator can {doing}.")


def _require_reason(reason):
    reason = _clean(reason)
    if not reason:
        raise PortalError("Give a reason: it is kept in the history and sent on.", field="reason")
    return reason


def require_free_name(legal_name, *, vendor=None):
    """No two vendors share a legal name, whatever its case, punctuation or "Inc."."""
    normalised = normalise_name(legal_name)
    if not normalised:
        raise PortalError("Enter the company's legal name.", field="legal_name")
    taken = Vendor.objects.filter(normalised_name=normalised)
    if vendor is not None:
        taken = taken.exclude(pk=vendor.pk)
    if taken.exists():
        raise PortalError(
            "A vendor of that name is already registered on the portal. If it is your company, ask its "
            "compliance admin to invite you.",
            field="legal_name",
        )
    return normalised


@transaction.atomic
def submit_application(*, legal_name, country, identifiers, address, admin_name, admin_email, attestation):
    """The public form: a company applies to become a vendor (no account needed)."""
    legal_name = _clean(legal_name)
    normalised = require_free_name(legal_name)
    if not attestation:
        raise PortalError("Confirm the attestation to apply.", field="attestation")
    if VendorApplication.objects.filter(normalised_name=normalised, status=Decision.PENDING).exists():
        raise PortalError(
            "An application for this company is already waiting for review.", field="legal_name"
        )
    application = VendorApplication(
        legal_name=legal_name,
        normalised_name=normalised,
        country=country,
        identifiers=_clean(identifiers),
        address=(address or "").strip(),
        admin_name=_clean(admin_name),
        admin_email=(admin_email or "").strip().lower(),
        attestation=True,
    )
    return save_with_history(application, actor=None, reason="Applied through the public form.")


@transaction.atomic
def approve_application(*, application, actor, reason):
    """Create the organisation and the vendor and invite the first compliance admin by mail."""
    from vendors.services import create_vendor, sync_member_groups

    _require_portal_admin(actor, "approve an application")
    reason = _require_reason(reason)
    application = VendorApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != Decision.PENDING:
        raise PortalError("This application has already been decided.")
    require_free_name(application.legal_name)
    if User.objects.filter(email=application.admin_email).exists():
        raise PortalError(
            f"{application.admin_email} already has an account on the portal; ask the applicant for "
            "another address for the first compliance admin, then reject this application with that reason."
        )
    why = f"Vendor application approved by {actor.email}: {reason}"
    organisation = account_services.create_organisation(
        name=application.legal_name, kind=Organisation.Kind.VENDOR, actor=actor, reason=why
    )
    vendor = create_vendor(
        organisation=organisation,
        legal_name=application.legal_name,
        registration_ids=application.identifiers,
        primary_contact_name=application.admin_name,
        primary_contact_email=application.admin_email,
        actor=actor,
        reason=why,
    )
    admin = account_services.invite_account(
        organisation=organisation,
        email=application.admin_email,
        full_name=application.admin_name,
        role=Role.VENDOR_ADMIN,
        actor=actor,
        reason=why,
    )
    sync_member_groups(admin, vendor=vendor)
    application.status = Decision.APPROVED
    application.decided_by, application.decided_at = actor, timezone.now()
    application.decision_reason = reason
    application.vendor = vendor
    save_with_history(application, actor=actor, reason=why)
    return application


@transaction.atomic
def reject_application(*, application, actor, reason):
    """Tell the applicant (who has no account yet) why, by mail after the commit."""
    _require_portal_admin(actor, "reject an application")
    reason = _require_reason(reason)
    application = VendorApplication.objects.select_for_update().get(pk=application.pk)
    if application.status != Decision.PENDING:
        raise PortalError("This application has already been decided.")
    application.status = Decision.REJECTED
    application.decided_by, application.decided_at = actor, timezone.now()
    application.decision_reason = reason
    save_with_history(
        application, actor=actor, reason=f"Vendor application rejected by {actor.email}: {reason}"
    )
    to, name = application.admin_email, application.legal_name
    transaction.on_commit(
        lambda: send_mail(
            subject=f"[{name}] Your application to the Frontier Access Portal",
            message=(
                f"Your application for {name} to file on the Frontier Access Portal was not approved.\n\n"
                f"Reason given: {reason}\n\nYou may apply again once the reason is addressed."
            ),
            from_email=None,
            recipient_list=[to],
        )
    )
    return application


# ---------------------------------------------------------------------------------------------
# Legal name


def request_name_change(*, vendor, new_name, actor, reason):
    """Called inside ``update_vendor_profile`` (its lock and checks): the change waits for a portal
    administrator; the current name stays until then."""
    new_name = _clean(new_name)
    require_free_name(new_name, vendor=vendor)
    if vendor.name_changes.filter(status=Decision.PENDING).exists():
        raise PortalError(
            "A change of legal name is already waiting for a portal administrator.", field="legal_name"
        )
    if not _clean(reason):
        # issue 14: the legal name is a material fact; the agencies holding the vendor's requests
        # under review or its active grants will read the reason when the change is approved
        held = amendments.holders(vendor)
        if held:
            shown = ", ".join(held[:3]) + (f" and {len(held) - 3} more" if len(held) > 3 else "")
            raise PortalError(
                f"Changing the legal name is an amendment: {shown} concerns the vendor, and the "
                "agencies reviewing it will read your reason. Say why the name changes. Nothing was saved.",
                field="reason",
            )
    change = VendorNameChange(
        vendor=vendor,
        old_name=vendor.legal_name,
        new_name=new_name,
        reason=_clean(reason),
        requested_by=actor,
    )
    save_with_history(
        change, actor=actor, reason=f"Change of legal name asked for: {_clean(reason) or 'no reason'}"
    )
    return change


@transaction.atomic
def decide_name_change(*, change, actor, approve, reason):
    """A portal administrator approves (the vendor's legal name changes, with history) or rejects."""
    _require_portal_admin(actor, "decide a change of legal name")
    reason = _require_reason(reason)
    change = VendorNameChange.objects.select_for_update().select_related("vendor").get(pk=change.pk)
    if change.status != Decision.PENDING:
        raise PortalError("This change has already been decided.")
    vendor = Vendor.objects.select_for_update().get(pk=change.vendor_id)
    verdict = "approved" if approve else "rejected"
    why = f"Legal name {change.old_name!r} → {change.new_name!r} {verdict} by {actor.email}: {reason}"
    if approve:
        require_free_name(change.new_name, vendor=vendor)
        vendor.legal_name = change.new_name
        vendor.normalised_name = normalise_name(change.new_name)
        save_with_history(vendor, actor=actor, reason=why, update_fields=["legal_name", "normalised_name"])
        # a material fact: an amendment, told to the agencies, when requests or grants hold the vendor
        amendments.announce(
            vendor,
            actor=change.requested_by,
            reason=change.reason or f"Approved by a portal administrator: {reason}",
            before={"legal_name": change.old_name},
        )
    change.status = Decision.APPROVED if approve else Decision.REJECTED
    change.decided_by, change.decided_at, change.decision_reason = actor, timezone.now(), reason
    save_with_history(change, actor=actor, reason=why)
    admins = User.objects.filter(
        organisation_id=vendor.organisation_id, role=Role.VENDOR_ADMIN, is_active=True
    )
    notify(
        event="vendor_name_change_decided",
        recipients=list(admins),
        subject=f"Change of legal name {'approved' if approve else 'not approved'}",
        context={
            "old_name": change.old_name,
            "new_name": change.new_name,
            "approved": approve,
            "reason": reason,
        },
        link="/vendor/profile/",
        key=f"name-change:{change.pk}",
        object_label=vendor.legal_name,
    )
    return change


def former_names(vendor):
    """The vendor's earlier legal names, newest first (approved changes)."""
    return list(
        vendor.name_changes.filter(status=Decision.APPROVED)
        .order_by("-decided_at")
        .values_list("old_name", "decided_at")
    )
