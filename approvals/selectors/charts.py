"""What the dashboards draw: decisions per week by outcome, median days to a signed position by
agency, incident reports by severity. Each series is read in one query, over what the user may see,
and drawn server-side as SVG with a data table beside it (``admin/approvals/_bar_chart.html``)."""

from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from approvals.models import Decision, IncidentReport, Referral
from approvals.selectors.enforcement import incidents_visible_to
from approvals.selectors.requests import requests_visible_to

WEEKS_SHOWN = 8
DAYS_MEASURED = 365


@dataclass
class Bar:
    label: str
    values: list  # one number per series
    total: float = 0


@dataclass
class Chart:
    """Bars (one per category) of one or more series, with the scale to draw them on."""

    title: str
    description: str
    unit: str
    series: list
    bars: list = field(default_factory=list)

    @property
    def maximum(self):
        return max([b.total for b in self.bars] + [1])

    @property
    def rows(self):
        """Each bar with its segments' offsets and widths in percent of the longest bar."""
        out = []
        for bar in self.bars:
            offset, segments = 0.0, []
            for index, value in enumerate(bar.values):
                width = 100.0 * value / self.maximum
                segments.append(
                    {"series": index, "x": round(offset, 2), "width": round(width, 2), "value": value}
                )
                offset += width
            out.append({"label": bar.label, "total": bar.total, "segments": segments, "values": bar.values})
        return out


def decisions_per_week(user, *, today=None, weeks=WEEKS_SHOWN):
    today = today or timezone.localdate()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    counts = (
        Decision.objects.filter(
            access_request__in=requests_visible_to(user).values("pk"), decided_at__date__gte=start
        )
        .annotate(week=TruncWeek("decided_at"))
        .values_list("week", "outcome")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_week = {}
    for week, outcome, n in counts:
        by_week.setdefault(timezone.localdate(week) if hasattr(week, "hour") else week, {})[outcome] = n
    outcomes = [Decision.Outcome.APPROVED, Decision.Outcome.DENIED]
    chart = Chart(
        title="Decisions per week",
        description=f"Decisions recorded in each of the last {weeks} weeks, approved and denied.",
        unit="decisions",
        series=[o.label for o in outcomes],
    )
    for n in range(weeks):
        week = start + timedelta(weeks=n)
        values = [by_week.get(week, {}).get(o.value, 0) for o in outcomes]
        chart.bars.append(Bar(label=f"Week of {week:%b} {week.day}", values=values, total=sum(values)))
    return chart


def days_to_position_by_agency(user, *, today=None):
    """Median calendar days from referral to the agency's signed position, over the last year."""
    today = today or timezone.localdate()
    since = today - timedelta(days=DAYS_MEASURED)
    rows = (
        Referral.objects.filter(
            access_request__in=requests_visible_to(user).values("pk"),
            position__signed_at__isnull=False,
            position__signed_at__date__gte=since,
        )
        .values_list("agency__code", "referred_at", "position__signed_at")
        .order_by()
    )
    days = {}
    for code, referred_at, signed_at in rows:
        days.setdefault(code, []).append(max((signed_at - referred_at).total_seconds() / 86400, 0))
    chart = Chart(
        title="Median days to a signed position, by agency",
        description="Calendar days from the referral to the agency's signed position, over the last year.",
        unit="days",
        series=["Median days"],
    )
    for code in sorted(days):
        value = round(median(days[code]), 1)
        chart.bars.append(Bar(label=f"{code} ({len(days[code])} signed)", values=[value], total=value))
    return chart


def incidents_by_severity(user, *, today=None):
    """Incident reports of the last 90 days by severity: still initial, and complete."""
    today = today or timezone.localdate()
    counts = dict.fromkeys(IncidentReport.Severity.values)
    rows = (
        incidents_visible_to(user)
        .filter(detected_on__gte=today - timedelta(days=90))
        .values_list("severity", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for severity, status, n in rows:
        counts[severity] = counts.get(severity) or {}
        counts[severity][status] = n
    statuses = [IncidentReport.Status.INITIAL, IncidentReport.Status.COMPLETE]
    chart = Chart(
        title="Incident reports by severity",
        description="Incident reports of the last 90 days, awaiting the complete report and complete.",
        unit="reports",
        series=["Initial report only", "Complete"],
    )
    for severity in IncidentReport.Severity:
        values = [(counts.get(severity.value) or {}).get(s.value, 0) for s in statuses]
        chart.bars.append(Bar(label=severity.label, values=values, total=sum(values)))
    return chart


def dashboard_charts(user):
    return [decisions_per_week(user), days_to_position_by_agency(user), incidents_by_severity(user)]
