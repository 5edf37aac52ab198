"""The agency dashboard and the oversight dashboard: queues, clocks, outcomes."""

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Decision,
    EnforcementAction,
    Position,
    Referral,
)
from approvals.policies import agency_of
from approvals.selectors.cases import referral_queue
from approvals.selectors.queue import clock_queue
from approvals.selectors.requests import requests_visible_to, status_counts
from portal import permissions
from portal.accounts.models import Role

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
        Decision.objects.filter(Exists(requests_visible_to(user).filter(pk=OuterRef("access_request_id"))))
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
        "clock_queue": clock_queue(user, today=today),
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
