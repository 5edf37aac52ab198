"""The vendor's side of a request: drafts, documents, the completeness check, submission, withdrawal."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from approvals import policies
from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Grant,
    InformationRequest,
    Referral,
    RequestDocument,
    TrackingCounter,
)
from approvals.selectors.people import agency_officials
from approvals.selectors.routing import route
from approvals.services._common import (
    ACTIVE_REFERRAL_STATUSES,
    MAX_DURATION_DAYS,
    UNCHANGED,
    _check_duration,
    _check_version,
    _clean_text,
    _date,
    _lock_request,
    _person,
    _save,
    _save_request,
    service,
)
from approvals.services._notify import _notify_officials, _notify_vendor, _referred_officials
from approvals.services.routing import _share_case
from portal import permissions
from portal.audit.history import stamp
from portal.errors import PortalError
from vendors.models import FrontierModel, Vendor


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


@service
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
    policies.require_vendor_actor(actor, vendor=vendor)
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


@service
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
    policies.require_update_draft(actor, access_request)
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
    if access_request.status == AccessRequest.Status.RETURNED_INCOMPLETE:
        for field in ("frontier_model", "partner_customer"):
            if field in changes and changes[field] != getattr(access_request, field):
                problems.insert(
                    0,
                    (
                        field,
                        f"{access_request} keeps its customer and model when it is resubmitted: file a new "
                        "request for another.",
                    ),
                )
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


@service
def attach_request_document(*, access_request, actor, uploaded_file, title=""):
    """Attach a supporting document (PDF or plain text) to a draft."""
    access_request = _lock_request(access_request)
    policies.require_attach_document(actor, access_request)
    document = _store_document(
        access_request=access_request, actor=actor, uploaded_file=uploaded_file, title=title
    )
    _save_request(
        access_request, actor=actor, reason=f"Document “{document.title}” attached.", update_fields=[]
    )
    return document


@service
def remove_request_document(*, document, actor):
    """Take a supporting document off a draft (it stays in history)."""
    access_request = _lock_request(document.access_request)
    policies.require_remove_document(actor, access_request)
    document = RequestDocument.objects.select_for_update().get(pk=document.pk)
    stamp(document, actor=actor, reason=f"Document “{document.title}” removed from the draft.")
    document.delete()
    _save_request(access_request, actor=actor, reason="Document removed from the draft.", update_fields=[])


@service
def discard_draft(*, access_request, actor):
    """Throw a draft away (a draft has no tracking number; its history is kept)."""
    access_request = _lock_request(access_request)
    policies.require_discard_draft(actor, access_request)
    for document in access_request.documents.all():
        stamp(document, actor=actor, reason="Draft discarded.")
        document.delete()
    stamp(access_request, actor=actor, reason=f"Draft discarded by {_person(actor)}.")
    access_request.delete()


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


@service
def submit_request(*, access_request, actor, expected_version=None):
    """Check a draft for completeness, number it and refer it to the agencies the rules name.

    The vendor row is locked first, as a designation locks it before it reads the vendor's open
    requests: a submission and a designation of the same vendor then run one after the other, so
    the request is either routed with the designation's DOD referral or seen by the designation."""
    Vendor.objects.select_for_update(no_key=True).filter(pk=access_request.vendor_id).first()
    access_request = _lock_request(access_request)
    policies.require_submit(actor, access_request)
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
    resubmission = access_request.status == AccessRequest.Status.RETURNED_INCOMPLETE
    if resubmission:
        from approvals.services.returns import reopen_returned_review

        referrals = reopen_returned_review(access_request, routes, actor=actor, now=now, today=today)
        access_request.closed_reason = ""
        verb = "Resubmitted after its return as incomplete"
    else:
        access_request.tracking_number = _next_tracking_number(today.year)
        referrals = [
            (Referral(access_request=access_request, agency=agency, referred_at=now), True)
            for agency, _, _ in routes
        ]
        verb = "Submitted"
    access_request.status = AccessRequest.Status.SUBMITTED
    access_request.submitted_at = now
    # A suspension of chosen customers in force for this customer holds the request as it holds
    # the ones it found open: its clocks start stopped, no decision until it is lifted.
    holding = _suspension_covering(access_request)
    held = ""
    if holding is not None:
        access_request.on_hold, access_request.held_by = True, holding
        held = f" On hold: {holding.frontier_model} is suspended for this customer (action #{holding.pk})."
    _save_request(
        access_request,
        actor=actor,
        reason=f"{verb} by {_person(actor)} and referred to {', '.join(a.code for a, _, _ in routes)}.{held}",
        update_fields=["tracking_number", "status", "submitted_at", "closed_reason", "on_hold", "held_by"],
    )
    for (referral, created), (agency, required, routing_reason) in zip(referrals, routes, strict=True):
        referral.required = required
        referral.routing_reason = routing_reason
        referral.due_date = Referral.default_due_date(today)
        if holding is not None:
            referral.clock_stopped_at = now
        if created:
            _save(referral, actor=actor, reason=f"Referred by routing: {routing_reason}")
        else:
            _save(referral, actor=actor, reason=f"Referred again on resubmission: {routing_reason}")
        permissions.grant("view", agency.officials_group, referral)
        _share_case(access_request, agency)
        _notify_officials(
            access_request,
            agency_officials(agency),
            event="referral_received",
            subject=f"New referral for {agency.code}: {access_request}",
            key=str(referral.pk) if created else f"{referral.pk}:{access_request.version}",
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
        key=f"{access_request.pk}:{access_request.version}" if resubmission else str(access_request.pk),
        context={
            "customer": str(customer),
            "model": str(access_request.frontier_model),
            "agencies": ", ".join(a.code for a, _, _ in routes),
        },
    )
    return access_request


def _suspension_covering(access_request):
    """The suspension of chosen customers in force for the request's model that covers its customer."""
    return (
        EnforcementAction.objects.filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL,
            status=EnforcementAction.Status.IN_FORCE,
            frontier_model_id=access_request.frontier_model_id,
            partner_customers=access_request.partner_customer_id,
        )
        .select_related("frontier_model")
        .first()
    )


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


@service
def withdraw_request(*, access_request, actor, reason, expected_version=None):
    """The vendor takes a submitted request back before a decision."""
    access_request = _lock_request(access_request)
    policies.require_withdraw(actor, access_request)
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
