"""The agency dashboard and the oversight dashboard: queues, clocks, outcomes."""

import copy
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
from approvals.models import dashboard as tally
from approvals.models.dashboard import tally_sums
from approvals.policies import agency_of
from approvals.selectors.cases import referral_queue
from approvals.selectors.queue import clock_queue, first_rows
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


def queue_counts(user, agency, *, today=None):
    """The dashboard's numbers for an official of ``agency``, from the kept tally
    (``approvals.models.dashboard``): one query, a few rows per agency (one per due date of its
    open referrals and per assigned official), whatever the number of requests.

    ``{queue, mine, unassigned, overdue, soon, to_sign, for_decision, escalated}`` and the clock
    chart's ``{overdue, soon, running, stopped}``; what each would count is the same as the
    queue's querysets count (``referral_queue``, ``positions_to_sign``, ``requests_for_decision``,
    ``escalated_requests``)."""
    today = today or timezone.localdate()
    rows = tally_sums(
        agency.pk,
        [tally.RUNNING, tally.STOPPED, tally.UNASSIGNED, tally.ASSIGNED, tally.DRAFTED]
        + ([tally.FOR_DECISION, tally.ESCALATED] if agency.is_lead else []),
    )
    soon_until = today + timedelta(days=SOON_DAYS)
    clock = {key: 0 for key, _ in CLOCK_BUCKETS}
    sums = dict.fromkeys(["mine", "unassigned", "drafted", "drafted_by_me", "for_decision", "escalated"], 0)
    for kind, day, other, _value, count in rows:
        if kind == tally.RUNNING:
            bucket = "overdue" if day < today else "soon" if day <= soon_until else "running"
            clock[bucket] += count
        elif kind == tally.STOPPED:
            clock["stopped"] += count
        elif kind == tally.ASSIGNED:
            sums["mine"] += count if other == user.pk else 0
        elif kind == tally.DRAFTED:
            sums["drafted"] += count
            sums["drafted_by_me"] += count if other == user.pk else 0
        else:
            sums[kind] += count
    to_sign = None
    if user.role == Role.AGENCY_APPROVER:
        to_sign = sums["drafted"] - (sums["drafted_by_me"] if agency.requires_two_persons else 0)
    counts = {
        "queue": sum(clock.values()),
        "mine": sums["mine"],
        "unassigned": sums["unassigned"],
        "overdue": clock["overdue"],
        "soon": clock["soon"],
        "to_sign": to_sign,
        "for_decision": sums["for_decision"] if agency.is_lead else None,
        "escalated": sums["escalated"] if agency.is_lead else None,
    }
    return counts, clock


def _chart(clock):
    top = max([*clock.values(), 1])
    return [(key, label, clock[key], round(100 * clock[key] / top)) for key, label in CLOCK_BUCKETS]


def _assigned_to(user):
    """The ids of the referrals ``user`` is assigned to (their own workload: the index on user)."""
    return Referral.assigned_officials.through.objects.filter(user_id=user.pk).values("referral_id")


def _referral_lists(queue, lists):
    """``{name: first rows}`` of each of ``lists`` (``{name: (queryset, kept count)}``, each a
    subset of ``queue``): the ids of each list's first rows (none when its kept count is 0), then
    all of their rows in one query of ``queue``; each list gets its own copies."""
    wanted = {
        name: list(queryset.values_list("pk", flat=True)[:QUEUE_SHOWN]) if count else []
        for name, (queryset, count) in lists.items()
    }
    ids = {pk for pks in wanted.values() for pk in pks}
    rows = {row.pk: row for row in queue.filter(pk__in=ids)} if ids else {}
    return {name: [copy.copy(rows[pk]) for pk in pks if pk in rows] for name, pks in wanted.items()}


def agency_dashboard(user, *, today=None):
    """Everything on an agency official's home page, each list short and most urgent first.

    The numbers and the clock chart come from the kept tally (``queue_counts``); each list reads
    its first rows from the agency-led index of its order (``first_rows``): what the page reads
    does not grow with the queue (issue 18)."""
    today = today or timezone.localdate()
    agency = agency_of(user)
    lead = agency is not None and agency.is_lead
    if agency is None:
        return _empty_dashboard(user, today)
    counts, clock = queue_counts(user, agency, today=today)
    queue = referral_queue(user).select_related("position__drafted_by")
    # the user's own assignments, not the whole queue probed for them
    mine = queue.filter(pk__in=_assigned_to(user))
    unassigned = queue.filter(
        ~Exists(Referral.assigned_officials.through.objects.filter(referral=OuterRef("pk")))
    )
    urgent = queue.filter(
        clock_bucket_filter("overdue", today=today) | clock_bucket_filter("soon", today=today)
    )
    decision_rows = []
    if lead and counts["for_decision"]:
        decision_rows = first_rows(
            requests_for_decision(user)
            .filter(dashboard_mark__waiting=tally.WAITING_DECISION)
            .order_by("dashboard_mark__submitted_at", "dashboard_mark__access_request_id"),
            QUEUE_SHOWN,
        )
    escalated = []
    if lead and counts["escalated"]:
        escalated = first_rows(
            escalated_requests(user)
            .filter(dashboard_mark__waiting=tally.WAITING_ESCALATED)
            .order_by("dashboard_mark__submitted_at", "dashboard_mark__access_request_id"),
            QUEUE_SHOWN,
        )
    return {
        "agency": agency,
        "today": today,
        "counts": counts,
        **_referral_lists(
            queue,
            {
                "mine": (mine, counts["mine"]),
                "unassigned": (unassigned, counts["unassigned"]),
                "urgent": (urgent, counts["overdue"] or counts["soon"]),
                "to_sign": (positions_to_sign(user), counts["to_sign"]),
            },
        ),
        "lead": lead,
        "for_decision": [r for r in decision_rows if not r.has_objection],
        "to_escalate": [r for r in decision_rows if r.has_objection],
        "escalated": escalated,
        "chart": _chart(clock),
        "recent_decisions": recent_decisions(user),
        "recent_actions": recent_enforcement_actions(user),
        "clock_queue": clock_queue(user, today=today),
    }


def _empty_dashboard(user, today):
    counts = {"queue": 0, "mine": 0, "unassigned": 0, "overdue": 0, "soon": 0}
    counts.update(to_sign=0 if user.role == Role.AGENCY_APPROVER else None, for_decision=None, escalated=None)
    return {
        "agency": None,
        "today": today,
        "counts": counts,
        **{key: [] for key in ("mine", "unassigned", "urgent", "to_sign", "for_decision", "to_escalate")},
        "escalated": [],
        "lead": False,
        "chart": _chart(dict.fromkeys(["overdue", "soon", "running", "stopped"], 0)),
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
