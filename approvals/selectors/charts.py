"""What the dashboards draw: decisions per week by outcome, median days to a signed position by
agency, incident reports by severity. Each series is read in one query, over what the user may see,
and drawn server-side as SVG with a data table beside it (``admin/approvals/_bar_chart.html``)."""

from dataclasses import dataclass, field
from datetime import timedelta
from statistics import median

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from approvals.models import Agency, Decision, IncidentReport, Referral
from approvals.models import dashboard as tally
from approvals.models.dashboard import tally_sums
from approvals.policies import agency_of
from approvals.selectors.enforcement import incidents_visible_to
from approvals.selectors.requests import requests_visible_to
from portal.accounts.models import AGENCY_ROLES

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


def _reader(user):
    """Whose kept tally rows a chart reads for ``user``: ``EVERYONE`` for those who read every
    submitted request, their agency's id for an official (who reads the requests their agency
    holds a referral on), else ``None`` (charts are then counted from the rows)."""
    if getattr(user, "sees_everything", False):
        return tally.EVERYONE
    if getattr(user, "role", None) in AGENCY_ROLES and user.is_active:
        agency = agency_of(user)
        return agency.pk if agency is not None else None
    return None


def decisions_per_week(user, *, today=None, weeks=WEEKS_SHOWN):
    today = today or timezone.localdate()
    start = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    reader = _reader(user)
    if reader is not None:  # the kept tally: a row per day and outcome of the weeks shown
        by_week = {}
        for _kind, day, code, _value, n in tally_sums(reader, [tally.DECIDED], since=start):
            outcome = {v: k for k, v in tally.OUTCOME_CODES.items()}.get(code)
            week = by_week.setdefault(day - timedelta(days=day.weekday()), {})
            week[outcome] = week.get(outcome, 0) + n
        return _decisions_chart(by_week, start, weeks)
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
    return _decisions_chart(by_week, start, weeks)


def _decisions_chart(by_week, start, weeks):
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
    reader = _reader(user)
    if reader is not None:  # the kept tally: a row per day, agency and time taken
        codes = dict(Agency.objects.values_list("pk", "code"))
        weighted = {}
        # whole months from the months' rows, the first (partial) month from its days' rows
        month_end = (since.replace(day=1) + timedelta(days=32)).replace(day=1) if since.day != 1 else since
        rows = tally_sums(reader, [tally.SIGNED_MONTH], since=since) + tally_sums(
            reader, [tally.SIGNED], since=since, until=month_end
        )
        for _kind, _day, agency_id, micros, n in rows:
            days = max(timedelta(microseconds=micros).total_seconds() / 86400, 0)
            by_value = weighted.setdefault(codes.get(agency_id, "?"), {})
            by_value[days] = by_value.get(days, 0) + n
        return _days_chart({code: _weighted_median(values) for code, values in weighted.items()})
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
    return _days_chart({code: (median(values), len(values)) for code, values in days.items()})


def _weighted_median(by_value):
    """``(median, how many)`` of values given as ``{value: how many times}``, as
    ``statistics.median`` computes it over the values written out."""
    values = sorted(v for v, n in by_value.items() if n > 0)
    total = sum(by_value[v] for v in values)
    low, high = (total - 1) // 2, total // 2  # positions of the middle value(s)
    seen, at_low, at_high = 0, None, None
    for value in values:
        seen += by_value[value]
        if at_low is None and seen > low:
            at_low = value
        if seen > high:
            at_high = value
            break
    return (at_low if low == high else (at_low + at_high) / 2), total


def _days_chart(medians):
    chart = Chart(
        title="Median days to a signed position, by agency",
        description="Calendar days from the referral to the agency's signed position, over the last year.",
        unit="days",
        series=["Median days"],
    )
    for code in sorted(medians):
        middle, count = medians[code]
        if not count:
            continue
        value = round(middle, 1)
        chart.bars.append(Bar(label=f"{code} ({count} signed)", values=[value], total=value))
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
