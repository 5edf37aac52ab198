"""Every change in the review process: one function per verb, each in one transaction.

Each service locks the row it changes (``select_for_update``; the access request first, so
that two services never wait on each other in opposite order), checks the actor's role, the
object permission and the current state, writes history with the actor and a reason, and
writes the notifications in the same transaction (the outbox sends them after commit).
Refusals are ``PortalError`` with a message for the person on the other side of the form.

Clocks are calendar days in the portal's time zone. A referral's clock stops while any
information request on its access request is open; when the last one is answered the days
it was stopped are added back to the due date.
"""

import hashlib
import json
from datetime import timedelta

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from approvals.models import (
    GRANT_DAYS,
    INFORMATION_REQUEST_DAYS,
    INTENT_TO_DENY_DAYS,
    AccessRequest,
    Agency,
    Condition,
    Decision,
    Escalation,
    Grant,
    InformationRequest,
    IntentToDeny,
    InternalNote,
    Position,
    Referral,
    RequestDocument,
    RoutingRule,
    TrackingCounter,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Organisation, Role, User
from portal.audit.history import save_with_history, stamp
from portal.errors import PortalError
from portal.notifications.services import notify
from vendors.choices import UNITED_STATES
from vendors.models import EvidenceDocument, FrontierModel

VENDOR_ACTOR_ROLES = frozenset({Role.VENDOR_ADMIN, Role.VENDOR_OFFICER})
REVIEW_ROLES = frozenset({Role.AGENCY_REVIEWER, Role.AGENCY_APPROVER})
ASSIGNER_ROLES = frozenset({Role.AGENCY_APPROVER, Role.AGENCY_ADMIN})
MAX_DURATION_DAYS = GRANT_DAYS
ACTIVE_REFERRAL_STATUSES = (Referral.Status.OPEN, Referral.Status.DRAFTED)
UNDER_REVIEW = (
    AccessRequest.Status.SUBMITTED,
    AccessRequest.Status.IN_REVIEW,
    AccessRequest.Status.INFO_REQUESTED,
)

# The routing rules of DESIGN.md: agency code → condition (all required).
DEFAULT_ROUTING_RULES = [
    ("DOC", RoutingRule.Condition.ALWAYS),
    ("ONCD", RoutingRule.Condition.ALWAYS),
    ("OSTP", RoutingRule.Condition.ALWAYS),
    ("CISA", RoutingRule.Condition.CRITICAL_INFRASTRUCTURE),
    ("STATE", RoutingRule.Condition.OUTSIDE_UNITED_STATES),
    ("DOD", RoutingRule.Condition.SUPPLY_CHAIN_RISK),
]
UNCHANGED = object()


# ---------------------------------------------------------------------------------------------
# Helpers


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


def agency_of(user):
    """The agency ``user`` works for, or ``None`` for anyone who is not an agency official."""
    if user is None or not user.is_authenticated or user.role not in AGENCY_ROLES:
        return None
    cache = getattr(user, "_portal_agency", UNCHANGED)
    if cache is UNCHANGED:
        cache = Agency.objects.filter(organisation_id=user.organisation_id).first()
        user._portal_agency = cache
    return cache


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


def vendor_compliance_team(vendor):
    """Who hears about a vendor's requests: its compliance admins and officers."""
    return list(
        User.objects.filter(
            organisation_id=vendor.organisation_id, role__in=VENDOR_ACTOR_ROLES, is_active=True
        )
    )


def agency_officials(agency, roles=AGENCY_ROLES):
    return list(User.objects.filter(organisation_id=agency.organisation_id, role__in=roles, is_active=True))


def _vendor_link(access_request):
    return reverse("approvals:detail", args=[access_request.tracking_number or access_request.pk])


def _case_link(access_request):
    return reverse("admin:approvals_accessrequest_change", args=[access_request.pk])


def _notify_vendor(access_request, *, event, subject, key, context=None):
    notify(
        event=event,
        recipients=vendor_compliance_team(access_request.vendor),
        subject=subject,
        context={"tracking_number": str(access_request), **(context or {})},
        link=_vendor_link(access_request),
        key=key,
        object_label=str(access_request),
    )


def _notify_officials(access_request, recipients, *, event, subject, key, context=None):
    notify(
        event=event,
        recipients=recipients,
        subject=subject,
        context={"tracking_number": str(access_request), **(context or {})},
        link=_case_link(access_request),
        key=key,
        object_label=str(access_request),
    )


def _referred_officials(access_request, roles=AGENCY_ROLES):
    organisation_ids = access_request.referrals.values_list("agency__organisation_id", flat=True)
    return list(
        User.objects.filter(organisation_id__in=list(organisation_ids), role__in=roles, is_active=True)
    )


def _lead_approvers():
    lead = Agency.objects.filter(is_lead=True).first()
    return agency_officials(lead, {Role.AGENCY_APPROVER}) if lead else []


def _start_review(access_request, *, actor, agency):
    """The first agency action on a submitted request puts it in review."""
    if access_request.status == AccessRequest.Status.SUBMITTED:
        access_request.status = AccessRequest.Status.IN_REVIEW
        _save_request(
            access_request, actor=actor, reason=f"Review started by {agency.code}.", update_fields=["status"]
        )


# ---------------------------------------------------------------------------------------------
# Agencies and routing rules


def sync_official_groups(user):
    """Put an agency official in exactly their agency's officials group (none when inactive)."""
    if user.role not in AGENCY_ROLES:
        return
    if hasattr(user, "_portal_agency"):
        del user._portal_agency
    agency = agency_of(user) if user.is_active else None
    wanted = agency.officials_group if agency is not None else None
    current = list(Group.objects.filter(agency_officials__isnull=False, user=user))
    stale = [g for g in current if g != wanted]
    if stale:
        user.groups.remove(*stale)
    if wanted is not None and wanted not in current:
        user.groups.add(wanted)
    _forget_permission_cache(user)


@transaction.atomic
def create_agency(*, organisation, code, actor, reason, name="", is_lead=False, requires_two_persons=False):
    """Register ``organisation`` as a reviewing agency with its officials' group."""
    if actor.role not in {Role.PORTAL_ADMIN, Role.SYSTEM}:
        raise PortalError("Only portal administrators set up agencies.")
    if organisation.kind != Organisation.Kind.AGENCY:
        raise PortalError(f"{organisation} is not an agency organisation.", field="organisation")
    code = _clean_text(code).upper()
    if not code:
        raise PortalError("Give the agency a short code, for example DOC.", field="code")
    if Agency.objects.filter(organisation=organisation).exists():
        raise PortalError(f"{organisation} is already set up as an agency.", field="organisation")
    if Agency.objects.filter(code=code).exists():
        raise PortalError(f"Another agency already uses the code {code}.", field="code")
    if is_lead and Agency.objects.filter(is_lead=True).exists():
        raise PortalError("There is already a lead agency; there can be only one.", field="is_lead")
    group, _ = Group.objects.get_or_create(name=f"agency {code} officials")
    agency = Agency(
        organisation=organisation,
        code=code,
        name=_clean_text(name) or organisation.name,
        is_lead=is_lead,
        requires_two_persons=requires_two_persons,
        officials_group=group,
    )
    _save(agency, actor=actor, reason=reason)
    for member in organisation.members.all():
        sync_official_groups(member)
    return agency


@transaction.atomic
def ensure_default_routing_rules(*, actor, reason="Default routing rules of the portal's design."):
    """Create the default rule for every agency that has a default and lacks it; return new rules."""
    created = []
    agencies = {a.code: a for a in Agency.objects.all()}
    for code, condition in DEFAULT_ROUTING_RULES:
        agency = agencies.get(code)
        if agency is None or RoutingRule.objects.filter(agency=agency, condition=condition).exists():
            continue
        rule = RoutingRule(agency=agency, condition=condition, required=True)
        created.append(_save(rule, actor=actor, reason=reason))
    return created


def _rule_applies(rule, access_request):
    customer = access_request.partner_customer
    match rule.condition:
        case RoutingRule.Condition.ALWAYS:
            return True
        case RoutingRule.Condition.CRITICAL_INFRASTRUCTURE:
            return customer.is_critical_infrastructure
        case RoutingRule.Condition.OUTSIDE_UNITED_STATES:
            return customer.country != UNITED_STATES
        case RoutingRule.Condition.SUPPLY_CHAIN_RISK:
            return access_request.vendor.is_supply_chain_risk
    return False


def _rule_text(rule):
    text = (
        f"{rule.agency.code}: {rule.get_condition_display()} ({'required' if rule.required else 'optional'})"
    )
    return f"{text} — {rule.note}" if rule.note else text


def route(access_request):
    """The referrals the routing rules in force call for: ``[(agency, required, reason)]``.

    The lead agency is always referred, because it records the decision.
    """
    by_agency = {}
    rules = RoutingRule.objects.filter(is_active=True).select_related("agency").order_by("agency__code", "pk")
    for rule in rules:
        if not _rule_applies(rule, access_request):
            continue
        required, reasons = by_agency.get(rule.agency, (False, []))
        by_agency[rule.agency] = (required or rule.required, [*reasons, _rule_text(rule)])
    lead = Agency.objects.filter(is_lead=True).first()
    if lead is not None and lead not in by_agency:
        by_agency[lead] = (True, [f"{lead.code}: lead agency, records the decision (required)"])
    return [
        (agency, required, "; ".join(reasons)[:300])
        for agency, (required, reasons) in sorted(
            by_agency.items(), key=lambda kv: (not kv[0].is_lead, kv[0].code)
        )
    ]


# ---------------------------------------------------------------------------------------------
# Drafts


def _check_model_and_customer(vendor, frontier_model, partner_customer):
    problems = []
    if frontier_model.vendor_id != vendor.pk:
        problems.append(("frontier_model", "Choose one of your own models."))
    elif frontier_model.release_phase != FrontierModel.ReleasePhase.LIMITED_PREVIEW:
        problems.append(
            (
                "frontier_model",
                f"{frontier_model} is “{frontier_model.get_release_phase_display()}”: access requests can be "
                "filed only for a model cleared for limited preview.",
            )
        )
    if partner_customer.vendor_id != vendor.pk:
        problems.append(("partner_customer", "Choose one of your own partner customers."))
    return problems


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


@transaction.atomic
def create_draft_request(
    *,
    actor,
    frontier_model,
    partner_customer,
    use_case="",
    scope="",
    requested_duration_days=None,
    documents=(),
):
    """Start a draft access request for one customer and one model in limited preview.

    ``documents`` are ``(uploaded_file, title)`` pairs attached in the same transaction.
    """
    frontier_model = FrontierModel.objects.select_related("vendor").get(pk=frontier_model.pk)
    vendor = frontier_model.vendor
    if actor.organisation_id != vendor.organisation_id:
        raise PortalError("Choose one of your own models.", field="frontier_model")
    _require_vendor_actor(actor, vendor=vendor)
    problems = _check_model_and_customer(vendor, frontier_model, partner_customer)
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    access_request = AccessRequest(
        vendor=vendor,
        frontier_model=frontier_model,
        partner_customer=partner_customer,
        use_case=_clean_text(use_case),
        scope=_clean_text(scope),
        requested_duration_days=_check_duration(requested_duration_days),
        created_by=actor,
    )
    _save(access_request, actor=actor, reason=f"Draft started by {_person(actor)}.")
    permissions.grant("view", vendor.members_group, access_request)
    permissions.grant(["view", "change"], vendor.editors_group, access_request)
    for uploaded_file, title in documents:
        _store_document(access_request=access_request, actor=actor, uploaded_file=uploaded_file, title=title)
    return access_request


@transaction.atomic
def update_draft(
    *,
    access_request,
    actor,
    expected_version=None,
    frontier_model=UNCHANGED,
    partner_customer=UNCHANGED,
    use_case=UNCHANGED,
    scope=UNCHANGED,
    requested_duration_days=UNCHANGED,
):
    """Change a draft; once submitted, a request is what the agencies review and is fixed."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status != AccessRequest.Status.DRAFT:
        raise PortalError(f"{access_request} has been submitted; a submitted request cannot be edited.")
    _check_version(access_request, expected_version)
    changes = {}
    if frontier_model is not UNCHANGED:
        changes["frontier_model"] = frontier_model
    if partner_customer is not UNCHANGED:
        changes["partner_customer"] = partner_customer
    if use_case is not UNCHANGED:
        changes["use_case"] = _clean_text(use_case)
    if scope is not UNCHANGED:
        changes["scope"] = _clean_text(scope)
    if requested_duration_days is not UNCHANGED:
        changes["requested_duration_days"] = _check_duration(requested_duration_days)
    problems = _check_model_and_customer(
        access_request.vendor,
        changes.get("frontier_model", access_request.frontier_model),
        changes.get("partner_customer", access_request.partner_customer),
    )
    problems = [p for p in problems if p[0] in changes]
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems])
    changed = [f for f, v in changes.items() if getattr(access_request, f) != v]
    if not changed:
        return access_request
    for field in changed:
        setattr(access_request, field, changes[field])
    return _save_request(
        access_request, actor=actor, reason=f"Draft edited by {_person(actor)}.", update_fields=changed
    )


def _store_document(*, access_request, actor, uploaded_file, title, information_request=None):
    from vendors.uploads import validate_document

    content_type, sha256, size = validate_document(uploaded_file, field="documents")
    original = (getattr(uploaded_file, "name", "") or "document").replace("\\", "/").rsplit("/", 1)[-1][:255]
    title = " ".join((title or "").split())[:200] or original[:200]
    document = RequestDocument(
        access_request=access_request,
        information_request=information_request,
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
        _save(document, actor=actor, reason=f"Document “{title}” attached by {_person(actor)}.")
    except Exception:
        document.file.delete(save=False)
        raise
    return document


@transaction.atomic
def attach_request_document(*, access_request, actor, uploaded_file, title=""):
    """Attach a supporting document (PDF or plain text) to a draft."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status != AccessRequest.Status.DRAFT:
        raise PortalError(
            "Supporting documents can be added only to a draft. Once submitted, send documents with your "
            "answer to an information request."
        )
    document = _store_document(
        access_request=access_request, actor=actor, uploaded_file=uploaded_file, title=title
    )
    _save_request(
        access_request, actor=actor, reason=f"Document “{document.title}” attached.", update_fields=[]
    )
    return document


@transaction.atomic
def remove_request_document(*, document, actor):
    """Take a supporting document off a draft (it stays in history)."""
    access_request = _lock_request(document.access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status != AccessRequest.Status.DRAFT:
        raise PortalError("Documents of a submitted request are part of the record and cannot be removed.")
    document = RequestDocument.objects.select_for_update().get(pk=document.pk)
    stamp(document, actor=actor, reason=f"Document “{document.title}” removed from the draft.")
    document.delete()
    _save_request(access_request, actor=actor, reason="Document removed from the draft.", update_fields=[])


@transaction.atomic
def discard_draft(*, access_request, actor):
    """Throw a draft away (a draft has no tracking number; its history is kept)."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status != AccessRequest.Status.DRAFT:
        raise PortalError(f"{access_request} has been submitted: withdraw it instead.")
    for document in access_request.documents.all():
        stamp(document, actor=actor, reason="Draft discarded.")
        document.delete()
    stamp(access_request, actor=actor, reason=f"Draft discarded by {_person(actor)}.")
    access_request.delete()


# ---------------------------------------------------------------------------------------------
# Submission


def completeness_defects(access_request):
    """Everything that stops ``access_request`` from being submitted, as messages for the vendor."""
    defects = []
    model = access_request.frontier_model
    customer = access_request.partner_customer
    defects += [m for _, m in _check_model_and_customer(access_request.vendor, model, customer)]
    if not access_request.use_case:
        defects.append("Describe the use case: what the customer will do with the model.")
    if not access_request.scope:
        defects.append("Describe the scope: which capabilities, seats, regions and data are covered.")
    if access_request.requested_duration_days is None:
        defects.append(f"Give the requested duration in days (at most {MAX_DURATION_DAYS}).")
    if not customer.attestation:
        defects.append(
            f"The vendor has not attested {customer}'s identity and intended use: attest it on the "
            "customer's page."
        )
    if not _clean_text(customer.intended_use):
        defects.append(f"{customer} has no intended use recorded: add it on the customer's page.")
    if not (customer.security_contact_name and customer.security_contact_email):
        defects.append(f"{customer} has no security contact: add one on the customer's page.")
    if not access_request.documents.exists():
        defects.append(
            "Attach at least one supporting document, for example the customer's end-use statement."
        )
    duplicate = (
        AccessRequest.objects.filter(
            frontier_model=model, partner_customer=customer, status__in=AccessRequest.OPEN_STATUSES
        )
        .exclude(pk=access_request.pk)
        .first()
    )
    if duplicate is not None:
        defects.append(f"{customer} already has an open request for {model}: {duplicate}.")
    active = Grant.objects.filter(
        frontier_model=model,
        partner_customer=customer,
        status=Grant.Status.ACTIVE,
        valid_to__gte=timezone.localdate(),
    ).first()
    if active is not None and access_request.renewal_of_id != active.pk:
        defects.append(f"{customer} is already cleared for {model} until {_date(active.valid_to)}.")
    return defects


def _next_tracking_number(year):
    """Draw the next number of ``year`` with the counter row locked: sequential, never reused."""
    counter = TrackingCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                TrackingCounter.objects.create(year=year, last_number=0)
        except IntegrityError:
            pass  # another submission created it first; lock theirs
        counter = TrackingCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return f"FAR-{year}-{counter.last_number:06d}"


def _share_case(access_request, agency):
    """Let ``agency``'s officials read the request and what it concerns."""
    from vendors.services import share_with_group

    group = agency.officials_group
    permissions.grant("view", group, access_request)
    share_with_group(access_request.frontier_model, group)
    share_with_group(access_request.partner_customer, group)


@transaction.atomic
def submit_request(*, access_request, actor, expected_version=None):
    """Check a draft for completeness, number it and refer it to the agencies the rules name."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status != AccessRequest.Status.DRAFT:
        raise PortalError(f"{access_request} has already been submitted.")
    _check_version(access_request, expected_version)
    defects = completeness_defects(access_request)
    if defects:
        count = "one thing" if len(defects) == 1 else f"{len(defects)} things"
        raise PortalError(f"The request is not complete yet: {count} to fix.", messages=defects)
    routes = route(access_request)
    if not routes:
        raise PortalError("No agency is set up to review requests yet. Contact the portal administrators.")
    now = timezone.now()
    today = timezone.localdate(now)
    access_request.tracking_number = _next_tracking_number(today.year)
    access_request.status = AccessRequest.Status.SUBMITTED
    access_request.submitted_at = now
    _save_request(
        access_request,
        actor=actor,
        reason=f"Submitted by {_person(actor)} and referred to {', '.join(a.code for a, _, _ in routes)}.",
        update_fields=["tracking_number", "status", "submitted_at"],
    )
    for agency, required, routing_reason in routes:
        referral = Referral(
            access_request=access_request,
            agency=agency,
            required=required,
            routing_reason=routing_reason,
            referred_at=now,
            due_date=Referral.default_due_date(today),
        )
        _save(referral, actor=actor, reason=f"Referred by routing: {routing_reason}")
        permissions.grant("view", agency.officials_group, referral)
        _share_case(access_request, agency)
        _notify_officials(
            access_request,
            agency_officials(agency),
            event="referral_received",
            subject=f"New referral for {agency.code}: {access_request}",
            key=str(referral.pk),
            context={
                "agency": agency.code,
                "due_date": _date(referral.due_date),
                "required": required,
                "customer": str(access_request.partner_customer),
                "model": str(access_request.frontier_model),
            },
        )
    customer = access_request.partner_customer
    if customer.identity_frozen_at is None:
        customer.identity_frozen_at = now
        stamp(customer, actor=actor, reason=f"Identity fixed: first submitted in {access_request}.")
        customer.save(update_fields=["identity_frozen_at"])
    _notify_vendor(
        access_request,
        event="request_submitted",
        subject=f"Received: access request {access_request}",
        key=str(access_request.pk),
        context={
            "customer": str(customer),
            "model": str(access_request.frontier_model),
            "agencies": ", ".join(a.code for a, _, _ in routes),
        },
    )
    return access_request


def _close_referrals(access_request, *, actor, reason):
    for referral in access_request.referrals.select_for_update().filter(status__in=ACTIVE_REFERRAL_STATUSES):
        referral.status = Referral.Status.CLOSED
        _save(referral, actor=actor, reason=reason, update_fields=["status"])


def _close_information_requests(access_request, *, actor, reason):
    for question in access_request.information_requests.select_for_update().filter(
        status=InformationRequest.Status.OPEN
    ):
        question.status = InformationRequest.Status.CLOSED
        _save(question, actor=actor, reason=reason, update_fields=["status"])


@transaction.atomic
def withdraw_request(*, access_request, actor, reason, expected_version=None):
    """The vendor takes a submitted request back before a decision."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    if access_request.status == AccessRequest.Status.DRAFT:
        raise PortalError("A draft has not been submitted: discard it instead.")
    if access_request.status not in AccessRequest.OPEN_STATUSES:
        raise PortalError(
            f"{access_request} is “{access_request.get_status_display()}”: only a request awaiting a "
            "decision can be withdrawn."
        )
    _check_version(access_request, expected_version)
    reason = _clean_text(reason)
    if not reason:
        raise PortalError("Say briefly why you are withdrawing the request.", field="reason")
    access_request.status = AccessRequest.Status.WITHDRAWN
    access_request.closed_reason = reason
    _save_request(
        access_request,
        actor=actor,
        reason=f"Withdrawn by {_person(actor)}: {reason}",
        update_fields=["status", "closed_reason"],
    )
    _close_referrals(access_request, actor=actor, reason="Closed: the vendor withdrew the request.")
    _close_information_requests(
        access_request, actor=actor, reason="Closed: the vendor withdrew the request."
    )
    _notify_officials(
        access_request,
        _referred_officials(access_request),
        event="request_withdrawn",
        subject=f"Withdrawn by the vendor: {access_request}",
        key=str(access_request.pk),
        context={"reason": reason},
    )
    return access_request


# ---------------------------------------------------------------------------------------------
# Referrals and positions


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


@transaction.atomic
def assign_officials(*, referral, actor, officials, expected_version=None):
    """Name the officials who work a referral; assignment lets a reviewer draft its position.

    Approvers and agency administrators assign anyone of their agency; a reviewer may only
    take the referral on themselves.
    """
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    roles = ASSIGNER_ROLES | {Role.AGENCY_REVIEWER}
    _require_official(actor, agency, roles=roles, doing="assign officials", obj=referral)
    _require_referral_active(access_request, referral, "assign officials")
    _check_version(access_request, expected_version)
    officials = list(officials)
    if not officials:
        raise PortalError("Choose at least one official.", field="officials")
    for official in officials:
        if agency_of(official) != agency or official.role not in REVIEW_ROLES or not official.is_active:
            raise PortalError(
                f"{_person(official)} is not a reviewer or approver of {agency.code}.", field="officials"
            )
    current = set(referral.assigned_officials.all())
    if actor.role == Role.AGENCY_REVIEWER:
        if set(officials) != {actor}:
            raise PortalError("Reviewers can assign a referral only to themselves.", field="officials")
        wanted = current | {actor}
    else:
        wanted = set(officials)
    if wanted == current:
        raise PortalError("Those officials are already assigned.", field="officials")
    names = ", ".join(sorted(_person(o) for o in wanted))
    stamp(referral, actor=actor, reason=f"Assigned to {names} by {_person(actor)}.")
    referral.assigned_officials.set(wanted)
    for official in wanted - current:
        permissions.grant("change", official, referral)
    for official in current - wanted:
        permissions.revoke("change", official, referral)
    _start_review(access_request, actor=actor, agency=agency)
    _notify_officials(
        access_request,
        [o for o in wanted - current if o != actor],
        event="referral_assigned",
        subject=f"Assigned to you: {access_request} ({agency.code})",
        key=f"{referral.pk}:{referral.history.count()}",
        context={"agency": agency.code, "due_date": _date(referral.due_date), "assigned_by": _person(actor)},
    )
    return referral


def _clean_conditions(conditions, stance):
    """Check proposed conditions: ``[{kind, text, expires_on, seat_cap}]``."""
    cleaned = []
    for index, raw in enumerate(conditions or [], start=1):
        kind = raw.get("kind") or Condition.Kind.TEXT
        text = _clean_text(raw.get("text"))
        if not text and kind == Condition.Kind.TEXT:
            continue
        if kind not in Condition.Kind.values:
            raise PortalError(f"Condition {index}: choose what kind of condition it is.", field="conditions")
        if kind != Condition.Kind.TEXT and not text:
            text = Condition.Kind(kind).label
        item = {
            "kind": kind,
            "text": text,
            "expires_on": raw.get("expires_on"),
            "seat_cap": raw.get("seat_cap"),
        }
        if kind == Condition.Kind.EXPIRY and not item["expires_on"]:
            raise PortalError(f"Condition {index}: give the date access expires.", field="conditions")
        if kind == Condition.Kind.EXPIRY and item["expires_on"] <= timezone.localdate():
            raise PortalError(
                f"Condition {index}: the expiry date must be in the future.", field="conditions"
            )
        if kind == Condition.Kind.SEAT_CAP and not item["seat_cap"]:
            raise PortalError(f"Condition {index}: give the number of seats.", field="conditions")
        cleaned.append(item)
    if stance == Position.Stance.CONCUR_WITH_CONDITIONS and not cleaned:
        raise PortalError("State at least one condition, or concur without conditions.", field="conditions")
    if stance in (Position.Stance.CONCUR, Position.Stance.NON_CONCUR) and cleaned:
        raise PortalError(
            "Conditions belong with “Concur with conditions”: choose that position or remove them.",
            field="conditions",
        )
    return cleaned


def _create_conditions(items, *, access_request, agency, actor, position=None, reason):
    created = []
    for item in items:
        condition = Condition(
            access_request=access_request,
            agency=agency,
            position=position,
            kind=item["kind"],
            text=item["text"],
            expires_on=item["expires_on"] if item["kind"] == Condition.Kind.EXPIRY else None,
            seat_cap=item["seat_cap"] if item["kind"] == Condition.Kind.SEAT_CAP else None,
            created_by=actor,
        )
        created.append(_save(condition, actor=actor, reason=reason))
    return created


@transaction.atomic
def draft_position(*, referral, actor, stance, rationale="", conditions=(), expected_version=None):
    """Draft (or redraft) the agency's position; an approver then signs it.

    Reviewers draft on referrals assigned to them; approvers of the agency on any of its
    referrals.
    """
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    _require_official(actor, agency, roles=REVIEW_ROLES, doing="draft a position", obj=referral)
    if actor.role == Role.AGENCY_REVIEWER and not permissions.has_object_permission(
        actor, referral, "change"
    ):
        raise PortalError(f"Assign the referral to yourself before drafting {agency.code}'s position.")
    _require_referral_active(access_request, referral, "draft a position")
    _check_version(access_request, expected_version)
    if stance not in Position.Stance.values:
        raise PortalError("Choose concur, concur with conditions, or do not concur.", field="stance")
    rationale = _clean_text(rationale)
    if stance == Position.Stance.NON_CONCUR and not rationale:
        raise PortalError(
            "Explain why the agency does not concur: a rationale is required.", field="rationale"
        )
    items = _clean_conditions(conditions, stance)
    position = Position.objects.select_for_update().filter(referral=referral).first()
    redraft = position is not None
    label = Position.Stance(stance).label.lower()
    reason = f"Position {'redrafted' if redraft else 'drafted'} by {_person(actor)}: {label}."
    if redraft:
        for old in position.conditions.all():
            stamp(old, actor=actor, reason="Replaced by the redrafted position.")
            old.delete()
        position.stance, position.rationale = stance, rationale
        position.drafted_by, position.drafted_at = actor, timezone.now()
        _save(position, actor=actor, reason=reason)
    else:
        position = _save(
            Position(referral=referral, stance=stance, rationale=rationale, drafted_by=actor),
            actor=actor,
            reason=reason,
        )
    _create_conditions(
        items, access_request=access_request, agency=agency, actor=actor, position=position, reason=reason
    )
    if referral.status != Referral.Status.DRAFTED:
        referral.status = Referral.Status.DRAFTED
        _save(referral, actor=actor, reason=reason, update_fields=["status"])
    _start_review(access_request, actor=actor, agency=agency)
    _notify_officials(
        access_request,
        [o for o in agency_officials(agency, {Role.AGENCY_APPROVER}) if o != actor],
        event="position_drafted",
        subject=f"Position to sign: {access_request} ({agency.code})",
        key=f"{position.pk}:{position.history.count()}",
        context={"agency": agency.code, "stance": label, "drafted_by": _person(actor)},
    )
    return position


@transaction.atomic
def sign_position(*, referral, actor, expected_drafted_at=None):
    """Sign the agency's drafted position: it becomes final and visible to the other agencies."""
    access_request, referral = _lock_referral(referral)
    agency = referral.agency
    _require_official(actor, agency, roles={Role.AGENCY_APPROVER}, doing="sign a position", obj=referral)
    position = Position.objects.select_for_update().filter(referral=referral).first()
    if position is not None and position.is_signed:
        raise PortalError(
            f"{_person(position.signed_by)} signed {agency.code}'s position on {access_request} at "
            f"{timezone.localtime(position.signed_at):%B %-d, %Y %H:%M}; a signed position is final."
        )
    _require_referral_active(access_request, referral, "sign a position")
    if position is None:
        raise PortalError("There is no drafted position to sign yet.")
    if expected_drafted_at and expected_drafted_at != position.drafted_at.isoformat():
        raise PortalError(
            "The draft was changed after you opened it. Nothing was signed: read the new draft and sign "
            "again."
        )
    if agency.requires_two_persons and position.drafted_by_id == actor.pk:
        raise PortalError(
            f"{agency.code} requires two persons: a position you drafted must be signed by another approver."
        )
    position.signed_by, position.signed_at = actor, timezone.now()
    reason = f"Position signed by {_person(actor)}: {position.get_stance_display().lower()}."
    _save(position, actor=actor, reason=reason, update_fields=["signed_by", "signed_at"])
    referral.status = Referral.Status.SIGNED
    _save(referral, actor=actor, reason=reason, update_fields=["status"])
    _save_request(
        access_request, actor=actor, reason=f"{agency.code} completed its review.", update_fields=[]
    )
    waiting = access_request.referrals.filter(required=True).exclude(status=Referral.Status.SIGNED)
    if not waiting.exists():
        _notify_officials(
            access_request,
            _lead_approvers(),
            event="ready_for_decision",
            subject=f"Ready for decision: {access_request}",
            key=str(access_request.pk),
        )
    return position


@transaction.atomic
def add_internal_note(*, access_request, actor, body):
    """An agency's internal note on a case: its own officials (and auditors) read it, nobody else."""
    access_request = _lock_request(access_request)
    agency = agency_of(actor)
    if agency is None or not actor.is_active:
        raise PortalError("Only agency officials write internal notes.")
    if access_request.status == AccessRequest.Status.DRAFT or _referral_of(access_request, agency) is None:
        raise PortalError(f"{access_request} is not referred to {agency.code}.")
    if not permissions.has_object_permission(actor, access_request, "view"):
        raise PortalError("You may not write notes on this case.")
    body = _clean_text(body)
    if not body:
        raise PortalError("Write the note.", field="body")
    note = InternalNote(access_request=access_request, agency=agency, author=actor, body=body)
    return _save(note, actor=actor, reason=f"Internal note by {_person(actor)} ({agency.code}).")


# ---------------------------------------------------------------------------------------------
# Information requests and clocks


@transaction.atomic
def issue_information_request(*, access_request, actor, question, deadline=None, expected_version=None):
    """Ask the vendor a question: the request waits for the answer and every clock stops."""
    access_request = _lock_request(access_request)
    agency = agency_of(actor)
    referral = _referral_of(access_request, agency) if agency else None
    if referral is None:
        raise PortalError("Only officials of an agency the request is referred to can ask the vendor.")
    _require_official(actor, agency, roles=REVIEW_ROLES, doing="ask the vendor a question", obj=referral)
    if access_request.status not in UNDER_REVIEW:
        raise PortalError(
            f"{access_request} is “{access_request.get_status_display()}”: the vendor can no longer be asked."
        )
    _check_version(access_request, expected_version)
    question = _clean_text(question)
    if not question:
        raise PortalError("Write the question for the vendor.", field="question")
    now = timezone.now()
    today = timezone.localdate(now)
    deadline = deadline or today + timedelta(days=INFORMATION_REQUEST_DAYS)
    if deadline <= today:
        raise PortalError("The deadline must be after today.", field="deadline")
    information_request = _save(
        InformationRequest(
            access_request=access_request,
            agency=agency,
            question=question,
            asked_by=actor,
            asked_at=now,
            deadline=deadline,
        ),
        actor=actor,
        reason=f"Asked by {_person(actor)} ({agency.code}).",
    )
    permissions.grant("view", access_request.vendor.members_group, information_request)
    for referred in access_request.referrals.select_related("agency__officials_group"):
        permissions.grant("view", referred.agency.officials_group, information_request)
    for stopped in access_request.referrals.select_for_update().filter(
        status__in=ACTIVE_REFERRAL_STATUSES, clock_stopped_at__isnull=True
    ):
        stopped.clock_stopped_at = now
        _save(
            stopped,
            actor=actor,
            reason=f"Clock stopped: {agency.code} asked the vendor.",
            update_fields=["clock_stopped_at"],
        )
    access_request.status = AccessRequest.Status.INFO_REQUESTED
    _save_request(
        access_request,
        actor=actor,
        reason=f"{agency.code} asked the vendor a question; answer by {_date(deadline)}.",
        update_fields=["status"],
    )
    _notify_vendor(
        access_request,
        event="information_request_issued",
        subject=f"Question from {agency.code} on {access_request}: answer by {_date(deadline)}",
        key=str(information_request.pk),
        context={"agency": agency.code, "question": question, "deadline": _date(deadline)},
    )
    return information_request


def _resume_clocks(access_request, *, actor, today):
    """Restart every stopped clock, adding the days it was stopped to the due date."""
    for referral in access_request.referrals.select_for_update().filter(clock_stopped_at__isnull=False):
        paused = max(0, (today - timezone.localdate(referral.clock_stopped_at)).days)
        referral.due_date += timedelta(days=paused)
        referral.paused_days += paused
        referral.clock_stopped_at = None
        _save(
            referral,
            actor=actor,
            reason=f"Clock resumed after {paused} day{'s' if paused != 1 else ''} stopped; now due "
            f"{_date(referral.due_date)}.",
            update_fields=["due_date", "paused_days", "clock_stopped_at"],
        )


@transaction.atomic
def answer_information_request(*, information_request, actor, answer, documents=(), expected_version=None):
    """The vendor answers a question (text and documents); with none left open the clocks resume."""
    access_request = _lock_request(information_request.access_request)
    information_request = (
        InformationRequest.objects.select_for_update().select_related("agency").get(pk=information_request.pk)
    )
    _require_vendor_actor(actor, access_request)
    if information_request.status != InformationRequest.Status.OPEN:
        raise PortalError(
            f"This question is “{information_request.get_status_display().lower()}”; it cannot be "
            "answered now."
        )
    _check_version(access_request, expected_version)
    answer = _clean_text(answer)
    if not answer:
        raise PortalError("Write your answer.", field="answer")
    now = timezone.now()
    for uploaded in documents or ():
        _store_document(
            access_request=access_request,
            actor=actor,
            uploaded_file=uploaded,
            title=f"Answer to {information_request.agency.code}: {getattr(uploaded, 'name', 'document')}",
            information_request=information_request,
        )
    information_request.answer = answer
    information_request.answered_by = actor
    information_request.answered_at = now
    information_request.status = InformationRequest.Status.ANSWERED
    _save(
        information_request,
        actor=actor,
        reason=f"Answered by {_person(actor)}.",
        update_fields=["answer", "answered_by", "answered_at", "status"],
    )
    still_open = access_request.information_requests.filter(status=InformationRequest.Status.OPEN).exists()
    if still_open:
        reason = f"{information_request.agency.code}'s question answered; other questions are still open."
        _save_request(access_request, actor=actor, reason=reason, update_fields=[])
    else:
        if not access_request.on_hold:  # a hold keeps the clocks stopped until it is lifted
            _resume_clocks(access_request, actor=actor, today=timezone.localdate(now))
        access_request.status = AccessRequest.Status.IN_REVIEW
        _save_request(
            access_request,
            actor=actor,
            reason=f"{information_request.agency.code}'s question answered; review resumed.",
            update_fields=["status"],
        )
    _notify_officials(
        access_request,
        agency_officials(information_request.agency, REVIEW_ROLES),
        event="information_answered",
        subject=f"The vendor answered {information_request.agency.code}'s question on {access_request}",
        key=str(information_request.pk),
        context={"agency": information_request.agency.code, "answer": answer},
    )
    return information_request


def _return_lapsed(information_request_pk, *, actor, today):
    with transaction.atomic():
        question = InformationRequest.objects.select_related("access_request", "agency").get(
            pk=information_request_pk
        )
        access_request = _lock_request(question.access_request)
        question = InformationRequest.objects.select_for_update().select_related("agency").get(pk=question.pk)
        if question.status != InformationRequest.Status.OPEN or question.deadline >= today:
            return False
        question.status = InformationRequest.Status.LAPSED
        _save(
            question,
            actor=actor,
            reason=f"Not answered by {_date(question.deadline)}.",
            update_fields=["status"],
        )
        reason = (
            f"Returned without action: {question.agency.code}'s question of "
            f"{_date(timezone.localdate(question.asked_at))} was not answered by {_date(question.deadline)}."
        )
        _close_information_requests(access_request, actor=actor, reason="Closed: the request was returned.")
        _close_referrals(access_request, actor=actor, reason="Closed: the request was returned.")
        access_request.status = AccessRequest.Status.RETURNED
        access_request.closed_reason = reason
        _save_request(access_request, actor=actor, reason=reason, update_fields=["status", "closed_reason"])
        _notify_vendor(
            access_request,
            event="request_returned",
            subject=f"Returned without action: {access_request}",
            key=str(access_request.pk),
            context={"reason": reason},
        )
        _notify_officials(
            access_request,
            _referred_officials(access_request),
            event="request_returned",
            subject=f"Returned without action: {access_request}",
            key=str(access_request.pk),
            context={"reason": reason},
        )
        return True


def return_lapsed_requests(*, today=None):
    """Scheduled: return every request whose information request went unanswered past its deadline."""
    from portal.accounts.services import system_user

    today = today or timezone.localdate()
    actor = system_user()
    lapsed = InformationRequest.objects.filter(
        status=InformationRequest.Status.OPEN,
        deadline__lt=today,
        access_request__status=AccessRequest.Status.INFO_REQUESTED,
    ).values_list("pk", flat=True)
    return sum(1 for pk in list(lapsed) if _return_lapsed(pk, actor=actor, today=today))


# ---------------------------------------------------------------------------------------------
# Decisions, escalations and grants


def canonical_json(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def snapshot_sha256(snapshot):
    """The hash of a decision's snapshot, over its canonical JSON."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def decision_snapshot(access_request, conditions=()):
    """What was reviewed, as plain JSON: the request, its customer, its model and the positions.

    Only strings, integers, booleans and null, so that the stored snapshot hashes the same
    after a round trip through the database.
    """
    model = access_request.frontier_model
    customer = access_request.partner_customer
    vendor = access_request.vendor
    documents = RequestDocument.objects.filter(access_request=access_request).order_by("pk")
    evidence = EvidenceDocument.objects.filter(frontier_model=model).order_by("pk")
    referrals = access_request.referrals.select_related("agency", "position").order_by("agency__code")
    positions = []
    for referral in referrals:
        position = getattr(referral, "position", None)
        if position is not None and position.is_signed:
            positions.append(
                {
                    "agency": referral.agency.code,
                    "stance": position.stance,
                    "rationale": position.rationale,
                    "signed_at": position.signed_at.isoformat(),
                }
            )
    return {
        "request": {
            "tracking_number": access_request.tracking_number,
            "use_case": access_request.use_case,
            "scope": access_request.scope,
            "requested_duration_days": access_request.requested_duration_days,
            "submitted_at": access_request.submitted_at.isoformat() if access_request.submitted_at else None,
            "documents": [
                {
                    "title": d.title,
                    "filename": d.original_filename,
                    "sha256": d.sha256,
                    "size_bytes": d.size_bytes,
                }
                for d in documents
            ],
        },
        "vendor": {"legal_name": vendor.legal_name, "status": vendor.status},
        "customer": {
            "legal_name": customer.legal_name,
            "country": customer.country,
            "sector": customer.sector,
            "registration_id": customer.registration_id,
            "intended_use": customer.intended_use,
            "security_contact_name": customer.security_contact_name,
            "security_contact_email": customer.security_contact_email,
            "attestation": customer.attestation,
        },
        "model": {
            "name": model.name,
            "version": model.version,
            "description": model.description,
            # as text: a JSON float does not survive every database's JSON type unchanged
            "training_compute_flop": repr(float(model.training_compute_flop)),
            "capability_summary": model.capability_summary,
            "cyber_evaluation_summary": model.cyber_evaluation_summary,
            "release_phase": model.release_phase,
            "evidence": [{"title": d.title, "sha256": d.sha256} for d in evidence],
        },
        "positions": positions,
        "conditions": [
            {
                "agency": c.agency.code,
                "kind": c.kind,
                "text": c.text,
                "expires_on": c.expires_on.isoformat() if c.expires_on else None,
                "seat_cap": c.seat_cap,
            }
            for c in conditions
        ],
    }


def _require_within_preview_cap(access_request, today):
    """A model cleared for limited preview with a cap clears at most that many partner customers."""
    model = FrontierModel.objects.select_for_update(no_key=True).get(pk=access_request.frontier_model_id)
    if not model.preview_customer_cap:
        return
    cleared = set(
        Grant.objects.filter(
            frontier_model=model, status=Grant.Status.ACTIVE, valid_to__gte=today
        ).values_list("partner_customer_id", flat=True)
    )
    if access_request.partner_customer_id in cleared or len(cleared) < model.preview_customer_cap:
        return
    raise PortalError(
        f"{model} is cleared for limited preview for at most {model.preview_customer_cap} partner customers, "
        f"and {len(cleared)} already hold an active grant: {access_request} cannot be approved until one "
        "of those grants ends."
    )


def _decide(access_request, *, actor, outcome, rationale, conditions=()):
    """Record the decision with its snapshot, hash and letter; an approval also creates the grant."""
    now = timezone.now()
    today = timezone.localdate(now)
    if outcome == Decision.Outcome.APPROVED:
        _require_within_preview_cap(access_request, today)
    conditions = sorted(conditions, key=lambda c: (c.agency.code, c.pk))
    snapshot = decision_snapshot(access_request, conditions)
    grant = None
    valid_to = None
    if outcome == Decision.Outcome.APPROVED:
        days = min(GRANT_DAYS, access_request.requested_duration_days or GRANT_DAYS)
        valid_to = today + timedelta(days=days)
        expiries = [c.expires_on for c in conditions if c.kind == Condition.Kind.EXPIRY and c.expires_on]
        if expiries:
            valid_to = max(today, min([valid_to, *expiries]))
    letter = render_to_string(
        "approvals/letters/decision.txt",
        {
            "access_request": access_request,
            "outcome": outcome,
            "rationale": rationale,
            "conditions": conditions,
            "decided_by": actor,
            "decided_on": today,
            "valid_from": today,
            "valid_to": valid_to,
            "lead": agency_of(actor),
            "positions": snapshot["positions"],
        },
    )
    decision = Decision(
        access_request=access_request,
        outcome=outcome,
        rationale=rationale,
        decided_by=actor,
        decided_at=now,
        snapshot=snapshot,
        snapshot_sha256=snapshot_sha256(snapshot),
        letter_text=letter,
    )
    word = "Approved" if outcome == Decision.Outcome.APPROVED else "Denied"
    _save(decision, actor=actor, reason=f"{word} by {_person(actor)}.")
    decision.conditions.set(conditions)
    agencies = list(
        Agency.objects.filter(referrals__access_request=access_request).select_related("officials_group")
    )
    if outcome == Decision.Outcome.APPROVED:
        grant = Grant(
            decision=decision,
            access_request=access_request,
            vendor=access_request.vendor,
            frontier_model=access_request.frontier_model,
            partner_customer=access_request.partner_customer,
            valid_from=today,
            valid_to=valid_to,
            status=Grant.Status.ACTIVE,
            status_changed_at=now,
        )
        _save(grant, actor=actor, reason=f"Created by the approval of {access_request}.")
        grant.conditions.set(conditions)
        permissions.grant("view", access_request.vendor.members_group, grant)
        for agency in agencies:
            permissions.grant("view", agency.officials_group, grant)
    _close_referrals(access_request, actor=actor, reason="Closed by the decision.")
    access_request.status = (
        AccessRequest.Status.APPROVED if outcome == Decision.Outcome.APPROVED else AccessRequest.Status.DENIED
    )
    access_request.decided_at = now
    _save_request(
        access_request,
        actor=actor,
        reason=f"{word} by the lead agency; the decision letter was issued.",
        update_fields=["status", "decided_at"],
    )
    context = {"outcome": word.lower(), "valid_to": _date(valid_to) if valid_to else ""}
    event = "decision_approved" if outcome == Decision.Outcome.APPROVED else "decision_denied"
    _notify_vendor(
        access_request,
        event=event,
        subject=f"Decision on {access_request}: {word.lower()}",
        key=str(decision.pk),
        context=context,
    )
    _notify_officials(
        access_request,
        _referred_officials(access_request),
        event=event,
        subject=f"Decision on {access_request}: {word.lower()}",
        key=str(decision.pk),
        context=context,
    )
    return decision


def _signed_conditions(access_request):
    return list(
        Condition.objects.filter(
            access_request=access_request, position__signed_at__isnull=False
        ).select_related("agency")
    )


def _require_all_required_signed(access_request):
    missing = access_request.referrals.filter(required=True).exclude(status=Referral.Status.SIGNED)
    missing = list(missing.select_related("agency"))
    if missing:
        messages = [f"{r.agency.code} has not signed its position yet." for r in missing]
        raise PortalError(
            "Every required agency must sign its position before the decision.", messages=messages
        )


def _non_concurring(access_request):
    return list(
        Position.objects.filter(
            referral__access_request=access_request,
            signed_at__isnull=False,
            stance=Position.Stance.NON_CONCUR,
        ).select_related("referral__agency")
    )


def _require_no_decision(access_request):
    if access_request.on_hold:
        raise PortalError(
            f"{access_request} is on hold while {access_request.frontier_model} is suspended: it cannot be "
            "decided until the suspension is lifted."
        )
    decision = Decision.objects.filter(access_request=access_request).select_related("decided_by").first()
    if decision is not None:
        raise PortalError(
            f"{_person(decision.decided_by)} already decided {access_request} "
            f"({decision.get_outcome_display().lower()}) at "
            f"{timezone.localtime(decision.decided_at):%B %-d, %Y %H:%M}."
        )


@transaction.atomic
def record_decision(*, access_request, actor, rationale="", expected_version=None):
    """Approve a request every required agency concurs with, carrying all their conditions."""
    access_request = _lock_request(access_request)
    _require_lead_approver(actor, access_request, "record a decision")
    _require_no_decision(access_request)
    if access_request.status == AccessRequest.Status.ESCALATED:
        raise PortalError(f"{access_request} is escalated: resolve the escalation instead.")
    if access_request.status == AccessRequest.Status.INFO_REQUESTED:
        raise PortalError(f"{access_request} waits for the vendor's answer to an information request.")
    if access_request.status not in (AccessRequest.Status.IN_REVIEW, AccessRequest.Status.SUBMITTED):
        raise PortalError(
            f"{access_request} is “{access_request.get_status_display()}”: it cannot be decided."
        )
    _check_version(access_request, expected_version)
    _require_all_required_signed(access_request)
    objections = _non_concurring(access_request)
    if objections:
        codes = ", ".join(p.referral.agency.code for p in objections)
        raise PortalError(f"{codes} does not concur: escalate the case instead of deciding it.")
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.APPROVED,
        rationale=_clean_text(rationale),
        conditions=_signed_conditions(access_request),
    )


@transaction.atomic
def escalate_request(*, access_request, actor, reason, expected_version=None):
    """Raise a case with a signed non-concurrence for the lead agency's approver to resolve."""
    access_request = _lock_request(access_request)
    _require_lead_approver(actor, access_request, "escalate a case")
    _require_no_decision(access_request)
    if access_request.status == AccessRequest.Status.ESCALATED:
        raise PortalError(f"{access_request} is already escalated.")
    if access_request.status not in (AccessRequest.Status.IN_REVIEW, AccessRequest.Status.SUBMITTED):
        raise PortalError(
            f"{access_request} is “{access_request.get_status_display()}”: it cannot be escalated."
        )
    _check_version(access_request, expected_version)
    _require_all_required_signed(access_request)
    if not _non_concurring(access_request):
        raise PortalError("Every agency concurs: record the decision instead of escalating.")
    reason = _clean_text(reason)
    if not reason:
        raise PortalError("Say why the case is escalated.", field="reason")
    _save(
        Escalation(access_request=access_request, raised_by=actor, reason=reason),
        actor=actor,
        reason=f"Escalated by {_person(actor)}.",
    )
    access_request.status = AccessRequest.Status.ESCALATED
    _save_request(
        access_request,
        actor=actor,
        reason="Escalated: the agencies did not all concur.",
        update_fields=["status"],
    )
    _notify_vendor(
        access_request,
        event="request_escalated",
        subject=f"Escalated for resolution: {access_request}",
        key=str(access_request.pk),
    )
    _notify_officials(
        access_request,
        _referred_officials(access_request, {Role.AGENCY_APPROVER}),
        event="request_escalated",
        subject=f"Escalated: {access_request}",
        key=str(access_request.pk),
        context={"reason": reason},
    )
    return access_request


RESOLUTIONS = {
    "approve": "Approve",
    "approve_with_conditions": "Approve with further conditions",
    "intent_to_deny": "Issue an intent to deny",
}


@transaction.atomic
def resolve_escalation(*, access_request, actor, outcome, rationale, conditions=(), expected_version=None):
    """Resolve an escalated case: approve (possibly with more conditions) or announce an intent to deny."""
    access_request = _lock_request(access_request)
    lead = _require_lead_approver(actor, access_request, "resolve an escalation")
    _require_no_decision(access_request)
    if access_request.status != AccessRequest.Status.ESCALATED:
        raise PortalError(f"{access_request} is “{access_request.get_status_display()}”, not escalated.")
    _check_version(access_request, expected_version)
    if outcome not in RESOLUTIONS:
        raise PortalError("Choose how to resolve the escalation.", field="outcome")
    rationale = _clean_text(rationale)
    if not rationale:
        raise PortalError("Write the rationale for the resolution.", field="rationale")
    if outcome == "intent_to_deny":
        existing = IntentToDeny.objects.filter(access_request=access_request).first()
        if existing is not None:
            raise PortalError(
                f"An intent to deny was already issued on {_date(timezone.localdate(existing.issued_at))}."
            )
        if conditions and any(_clean_text(c.get("text")) for c in conditions):
            raise PortalError("An intent to deny carries no conditions.", field="conditions")
        today = timezone.localdate()
        respond_by = today + timedelta(days=INTENT_TO_DENY_DAYS)
        intent = _save(
            IntentToDeny(
                access_request=access_request, reasons=rationale, issued_by=actor, respond_by=respond_by
            ),
            actor=actor,
            reason=f"Intent to deny issued by {_person(actor)}.",
        )
        _save_request(
            access_request,
            actor=actor,
            reason=f"Intent to deny issued; the vendor may respond by {_date(respond_by)}.",
            update_fields=[],
        )
        _notify_vendor(
            access_request,
            event="intent_to_deny",
            subject=f"Intent to deny {access_request}: respond by {_date(respond_by)}",
            key=str(intent.pk),
            context={"reasons": rationale, "respond_by": _date(respond_by)},
        )
        return intent
    extra = _clean_conditions(
        conditions,
        Position.Stance.CONCUR_WITH_CONDITIONS
        if outcome == "approve_with_conditions"
        else Position.Stance.CONCUR,
    )
    added = _create_conditions(
        extra,
        access_request=access_request,
        agency=lead,
        actor=actor,
        reason=f"Condition added by {_person(actor)} in resolving the escalation.",
    )
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.APPROVED,
        rationale=rationale,
        conditions=_signed_conditions(access_request) + added,
    )


@transaction.atomic
def respond_to_intent_to_deny(*, access_request, actor, response, expected_version=None):
    """The vendor answers an intent to deny within its window."""
    access_request = _lock_request(access_request)
    _require_vendor_actor(actor, access_request)
    intent = IntentToDeny.objects.select_for_update().filter(access_request=access_request).first()
    if intent is None or access_request.status != AccessRequest.Status.ESCALATED:
        raise PortalError(f"There is no intent to deny {access_request} to respond to.")
    if intent.status != IntentToDeny.Status.AWAITING_RESPONSE:
        raise PortalError("Your response to the intent to deny has already been recorded.")
    if timezone.localdate() > intent.respond_by:
        raise PortalError(f"The window to respond closed on {_date(intent.respond_by)}.")
    _check_version(access_request, expected_version)
    response = _clean_text(response)
    if not response:
        raise PortalError("Write your response.", field="response")
    intent.vendor_response = response
    intent.responded_by = actor
    intent.responded_at = timezone.now()
    intent.status = IntentToDeny.Status.RESPONDED
    _save(intent, actor=actor, reason=f"Response by {_person(actor)}.")
    _save_request(
        access_request, actor=actor, reason="The vendor responded to the intent to deny.", update_fields=[]
    )
    _notify_officials(
        access_request,
        _lead_approvers(),
        event="intent_to_deny_response",
        subject=f"The vendor responded to the intent to deny {access_request}",
        key=str(intent.pk),
    )
    return intent


@transaction.atomic
def finalise_denial(*, access_request, actor, rationale="", expected_version=None):
    """Deny after the vendor has responded to the intent to deny or its window has closed."""
    access_request = _lock_request(access_request)
    _require_lead_approver(actor, access_request, "finalise a denial")
    _require_no_decision(access_request)
    intent = IntentToDeny.objects.select_for_update().filter(access_request=access_request).first()
    if access_request.status != AccessRequest.Status.ESCALATED or intent is None:
        raise PortalError("A denial follows an intent to deny: issue one first.")
    _check_version(access_request, expected_version)
    today = timezone.localdate()
    if intent.status == IntentToDeny.Status.AWAITING_RESPONSE:
        if today <= intent.respond_by:
            raise PortalError(
                f"The vendor has until {_date(intent.respond_by)} to respond; the denial can be finalised "
                "after they respond or the window closes."
            )
        intent.status = IntentToDeny.Status.WINDOW_CLOSED
        _save(
            intent,
            actor=actor,
            reason="The window to respond closed without a response.",
            update_fields=["status"],
        )
    return _decide(
        access_request,
        actor=actor,
        outcome=Decision.Outcome.DENIED,
        rationale=_clean_text(rationale) or intent.reasons,
    )


# ---------------------------------------------------------------------------------------------
# Reminders


def send_clock_reminders(*, today=None):
    """Scheduled daily: referrals due within 5 days or overdue, grants expiring in 30 and 7 days.

    Idempotent: the notification key names the referral and its due date (due soon), the day
    (overdue, one reminder a day) or the grant and the threshold (expiry).
    """
    today = today or timezone.localdate()
    sent = 0
    referrals = (
        Referral.objects.filter(
            status__in=ACTIVE_REFERRAL_STATUSES,
            clock_stopped_at__isnull=True,
            access_request__status__in=UNDER_REVIEW,
            due_date__lte=today + timedelta(days=5),
        )
        .select_related("agency", "access_request")
        .prefetch_related("assigned_officials")
    )
    approvers = {}
    for referral in referrals:
        agency = referral.agency
        if agency.pk not in approvers:
            approvers[agency.pk] = agency_officials(agency, {Role.AGENCY_APPROVER})
        recipients = [*referral.assigned_officials.all(), *approvers[agency.pk]]
        days = (referral.due_date - today).days
        if days < 0:
            event, key = "referral_overdue", f"{referral.pk}:{today.isoformat()}"
            plural = "s" if days != -1 else ""
            subject = f"Overdue by {-days} day{plural}: {referral.access_request} ({agency.code})"
        else:
            event, key = "referral_due_soon", f"{referral.pk}:{referral.due_date.isoformat()}"
            subject = (
                f"Due in {days} day{'s' if days != 1 else ''}: {referral.access_request} ({agency.code})"
            )
        sent += len(
            _notify_officials_outside(
                referral.access_request, recipients, event, subject, key, agency, days, referral
            )
        )
    grants = Grant.objects.filter(
        status=Grant.Status.ACTIVE, valid_to__gte=today, valid_to__lte=today + timedelta(days=30)
    ).select_related("vendor", "access_request", "frontier_model", "partner_customer")
    teams = {}
    for grant in grants:
        days = (grant.valid_to - today).days
        threshold = 7 if days <= 7 else 30
        if grant.vendor_id not in teams:
            teams[grant.vendor_id] = vendor_compliance_team(grant.vendor)
        sent += len(
            notify(
                event="grant_expiring",
                recipients=teams[grant.vendor_id],
                subject=(
                    f"Access for {grant.partner_customer} to {grant.frontier_model} ends "
                    f"{_date(grant.valid_to)}"
                ),
                context={
                    "tracking_number": str(grant.access_request),
                    "customer": str(grant.partner_customer),
                    "model": str(grant.frontier_model),
                    "valid_to": _date(grant.valid_to),
                    "days": days,
                },
                link=_vendor_link(grant.access_request),
                key=f"{grant.pk}:{threshold}",
                object_label=str(grant.access_request),
            )
        )
    return sent


def _notify_officials_outside(access_request, recipients, event, subject, key, agency, days, referral):
    with transaction.atomic():
        return notify(
            event=event,
            recipients=recipients,
            subject=subject,
            context={
                "tracking_number": str(access_request),
                "agency": agency.code,
                "days": days,
                "due_date": _date(referral.due_date),
            },
            link=_case_link(access_request),
            key=key,
            object_label=str(access_request),
        )


@transaction.atomic
def _expire_grant(grant_pk, *, actor, today):
    grant = Grant.objects.select_for_update().get(pk=grant_pk)
    if grant.status != Grant.Status.ACTIVE or grant.valid_to >= today:
        return False
    grant.status = Grant.Status.EXPIRED
    grant.status_changed_at = timezone.now()
    grant.status_reason = f"Expired: valid until {_date(grant.valid_to)}."
    _save(
        grant,
        actor=actor,
        reason=grant.status_reason,
        update_fields=["status", "status_changed_at", "status_reason"],
    )
    return True


def expire_lapsed_grants(*, today=None):
    """Scheduled daily: an active grant whose last valid day has passed becomes expired."""
    from portal.accounts.services import system_user

    today = today or timezone.localdate()
    actor = system_user()
    lapsed = Grant.objects.filter(status=Grant.Status.ACTIVE, valid_to__lt=today).values_list("pk", flat=True)
    return sum(1 for pk in list(lapsed) if _expire_grant(pk, actor=actor, today=today))
