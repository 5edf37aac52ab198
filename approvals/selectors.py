"""Reads of the review process shared by the vendor pages, the admin and the dashboards.

Every list goes through ``portal.permissions.visible_to``; what a vendor may read of a case
(never a draft position, an internal note or an agency's unsigned work) is decided here.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.http import Http404
from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Agency,
    Condition,
    Decision,
    EnforcementAction,
    Escalation,
    Grant,
    InformationRequest,
    IntentToDeny,
    InternalNote,
    Position,
    Referral,
    RequestDocument,
    RoutingRule,
)
from approvals.services import agency_of
from portal import permissions
from portal.accounts.models import Role

TRACKING_PREFIX = "FAR-"


def requests_visible_to(user):
    """The access requests ``user`` may read: the one list filter for requests."""
    queryset = AccessRequest.objects.select_related("vendor", "frontier_model", "partner_customer")
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
    """``{status: count}`` of the requests ``user`` may read."""
    rows = requests_visible_to(user).order_by().values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def request_by_reference(user, ref, action="view"):
    """One request by tracking number (``FAR-2026-000123``) or, for a draft, by id; else 404."""
    queryset = requests_visible_to(user)
    ref = (ref or "").strip()
    if ref.upper().startswith(TRACKING_PREFIX):
        return permissions.get_visible_or_404(user, queryset, action, tracking_number=ref.upper())
    if ref.isdigit():
        return permissions.get_visible_or_404(user, queryset, action, pk=int(ref))
    raise Http404("No such request.")


def reference(access_request):
    """How a request is addressed in URLs: its tracking number, or its id while a draft."""
    return access_request.tracking_number or str(access_request.pk)


@dataclass(frozen=True)
class Clearance:
    grant: Grant
    conditions: list


def is_customer_cleared(*, frontier_model, partner_customer, at=None):
    """Is ``partner_customer`` cleared for ``frontier_model`` at ``at`` (default now)?

    Answered from grants alone: the active grant whose validity covers the day, with its
    conditions, or ``None``.
    """
    at = at or timezone.now()
    day = timezone.localdate(at) if isinstance(at, datetime) else at
    grant = (
        Grant.objects.filter(
            frontier_model=frontier_model,
            partner_customer=partner_customer,
            status=Grant.Status.ACTIVE,
            valid_from__lte=day,
            valid_to__gte=day,
        )
        .prefetch_related(Prefetch("conditions", queryset=Condition.objects.select_related("agency")))
        .order_by("-valid_to")
        .first()
    )
    if grant is None:
        return None
    return Clearance(grant=grant, conditions=list(grant.conditions.all()))


def referral_queue(user, *, assigned_to_me=False):
    """The referrals ``user``'s agency still has to answer, most urgent clock first."""
    agency = agency_of(user)
    if agency is None:
        return Referral.objects.none()
    queryset = permissions.visible_to(
        user,
        Referral.objects.filter(
            agency=agency,
            status__in=(Referral.Status.OPEN, Referral.Status.DRAFTED),
            access_request__status__in=(
                AccessRequest.Status.SUBMITTED,
                AccessRequest.Status.IN_REVIEW,
                AccessRequest.Status.INFO_REQUESTED,
            ),
        )
        .select_related(
            "agency",
            "access_request__vendor",
            "access_request__partner_customer",
            "access_request__frontier_model",
        )
        .prefetch_related("assigned_officials"),
    )
    if assigned_to_me:
        queryset = queryset.filter(assigned_officials=user)
    # running clocks first (a stopped clock cannot run out), then the nearest due date
    return queryset.order_by(F("clock_stopped_at").asc(nulls_first=True), "due_date", "pk")


# ---------------------------------------------------------------------------------------------
# One case, as the vendor sees it


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
    return {
        "plain_status": PLAIN_STATUS[access_request.status],
        "documents": list(access_request.documents.filter(information_request__isnull=True).order_by("pk")),
        "progress": vendor_referral_progress(access_request),
        "open_questions": [q for q in questions if q.status == InformationRequest.Status.OPEN],
        "past_questions": [q for q in questions if q.status != InformationRequest.Status.OPEN],
        "intent_to_deny": IntentToDeny.objects.filter(access_request=access_request).first(),
        "decision": decision,
        "grant": grant,
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


# ---------------------------------------------------------------------------------------------
# One case, as an agency sees it


def positions_visible_to(user, access_request):
    """Own agency's position in any state; other agencies' once signed; auditors everything."""
    queryset = (
        Position.objects.filter(referral__access_request=access_request)
        .select_related("referral__agency", "drafted_by", "signed_by")
        .prefetch_related("conditions")
        .order_by("referral__agency__code")
    )
    if getattr(user, "sees_everything", False):
        return list(queryset)
    agency = agency_of(user)
    if agency is None:
        return [p for p in queryset if p.is_signed]
    return [p for p in queryset if p.is_signed or p.referral.agency_id == agency.pk]


def notes_visible_to(user, access_request):
    """Internal notes of ``user``'s agency on the case (auditors read every agency's)."""
    queryset = InternalNote.objects.filter(access_request=access_request).select_related("agency", "author")
    if getattr(user, "sees_everything", False):
        return list(queryset)
    agency = agency_of(user)
    if agency is None:
        return []
    return list(queryset.filter(agency=agency))


def agency_case(user, access_request):
    """Everything the agency case page shows for ``user``."""
    agency = agency_of(user)
    referrals = list(
        access_request.referrals.select_related("agency")
        .prefetch_related("assigned_officials")
        .order_by("-agency__is_lead", "agency__code")
    )
    positions = {p.referral_id: p for p in positions_visible_to(user, access_request)}
    for referral in referrals:
        referral.visible_position = positions.get(referral.pk)
        referral.is_mine = agency is not None and referral.agency_id == agency.pk
    questions = list(
        access_request.information_requests.select_related(
            "agency", "asked_by", "answered_by"
        ).prefetch_related("documents")
    )
    decision = Decision.objects.filter(access_request=access_request).select_related("decided_by").first()
    return {
        "agency": agency,
        "my_referral": next((r for r in referrals if r.is_mine), None),
        "referrals": referrals,
        "questions": questions,
        "documents": list(access_request.documents.filter(information_request__isnull=True)),
        "notes": notes_visible_to(user, access_request),
        "decision": decision,
        "decision_conditions": list(decision.conditions.select_related("agency")) if decision else [],
        "grant": Grant.objects.filter(access_request=access_request).first(),
        "escalation": Escalation.objects.filter(access_request=access_request)
        .select_related("raised_by")
        .first(),
        "intent_to_deny": IntentToDeny.objects.filter(access_request=access_request).first(),
        "signed_conditions": list(
            Condition.objects.filter(
                access_request=access_request, position__signed_at__isnull=False
            ).select_related("agency")
        ),
    }


def lead_agency():
    return Agency.objects.filter(is_lead=True).first()


# ---------------------------------------------------------------------------------------------
# The agency dashboard (admin home page) and the admin's lists

SOON_DAYS = 5
QUEUE_SHOWN = 10
RECENT_SHOWN = 8

CLOCK_BUCKETS = [
    ("overdue", "Overdue"),
    ("soon", f"Due within {SOON_DAYS} days"),
    ("running", f"More than {SOON_DAYS} days left"),
    ("stopped", "Clock stopped (waiting on the vendor)"),
]


def clock_bucket_filter(bucket, *, today=None, prefix=""):
    """A ``Q`` selecting referrals (or, with ``prefix="referrals__"``, requests through their
    referrals) whose clock is in ``bucket``: overdue, soon, running or stopped."""
    today = today or timezone.localdate()
    p = prefix
    running = Q(**{f"{p}clock_stopped_at__isnull": True})
    if bucket == "overdue":
        return running & Q(**{f"{p}due_date__lt": today})
    if bucket == "soon":
        return running & Q(
            **{f"{p}due_date__gte": today, f"{p}due_date__lte": today + timedelta(days=SOON_DAYS)}
        )
    if bucket == "running":
        return running & Q(**{f"{p}due_date__gt": today + timedelta(days=SOON_DAYS)})
    if bucket == "stopped":
        return Q(**{f"{p}clock_stopped_at__isnull": False})
    raise ValueError(bucket)


def clock_chart(referrals, *, today=None):
    """``[(key, label, count, percent)]`` of ``referrals`` by clock status, in one query."""
    today = today or timezone.localdate()
    counts = referrals.order_by().aggregate(
        **{key: Count("pk", filter=clock_bucket_filter(key, today=today)) for key, _ in CLOCK_BUCKETS}
    )
    top = max([*counts.values(), 1])
    return [(key, label, counts[key], round(100 * counts[key] / top)) for key, label in CLOCK_BUCKETS]


def _all_required_signed():
    unsigned = Referral.objects.filter(access_request=OuterRef("pk"), required=True).exclude(
        status=Referral.Status.SIGNED
    )
    required = Referral.objects.filter(access_request=OuterRef("pk"), required=True)
    return Exists(required) & ~Exists(unsigned)


def _objection():
    return Exists(
        Position.objects.filter(
            referral__access_request=OuterRef("pk"),
            stance=Position.Stance.NON_CONCUR,
            signed_at__isnull=False,
        )
    )


def requests_for_decision(user):
    """Requests of the lead agency's queue: every required agency signed, not yet decided.

    Annotated with ``has_objection`` (a signed non-concurrence: escalate rather than approve).
    """
    return (
        requests_visible_to(user)
        .filter(status__in=(AccessRequest.Status.SUBMITTED, AccessRequest.Status.IN_REVIEW))
        .filter(_all_required_signed())
        .annotate(has_objection=_objection())
        .order_by("submitted_at", "pk")
    )


def escalated_requests(user):
    return (
        requests_visible_to(user)
        .filter(status=AccessRequest.Status.ESCALATED)
        .select_related("intent_to_deny")
        .order_by("submitted_at", "pk")
    )


def positions_to_sign(user):
    """Drafted, unsigned positions of ``user``'s agency that ``user`` may sign (approvers only)."""
    agency = agency_of(user)
    if agency is None or user.role != Role.AGENCY_APPROVER:
        return Referral.objects.none()
    queryset = (
        referral_queue(user).filter(status=Referral.Status.DRAFTED).select_related("position__drafted_by")
    )
    if agency.requires_two_persons:
        queryset = queryset.exclude(position__drafted_by=user)
    return queryset


def recent_decisions(user, limit=RECENT_SHOWN):
    return list(
        Decision.objects.filter(access_request__in=requests_visible_to(user).values("pk"))
        .select_related("access_request__partner_customer", "access_request__frontier_model", "decided_by")
        .order_by("-decided_at", "-pk")[:limit]
    )


def recent_enforcement_actions(user, limit=RECENT_SHOWN):
    queryset = EnforcementAction.objects.select_related(
        "vendor", "frontier_model", "grant__access_request", "taken_by"
    ).order_by("-taken_at", "-pk")
    return list(permissions.visible_to(user, queryset)[:limit])


def agency_dashboard(user, *, today=None):
    """Everything on an agency official's home page, each list short and most urgent first."""
    today = today or timezone.localdate()
    agency = agency_of(user)
    queue = referral_queue(user).select_related("position__drafted_by")
    mine = referral_queue(user, assigned_to_me=True).select_related("position__drafted_by")
    unassigned = queue.filter(assigned_officials__isnull=True)
    urgent = queue.filter(
        clock_bucket_filter("overdue", today=today) | clock_bucket_filter("soon", today=today)
    )
    to_sign = positions_to_sign(user)
    lead = agency is not None and agency.is_lead
    decisions = requests_for_decision(user) if lead else AccessRequest.objects.none()
    escalated = escalated_requests(user) if lead else AccessRequest.objects.none()
    counts = queue.order_by().aggregate(
        queue=Count("pk", distinct=True),
        mine=Count("pk", filter=Q(assigned_officials=user), distinct=True),
        unassigned=Count("pk", filter=Q(assigned_officials__isnull=True), distinct=True),
        overdue=Count("pk", filter=clock_bucket_filter("overdue", today=today), distinct=True),
        soon=Count("pk", filter=clock_bucket_filter("soon", today=today), distinct=True),
    )
    decision_rows = list(decisions[:QUEUE_SHOWN])
    return {
        "agency": agency,
        "today": today,
        "counts": {
            **counts,
            "to_sign": to_sign.count() if user.role == Role.AGENCY_APPROVER else None,
            "for_decision": decisions.count() if lead else None,
            "escalated": escalated.count() if lead else None,
        },
        "mine": list(mine[:QUEUE_SHOWN]),
        "unassigned": list(unassigned[:QUEUE_SHOWN]),
        "urgent": list(urgent[:QUEUE_SHOWN]),
        "to_sign": list(to_sign[:QUEUE_SHOWN]),
        "lead": lead,
        "for_decision": [r for r in decision_rows if not r.has_objection],
        "to_escalate": [r for r in decision_rows if r.has_objection],
        "escalated": list(escalated[:QUEUE_SHOWN]),
        "chart": clock_chart(queue, today=today),
        "recent_decisions": recent_decisions(user),
        "recent_actions": recent_enforcement_actions(user),
    }


def open_referrals(user):
    """Every open referral ``user`` may read (auditors: all agencies'), for the overview chart."""
    return permissions.visible_to(
        user,
        Referral.objects.filter(
            status__in=(Referral.Status.OPEN, Referral.Status.DRAFTED),
            access_request__status__in=(
                AccessRequest.Status.SUBMITTED,
                AccessRequest.Status.IN_REVIEW,
                AccessRequest.Status.INFO_REQUESTED,
            ),
        ),
    )


def oversight_dashboard(user, *, today=None):
    """The overview for auditors and portal administrators: counts, clocks, recent outcomes."""
    today = today or timezone.localdate()
    counts = status_counts(user)
    referrals = open_referrals(user)
    by_agency = (
        referrals.order_by()
        .values("agency__code")
        .annotate(
            open=Count("pk"),
            overdue=Count("pk", filter=clock_bucket_filter("overdue", today=today)),
            soon=Count("pk", filter=clock_bucket_filter("soon", today=today)),
        )
        .order_by("agency__code")
    )
    return {
        "today": today,
        "statuses": [(value, label, counts.get(value, 0)) for value, label in AccessRequest.Status.choices],
        "total": sum(counts.values()),
        "chart": clock_chart(referrals, today=today),
        "by_agency": list(by_agency),
        "recent_decisions": recent_decisions(user),
        "recent_actions": recent_enforcement_actions(user),
    }


# ---------------------------------------------------------------------------------------------
# Audit export scopes: whose history an agency official may export (portal.audit.export)


def _own_agency(user, queryset, field="agency"):
    agency = agency_of(user)
    return queryset.filter(**{field: agency}) if agency is not None else queryset.none()


def _of_visible_requests(user, queryset, field="access_request"):
    return queryset.filter(**{f"{field}__in": requests_visible_to(user).values("pk")})


AUDIT_SCOPES = {
    # another agency's referral, drafts and notes are internal to it
    "approvals.referral": lambda user: _own_agency(user, Referral.objects.all()),
    "approvals.position": lambda user: _own_agency(user, Position.objects.all(), "referral__agency"),
    "approvals.internalnote": lambda user: _own_agency(user, InternalNote.objects.all()),
    "approvals.condition": lambda user: (
        _own_agency(user, Condition.objects.all())
        | _of_visible_requests(user, Condition.objects.filter(position__signed_at__isnull=False))
        | _of_visible_requests(user, Condition.objects.filter(position__isnull=True))
    ),
    "approvals.requestdocument": lambda user: _of_visible_requests(user, RequestDocument.objects.all()),
    "approvals.escalation": lambda user: _of_visible_requests(user, Escalation.objects.all()),
    "approvals.intenttodeny": lambda user: _of_visible_requests(user, IntentToDeny.objects.all()),
    "approvals.decision": lambda user: _of_visible_requests(user, Decision.objects.all()),
    # reference data every official reads
    "approvals.agency": lambda user: Agency.objects.all(),
    "approvals.routingrule": lambda user: RoutingRule.objects.all(),
}


# ---------------------------------------------------------------------------------------------
# The rest of the agency case page


def case_evidence(user, access_request):
    """The evidence of the request's model and customer that ``user`` may download."""
    from vendors.models import EvidenceDocument

    queryset = EvidenceDocument.objects.filter(
        Q(frontier_model_id=access_request.frontier_model_id)
        | Q(partner_customer_id=access_request.partner_customer_id)
    ).order_by("frontier_model_id", "kind", "pk")
    return list(permissions.visible_to(user, queryset))


def case_enforcement(user, access_request):
    """Enforcement actions on the request's model, vendor or grant, newest first."""
    queryset = (
        EnforcementAction.objects.filter(
            Q(frontier_model_id=access_request.frontier_model_id)
            | Q(vendor_id=access_request.vendor_id, kind__in=["designate_vendor", "rescind_designation"])
            | Q(grant__access_request_id=access_request.pk)
        )
        .select_related("taken_by", "frontier_model", "vendor")
        .order_by("-taken_at", "-pk")
    )
    return list(permissions.visible_to(user, queryset))
