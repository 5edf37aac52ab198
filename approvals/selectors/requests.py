"""Reads of access requests for the vendor's pages: lists, counts, timeline, what waits on the vendor."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, Subquery
from django.http import Http404
from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Decision,
    EnforcementAction,
    Grant,
    InformationRequest,
    IntentToDeny,
    Referral,
    RequestCount,
    RequestDocument,
)
from approvals.policies import agency_of
from portal import permissions
from portal.accounts.models import VENDOR_ROLES, Role
from portal.params import int_param

TRACKING_PREFIX = "FAR-"


def requests_visible_to(user):
    """The access requests ``user`` may read: the one list filter for requests.

    A vendor's member only ever holds permissions on their own vendor's requests, so their rows
    are first narrowed to that vendor (the ``vendor``-led index), and the permission filter then
    probes those rows only, not every request of every vendor (issue 18)."""
    queryset = AccessRequest.objects.select_related("vendor", "frontier_model", "partner_customer")
    vendor_id = _vendor_id_of(user)
    if vendor_id is not None:
        queryset = queryset.filter(vendor_id=vendor_id)
    return permissions.visible_to(user, queryset, "view")


def vendor_requests(user, *, status="", search=""):
    """The vendor's request list, filtered by status and a search over number, customer and model."""
    queryset = requests_visible_to(user)
    if status:
        queryset = queryset.filter(status=status)
    search = (search or "").strip()
    if search:
        queryset = queryset.filter(
            Q(tracking_number__icontains=search)
            | Q(partner_customer__legal_name__icontains=search)
            | Q(frontier_model__name__icontains=search)
            | Q(frontier_model__version__icontains=search)
        )
    return queryset.order_by("-submitted_at", "-created_at", "-pk")


def status_counts(user):
    """``{status: count}`` of the requests ``user`` may read.

    A vendor's member reads every request of their vendor (its members' group holds ``view`` on
    each, drafts included): those counts are kept per vendor and status (``RequestCount``), a few
    rows, where counting would read every request of the vendor (issue 18)."""
    vendor_id = _vendor_id_of(user)
    if vendor_id is not None:
        return RequestCount.of_vendor(vendor_id)
    rows = requests_visible_to(user).order_by().values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def _vendor_id_of(user):
    """The id of a vendor member's vendor as a scalar subquery (computed once per statement, so
    that a list walks the ``vendor``-led index), else ``None``."""
    if getattr(user, "role", None) not in VENDOR_ROLES or not user.is_active:
        return None
    from vendors.models import Vendor

    return Subquery(Vendor.objects.filter(organisation_id=user.organisation_id).values("pk")[:1])


def request_by_reference(user, ref, action="view"):
    """One request by tracking number (``FAR-2026-000123``) or, for a draft, by id; else 404."""
    queryset = requests_visible_to(user)
    ref = (ref or "").strip()
    if ref.upper().startswith(TRACKING_PREFIX):
        return permissions.get_visible_or_404(user, queryset, action, tracking_number=ref.upper())
    if int_param(ref) is not None:
        return permissions.get_visible_or_404(user, queryset, action, pk=int(ref))
    raise Http404("No such request.")


def reference(access_request):
    """How a request is addressed in URLs: its tracking number, or its id while a draft."""
    return access_request.tracking_number or str(access_request.pk)


VENDOR_REFERRAL_WORDS = {
    Referral.Status.OPEN: "Reviewing",
    Referral.Status.DRAFTED: "Reviewing",
    Referral.Status.SIGNED: "Review complete",
    Referral.Status.CLOSED: "Closed",
}


PLAIN_STATUS = {
    AccessRequest.Status.DRAFT: "This is a draft. Nobody outside your team can see it until you submit it.",
    AccessRequest.Status.SUBMITTED: (
        "Submitted. The agencies named below have received it and will start their review."
    ),
    AccessRequest.Status.IN_REVIEW: "The agencies are reviewing it, each on its own clock.",
    AccessRequest.Status.INFO_REQUESTED: (
        "An agency has asked you a question. The review clocks are stopped until you answer."
    ),
    AccessRequest.Status.ESCALATED: "The agencies did not all agree. The lead agency is resolving the case.",
    AccessRequest.Status.APPROVED: "Approved. The customer is cleared under the conditions below.",
    AccessRequest.Status.DENIED: "Denied. The decision letter gives the reasons.",
    AccessRequest.Status.WITHDRAWN: "You withdrew this request. It will not be decided.",
    AccessRequest.Status.RETURNED: "Returned without action. You may file a new request.",
    AccessRequest.Status.RETURNED_INCOMPLETE: (
        "Returned as incomplete. Fix what the lead agency names below and submit it again: it keeps its "
        "tracking number, and the agencies' review starts afresh on new clocks."
    ),
}


@dataclass
class ReferralProgress:
    agency_code: str
    agency_name: str
    required: bool
    words: str
    due_date: object
    days_remaining: int
    clock_stopped: bool
    active: bool


def vendor_referral_progress(access_request):
    """Each agency's progress as the vendor may see it: no position, no official, no note."""
    progress = []
    for referral in access_request.referrals.select_related("agency").order_by(
        "-agency__is_lead", "agency__code"
    ):
        active = referral.status in (Referral.Status.OPEN, Referral.Status.DRAFTED)
        progress.append(
            ReferralProgress(
                agency_code=referral.agency.code,
                agency_name=referral.agency.name,
                required=referral.required,
                words=VENDOR_REFERRAL_WORDS[referral.status],
                due_date=referral.due_date,
                days_remaining=referral.days_remaining(),
                clock_stopped=referral.clock_stopped,
                active=active and access_request.status in AccessRequest.OPEN_STATUSES,
            )
        )
    return progress


@dataclass
class TimelineEntry:
    when: datetime
    who: str
    what: str


def _actor_label(user, vendor):
    if user is None:
        return "Portal"
    if user.organisation_id == vendor.organisation_id:
        return user.full_name or user.email
    agency = agency_of(user)
    if agency is not None:
        return agency.code
    if user.role == Role.SYSTEM:
        return "Portal"
    return "Portal administration"


def vendor_timeline(access_request):
    """What has happened to the request, oldest first, as the vendor may read it.

    Built from the request's own history only, whose reasons the services write for the
    vendor to read; nothing from positions, assignments or internal notes. Agency officials
    are named by their agency, not by name.
    """
    vendor = access_request.vendor
    entries = []
    records = access_request.history.select_related("history_user").order_by("history_date", "history_id")
    for record in records:
        reason = record.history_change_reason
        if record.history_type == "+" and not reason:
            reason = "Draft started."
        if reason:
            entries.append(
                TimelineEntry(record.history_date, _actor_label(record.history_user, vendor), reason)
            )
    return entries


def _day(moment):
    return f"{moment:%B} {moment.day}, {moment.year}"


def _approved_words(grant, conditions):
    """What an approval means now: the grant's status, not the decision's, says whether the
    customer is cleared (a suspended, expired or revoked grant clears nobody)."""
    since = _day(timezone.localtime(grant.status_changed_at))
    if grant.status == Grant.Status.SUSPENDED:
        by = f" by enforcement action #{grant.suspended_by_id}" if grant.suspended_by_id else ""
        return (
            f"Approved, but access is suspended{by} since {since}: "
            "the customer may not use the model until the suspension is lifted."
        )
    if grant.status == Grant.Status.EXPIRED:
        return f"Approved; the grant expired after {_day(grant.valid_to)}. The customer is no longer cleared."
    if grant.status == Grant.Status.REVOKED:
        action = (
            grant.enforcement_actions.filter(kind=EnforcementAction.Kind.REVOKE_GRANT).order_by("-pk").first()
        )
        by = f" by enforcement action #{action.pk}" if action else ""
        return f"Approved, but the grant was revoked{by} on {since}. The customer is no longer cleared."
    if conditions:
        return PLAIN_STATUS[AccessRequest.Status.APPROVED]
    return "Approved. The customer is cleared, with no conditions."


def _not_in_use_words(grant):
    """Why a grant clears nobody now, for the grant box ("" while it is active)."""
    if grant is None or grant.status == Grant.Status.ACTIVE:
        return ""
    if grant.status == Grant.Status.SUSPENDED:
        by = f" by enforcement action #{grant.suspended_by_id}" if grant.suspended_by_id else ""
        return f"access is suspended{by} and may not be used until the suspension is lifted"
    if grant.status == Grant.Status.EXPIRED:
        return "the grant has expired"
    return "the grant has been revoked"


def vendor_case(access_request):
    """Everything the vendor's request page shows, in a few queries."""
    questions = list(
        access_request.information_requests.select_related("agency").prefetch_related(
            Prefetch("documents", queryset=RequestDocument.objects.order_by("pk"))
        )
    )
    decision = Decision.objects.filter(access_request=access_request).first()
    grant = Grant.objects.filter(access_request=access_request).first()
    conditions = (
        list(decision.conditions.select_related("agency").order_by("agency__code", "pk")) if decision else []
    )
    plain_status = PLAIN_STATUS[access_request.status]
    if access_request.status == AccessRequest.Status.APPROVED and grant is not None:
        plain_status = _approved_words(grant, conditions)
    if access_request.on_hold and access_request.is_open:
        plain_status = (
            f"On hold: {access_request.frontier_model} was suspended by enforcement action "
            f"#{access_request.held_by_id}. The review and its clocks resume when the suspension is lifted."
        )
    return {
        "plain_status": plain_status,
        "documents": list(access_request.documents.filter(information_request__isnull=True).order_by("pk")),
        "progress": vendor_referral_progress(access_request),
        "open_questions": [q for q in questions if q.status == InformationRequest.Status.OPEN],
        "past_questions": [q for q in questions if q.status != InformationRequest.Status.OPEN],
        "intent_to_deny": IntentToDeny.objects.filter(access_request=access_request).first(),
        "decision": decision,
        "grant": grant,
        # the page's words and alert follow the grant: only an active one clears the customer
        "grant_not_in_use": _not_in_use_words(grant),
        "conditions": conditions,
        "timeline": vendor_timeline(access_request),
    }


def waiting_on_vendor(user):
    """Open questions and intents to deny awaiting an answer from ``user``'s vendor."""
    visible = requests_visible_to(user)
    questions = (
        InformationRequest.objects.filter(status=InformationRequest.Status.OPEN, access_request__in=visible)
        .select_related("agency", "access_request")
        .order_by("deadline")
    )
    intents = (
        IntentToDeny.objects.filter(
            status=IntentToDeny.Status.AWAITING_RESPONSE,
            access_request__in=visible,
            access_request__status=AccessRequest.Status.ESCALATED,
        )
        .select_related("access_request")
        .order_by("respond_by")
    )
    return list(questions), list(intents)
