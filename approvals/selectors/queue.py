"""One queue for everything with a clock that concerns an official's agency, most urgent first:
its referrals, incident reports still due, vendors' designation answer windows and (for the lead
agency) pre-release reviews waiting for its clearance decision.

Each source is one query, filtered through the permissions helper and cut to ``limit`` rows in
the database (ordered by its clock), so the queue costs the same few queries whatever the backlog.
"""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from approvals.models import EnforcementAction, IncidentReport, PrereleaseReview
from approvals.policies import agency_of
from approvals.selectors.cases import referral_queue
from portal import permissions

QUEUE_LIMIT = 15


@dataclass
class QueueItem:
    kind: str  # "referral", "incident", "designation", "review", "attestation"
    label: str  # what it is, in a few words ("Referral FAR-2026-000012")
    about: str  # whom or what it concerns
    due: date | None  # the day the clock runs out (None: no deadline, e.g. a review waiting)
    days_left: int | None  # negative when overdue; None without a deadline
    clock_stopped: bool
    url: str
    since: date | None = None  # for items without a deadline: waiting since

    @property
    def sort_key(self):
        # overdue and nearest due first; stopped clocks after running ones; undated last (oldest first)
        if self.due is None:
            return (2, 0, self.since or date.max)
        return (1 if self.clock_stopped else 0, self.days_left, self.due)


def first_rows(queryset, limit, *, known_empty=False):
    """The first ``limit`` rows of ``queryset`` in its order, read in two steps: their ids alone
    (the filters and the order, without the joined rows: PostgreSQL then walks the ordering index
    and stops at the ``limit``-th row instead of joining and sorting every row of the queue),
    then those rows with what they select and prefetch. ``known_empty`` (the kept count says
    there are none) skips both."""
    if known_empty:
        return []
    ids = list(queryset.values_list("pk", flat=True)[:limit])
    if not ids:
        return []
    rows = {row.pk: row for row in queryset.filter(pk__in=ids)}
    return [rows[pk] for pk in ids if pk in rows]


def _referrals(user, today, limit):
    # by due date whether the clock runs or not: the index ``referral_open_due``, in two steps
    # (``referral_queue`` holds open and drafted referrals only: said twice, the planner would
    # square the condition's selectivity, expect a handful of rows and sort them all instead)
    rows = first_rows(
        referral_queue(user)
        .select_related("access_request__partner_customer", "agency")
        .order_by("due_date", "pk"),
        limit,
    )
    for referral in rows:
        access_request = referral.access_request
        yield QueueItem(
            kind="referral",
            label=f"{referral.agency.code} referral {access_request.tracking_number}",
            about=access_request.partner_customer.legal_name,
            due=referral.due_date,
            days_left=referral.days_remaining(today),
            clock_stopped=referral.clock_stopped,
            url=reverse("admin:approvals_accessrequest_change", args=[access_request.pk]),
        )


def _incidents(user, today, limit):
    rows = permissions.visible_to(
        user,
        IncidentReport.objects.filter(status=IncidentReport.Status.INITIAL)
        .select_related("frontier_model", "vendor")
        .order_by("due_on", "pk"),
    )[:limit]
    for incident in rows:
        yield QueueItem(
            kind="incident",
            label=f"Incident report {incident.reference}: complete report due",
            about=f"{incident.vendor.legal_name} · {incident.frontier_model}",
            due=incident.due_on,
            days_left=(incident.due_on - today).days,
            clock_stopped=False,
            url=reverse("admin:approvals_incidentreport_change", args=[incident.pk]),
        )


def _designations(user, today, limit):
    rows = permissions.visible_to(
        user,
        EnforcementAction.objects.filter(
            kind=EnforcementAction.Kind.DESIGNATE_VENDOR,
            status=EnforcementAction.Status.IN_FORCE,
            responded_at__isnull=True,
            respond_by__gte=today,
        )
        .select_related("vendor")
        .order_by("respond_by", "pk"),
    )[:limit]
    for action in rows:
        yield QueueItem(
            kind="designation",
            label=f"Designation #{action.pk}: the vendor's answer window",
            about=action.vendor.legal_name,
            due=action.respond_by,
            days_left=(action.respond_by - today).days,
            clock_stopped=False,
            url=reverse("admin:approvals_enforcementaction_change", args=[action.pk]),
        )


def _reviews(user, today, limit):
    agency = agency_of(user)
    if agency is None or not agency.is_lead:
        return
    rows = permissions.visible_to(
        user,
        PrereleaseReview.objects.filter(status=PrereleaseReview.Status.IN_REVIEW)
        .select_related("frontier_model", "vendor")
        .order_by("submitted_at", "pk"),
    )[:limit]
    for review in rows:
        yield QueueItem(
            kind="review",
            label=f"Pre-release review of {review.frontier_model}: waiting for {agency.code}'s decision",
            about=review.vendor.legal_name,
            due=None,
            days_left=None,
            clock_stopped=False,
            url=reverse("admin:approvals_prereleasereview_change", args=[review.pk]),
            since=timezone.localdate(review.submitted_at),
        )


def _attestations(user, today, limit):
    """Suspensions in force whose vendor has not yet attested every customer's cut-off."""
    rows = permissions.visible_to(
        user,
        EnforcementAction.objects.filter(
            kind=EnforcementAction.Kind.SUSPEND_MODEL,
            status=EnforcementAction.Status.IN_FORCE,
            attest_by__isnull=False,
            attestations__attested_at__isnull=True,
        )
        .annotate(waiting=Count("attestations", filter=Q(attestations__attested_at__isnull=True)))
        .select_related("vendor", "frontier_model")
        .order_by("attest_by", "pk"),
    )[:limit]
    for action in rows:
        due = timezone.localdate(action.attest_by)
        overdue = "overdue: " if action.attest_by < timezone.now() else ""
        yield QueueItem(
            kind="attestation",
            label=f"Suspension #{action.pk}: {overdue}cut-off not yet attested for "
            f"{action.waiting} customer{'s' if action.waiting != 1 else ''}",
            about=f"{action.vendor.legal_name} · {action.frontier_model}",
            due=due,
            days_left=(due - today).days,
            clock_stopped=False,
            url=reverse("admin:approvals_enforcementaction_change", args=[action.pk]),
        )


def clock_queue(user, *, today=None, limit=QUEUE_LIMIT):
    """Everything with a clock that concerns ``user``'s agency, most urgent first (at most ``limit``)."""
    if agency_of(user) is None:
        return []
    today = today or timezone.localdate()
    items = [
        *_referrals(user, today, limit),
        *_incidents(user, today, limit),
        *_designations(user, today, limit),
        *_reviews(user, today, limit),
        *_attestations(user, today, limit),
    ]
    return sorted(items, key=lambda item: item.sort_key)[:limit]
