"""What every service shares: saving with history, locks, guards, version checks, limits."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from approvals.models import (
    GRANT_DAYS,
    AccessRequest,
    EnforcementAction,
    Referral,
)
from approvals.policies import VENDOR_ACTOR_ROLES, agency_of, may_enforce, vendor_visible_to
from portal import permissions
from portal.accounts.models import Role
from portal.audit.history import save_with_history
from portal.errors import PortalError
from vendors.models import FrontierModel

MAX_DURATION_DAYS = GRANT_DAYS


ACTIVE_REFERRAL_STATUSES = (Referral.Status.OPEN, Referral.Status.DRAFTED)


UNDER_REVIEW = (
    AccessRequest.Status.SUBMITTED,
    AccessRequest.Status.IN_REVIEW,
    AccessRequest.Status.INFO_REQUESTED,
)


UNCHANGED = object()


def _save(instance, *, actor, reason, update_fields=None):
    """``save_with_history`` with model validation turned into a message for the form."""
    try:
        return save_with_history(instance, actor=actor, reason=reason, update_fields=update_fields)
    except ValidationError as exc:
        pairs = (
            [(f, m) for f, ms in exc.message_dict.items() for m in ms]
            if hasattr(exc, "message_dict")
            else [(None, m) for m in exc.messages]
        )
        field = pairs[0][0] if pairs[0][0] != "__all__" else None
        raise PortalError(pairs[0][1], field=field, messages=[m for _, m in pairs]) from None


def _save_request(access_request, *, actor, reason, update_fields):
    """Every change to a request raises its version, so a form from a stale page is refused."""
    access_request.version += 1
    return _save(access_request, actor=actor, reason=reason, update_fields=[*update_fields, "version"])


def _clean_text(value):
    return (value or "").strip()


def _person(user):
    return user.full_name or user.email


def _date(value):
    return value.strftime("%B %-d, %Y")


def _forget_permission_cache(user):
    for attr in [a for a in vars(user) if a.startswith("_guardian") or a.endswith("_perm_cache")]:
        delattr(user, attr)


def _lock_request(access_request):
    return (
        AccessRequest.objects.select_for_update(of=("self",))
        .select_related("vendor", "frontier_model", "partner_customer")
        .get(pk=access_request.pk)
    )


def _check_version(access_request, expected_version):
    """Refuse a form filled in on a page that showed an older state of the request."""
    if expected_version in (None, ""):
        return
    try:
        expected = int(expected_version)
    except (TypeError, ValueError):
        expected = -1
    if expected != access_request.version:
        raise PortalError(
            f"{access_request} changed while you were looking at it (it is now "
            f"“{access_request.get_status_display()}”). Nothing was saved: reload the page, check what "
            "changed and try again."
        )


def _require_vendor_actor(actor, access_request=None, *, vendor=None):
    """Compliance officers and admins of the request's vendor; viewers and others may not act."""
    vendor = vendor or access_request.vendor
    if not (actor.is_active and actor.organisation_id == vendor.organisation_id):
        raise PortalError("Only the vendor's compliance team can do this.")
    if actor.role not in VENDOR_ACTOR_ROLES:
        raise PortalError(
            "Viewers can follow requests but not act on them. Ask a compliance officer or admin."
        )
    if access_request is not None and not permissions.has_object_permission(actor, access_request, "change"):
        raise PortalError("You may not act on this request.")


def _require_official(actor, agency, *, roles, doing, obj=None):
    """An official of ``agency`` holding one of ``roles`` (and ``view`` on ``obj``)."""
    if not actor.is_active or agency_of(actor) != agency or actor.role not in roles:
        names = " or ".join(sorted(Role(r).label.lower() + "s" for r in roles))
        raise PortalError(f"Only {names} of {agency.code} can {doing}.")
    if obj is not None and not permissions.has_object_permission(actor, obj, "view"):
        raise PortalError(f"You may not {doing} on this case.")


def _require_lead_approver(actor, access_request, doing):
    agency = agency_of(actor)
    if not (actor.is_active and agency is not None and agency.is_lead and actor.role == Role.AGENCY_APPROVER):
        raise PortalError(f"Only an approver of the lead agency can {doing}.")
    if not permissions.has_object_permission(actor, access_request, "view"):
        raise PortalError(f"You may not {doing} on this case.")
    return agency


def _referral_of(access_request, agency):
    return Referral.objects.filter(access_request=access_request, agency=agency).first()


def _check_duration(value):
    if value in (None, ""):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        raise PortalError(
            "Give the duration as a whole number of days.", field="requested_duration_days"
        ) from None
    if not 1 <= days <= MAX_DURATION_DAYS:
        raise PortalError(
            f"Ask for between 1 and {MAX_DURATION_DAYS} days: preview access is granted for a year at most.",
            field="requested_duration_days",
        )
    return days


def _lock_referral(referral):
    """Lock the request, then the referral (always in this order)."""
    access_request = _lock_request(referral.access_request)
    referral = Referral.objects.select_for_update(of=("self",)).select_related("agency").get(pk=referral.pk)
    referral.access_request = access_request
    return access_request, referral


def _require_referral_active(access_request, referral, doing):
    if access_request.status not in UNDER_REVIEW:
        raise PortalError(
            f"{access_request} is “{access_request.get_status_display()}”: you can no longer {doing}."
        )
    if referral.status == Referral.Status.SIGNED:
        raise PortalError(f"{referral.agency.code}'s position on {access_request} is signed and final.")
    if referral.status == Referral.Status.CLOSED:
        raise PortalError(f"{referral.agency.code}'s referral of {access_request} is closed.")


Phase = FrontierModel.ReleasePhase


Kind = EnforcementAction.Kind


BULK_BATCH = 500  # rows per statement: well under every database's limit on bound values


def _why(text):
    """A history reason on one line (reasons are text: the legal basis is kept whole)."""
    return " ".join((text or "").split())


def _save_why(instance, *, actor, reason, update_fields=None):
    return _save(instance, actor=actor, reason=_why(reason), update_fields=update_fields)


def _require_lead_approver_e(actor, doing, obj=None, *, vendor=None):
    if not may_enforce(actor):
        raise PortalError(f"Only an approver of the lead agency can {doing}.")
    if obj is not None and not permissions.has_object_permission(actor, obj, "view"):
        raise PortalError(f"You may not {doing} on this record.")
    if vendor is not None and not vendor_visible_to(actor, vendor):
        raise PortalError(f"You may not {doing}: none of this vendor's models is known to your agency.")
    return agency_of(actor)


def _require_vendor_actor_e(actor, vendor, obj=None, action="view"):
    if not (actor.is_active and actor.organisation_id == vendor.organisation_id):
        raise PortalError("Only the vendor's compliance team can do this.")
    if actor.role not in VENDOR_ACTOR_ROLES:
        raise PortalError(
            "Viewers can follow the record but not act on it. Ask a compliance officer or admin."
        )
    if obj is not None and not permissions.has_object_permission(actor, obj, action):
        raise PortalError("You may not act on this record.")


def _basis(legal_basis, findings):
    """Every enforcement action states its legal basis and its findings."""
    legal_basis, findings = _clean_text(legal_basis), _clean_text(findings)
    problems = []
    if not legal_basis:
        problems.append(("legal_basis", "State the legal basis for the action."))
    if not findings:
        problems.append(("findings", "Write the findings the action rests on."))
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    return legal_basis, findings


def _check_expected(expected, actual, what):
    """Refuse an action confirmed on a page that showed different figures from those now."""
    if expected in (None, ""):
        return
    try:
        expected = int(expected)
    except (TypeError, ValueError):
        expected = -1
    if expected != actual:
        raise PortalError(
            f"Since the confirmation page was opened the number of {what} changed (it showed {expected}, "
            f"it is now {actual}). Nothing was done: read the new figures and confirm again."
        )


def _plural(count, word, plural=None):
    return f"{count} {word if count == 1 else (plural or word + 's')}"


def _lock_model(frontier_model):
    return (
        FrontierModel.objects.select_for_update(of=("self",), no_key=True)
        .select_related("vendor")
        .get(pk=frontier_model.pk)
    )


def _set_phase(frontier_model, phase, *, actor, reason, cap=UNCHANGED):
    frontier_model.release_phase = phase
    frontier_model.updated_at = timezone.now()
    fields = ["release_phase", "updated_at"]
    if cap is not UNCHANGED:
        frontier_model.preview_customer_cap = cap
        fields.append("preview_customer_cap")
    return _save_why(frontier_model, actor=actor, reason=reason, update_fields=fields)


def _clean_cap(value):
    if value in (None, ""):
        return None
    try:
        cap = int(value)
    except (TypeError, ValueError):
        raise PortalError(
            "Give the cap as a whole number of partner customers.", field="preview_customer_cap"
        ) from None
    if cap < 1:
        raise PortalError(
            "A cap allows at least one partner customer; leave it empty for no cap.",
            field="preview_customer_cap",
        )
    return cap
