"""What the agency dashboard counts, kept as it changes instead of counted on every visit (issue 18).

Each request contributes *marks* to the dashboard's numbers: one per open referral in an agency's
queue (by due date, or with its clock stopped), per official assigned to it or none, per drafted
position (and its drafter), per request waiting for the lead's decision or escalated, per signed
position (the day it was signed and how long it took, for each agency that can read the request)
and per decision (its day and outcome, likewise). ``DashboardTally`` holds how many requests carry
each mark; ``DashboardMark`` what each request was last counted as, so that ``retally`` can take
back exactly what it added before. The dashboard then reads a few tally rows per agency (bounded
by days, agencies and officials, never by requests) instead of every open referral.

Who may read what follows the services' sharing: an agency's officials read a request once their
agency holds a referral on it (``routing._share_case``), and those who read everything read every
submitted request; so a mark for "the agencies that can read it" is one mark per referred agency,
plus one for everyone (``agency=None``).

``retally(request_ids)`` recomputes the marks of those requests from the rows as they are now, in
the caller's transaction; it is called after every save of a request, a referral (through
``refresh_next_due``, which the services' batched clock changes also call), a position or a
decision, and after officials are assigned. Inside ``counted_once()`` (every service of
``approvals.services`` runs in one) both only note the requests, and each is counted once when the
block ends, still inside its transaction: a submission referred to three agencies was counted
five times over, nine queries each. ``recount_dashboard()`` (and ``manage.py recount_dashboard``)
rebuilds everything from the rows. Derived data: no history.
"""

import json
import threading
from collections import Counter
from contextlib import contextmanager
from datetime import date, timedelta
from functools import lru_cache

from django.db import connection, models, transaction
from django.utils import timezone

OPEN_REQUEST_STATUSES = ("submitted", "in_review", "info_requested")
AWAITING_DECISION_STATUSES = ("submitted", "in_review")
QUEUE_REFERRAL_STATUSES = ("open", "drafted")
EVERYONE = 0  # the agency slot of a mark for those who read every submitted request

# kinds of marks
RUNNING = "running"  # an open referral in the agency's queue, clock running: day = its due date
STOPPED = "stopped"  # ... with its clock stopped
UNASSIGNED = "unassigned"  # ... nobody assigned
ASSIGNED = "assigned"  # ... one of its assigned officials (other = the official)
DRAFTED = "drafted"  # ... its position drafted, not signed (other = the drafter)
FOR_DECISION = "for_decision"  # a request every required agency signed, not yet decided
ESCALATED = "escalated"  # an escalated request
SIGNED = "signed"  # a signed position: day signed, other = its agency, value = microseconds taken
SIGNED_MONTH = "signed_month"  # the same, by the month signed (day = the month's first day)
DECIDED = "decided"  # a decision: day decided, other = 1 approved, 2 denied, 0 anything else

OUTCOME_CODES = {"approved": 1, "denied": 2}


class DashboardTally(models.Model):
    """How many requests (or referrals) carry one mark: what the dashboard adds up."""

    key = models.CharField(max_length=120, unique=True)
    kind = models.CharField(max_length=20)
    agency_id = models.IntegerField(help_text="The agency whose officials count it; 0 for everyone.")
    day = models.DateField(null=True)
    other = models.BigIntegerField(default=0)
    value = models.BigIntegerField(default=0)
    count = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["agency_id", "kind", "day"], name="dashboard_tally_lookup")]

    def __str__(self):
        return f"{self.key}: {self.count}"


class DashboardMark(models.Model):
    """The marks one request was last counted with: ``{key: how many}``."""

    access_request = models.OneToOneField(
        "approvals.AccessRequest", on_delete=models.CASCADE, primary_key=True, related_name="dashboard_mark"
    )
    marks = models.JSONField(default=dict)
    # what the lead's queues walk, in their order: "decision" (every required agency signed,
    # not yet decided) or "escalated", with the request's submission time
    waiting = models.CharField(max_length=20, blank=True, default="")
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["waiting", "submitted_at", "access_request"],
                condition=~models.Q(waiting=""),
                name="dashboard_mark_waiting",
            )
        ]

    def __str__(self):
        return f"{self.access_request_id}: {len(self.marks)} marks"


@lru_cache(maxsize=65_536)  # the same few keys again and again (a recount makes millions)
def _key(kind, agency_id, day=None, other=0, value=0):
    return f"{kind}|{agency_id}|{day.isoformat() if day else ''}|{other}|{value}"


def _parse(key):
    kind, agency_id, day, other, value = key.split("|")
    return {
        "kind": kind,
        "agency_id": int(agency_id),
        "day": date.fromisoformat(day) if day else None,
        "other": int(other),
        "value": int(value),
    }


WAITING_DECISION, WAITING_ESCALATED = "decision", "escalated"


def _marks_of(requests, referrals, assigned, positions, decisions):
    """``{request id: (Counter(keys), waiting, submitted_at)}`` from the rows read by ``_read``."""
    by_request = {pk: [] for pk in requests}
    for referral in referrals.values():
        by_request.setdefault(referral["access_request_id"], []).append(referral)
    out, zone = {}, timezone.get_current_timezone()
    for pk, (status, submitted_at) in requests.items():
        marks, waiting = Counter(), ""
        mine = by_request.get(pk, [])
        readers = sorted({r["agency_id"] for r in mine})
        queue_open = status in OPEN_REQUEST_STATUSES
        for referral in mine:
            agency = referral["agency_id"]
            if queue_open and referral["status"] in QUEUE_REFERRAL_STATUSES:
                if referral["clock_stopped_at"] is None:
                    marks[_key(RUNNING, agency, referral["due_date"])] += 1
                else:
                    marks[_key(STOPPED, agency)] += 1
                officials = assigned.get(referral["id"], ())
                if not officials:
                    marks[_key(UNASSIGNED, agency)] += 1
                for official in sorted(set(officials)):
                    marks[_key(ASSIGNED, agency, other=official)] += 1
                position = positions.get(referral["id"])
                if referral["status"] == "drafted" and position is not None:
                    marks[_key(DRAFTED, agency, other=position["drafted_by_id"] or 0)] += 1
            position = positions.get(referral["id"])
            if position is not None and position["signed_at"] is not None:
                taken = position["signed_at"] - referral["referred_at"]
                micros = max(taken // timedelta(microseconds=1), 0)
                day = position["signed_at"].astimezone(zone).date()  # timezone.localdate
                for reader in [EVERYONE, *readers]:
                    marks[_key(SIGNED, reader, day, other=agency, value=micros)] += 1
                    marks[_key(SIGNED_MONTH, reader, day.replace(day=1), other=agency, value=micros)] += 1
        required = [r for r in mine if r["required"]]
        if (
            status in AWAITING_DECISION_STATUSES
            and required
            and all(r["status"] == "signed" for r in required)
        ):
            waiting = WAITING_DECISION
            for reader in [EVERYONE, *readers]:
                marks[_key(FOR_DECISION, reader)] += 1
        if status == "escalated":
            waiting = WAITING_ESCALATED
            for reader in [EVERYONE, *readers]:
                marks[_key(ESCALATED, reader)] += 1
        decision = decisions.get(pk)
        if decision is not None and status != "draft":
            day = decision["decided_at"].astimezone(zone).date()
            code = OUTCOME_CODES.get(decision["outcome"], 0)
            for reader in [EVERYONE, *readers]:
                marks[_key(DECIDED, reader, day, other=code)] += 1
        out[pk] = (marks, waiting if marks else "", submitted_at if marks else None)
    return out


def _read(request_ids, *, span=None):
    """The rows the marks of ``request_ids`` (or, with ``span=(first, last)``, of every request
    with an id in that range: the recount's batches) are computed from: five queries."""
    from approvals.models import AccessRequest, Decision, Position, Referral

    def of(path):
        if span is None:
            return {f"{path}__in": request_ids}
        return {f"{path}__gte": span[0], f"{path}__lte": span[1]}

    requests = {
        pk: (status, submitted_at)
        for pk, status, submitted_at in AccessRequest.objects.filter(**of("pk")).values_list(
            "pk", "status", "submitted_at"
        )
    }
    referrals = {
        r["id"]: r
        for r in Referral.objects.filter(**of("access_request_id"))
        .order_by()
        .values(
            "id",
            "access_request_id",
            "agency_id",
            "status",
            "required",
            "due_date",
            "clock_stopped_at",
            "referred_at",
        )
    }
    assigned, positions = {}, {}
    if referrals:
        through = Referral.assigned_officials.through
        for referral_id, user_id in through.objects.filter(**of("referral__access_request_id")).values_list(
            "referral_id", "user_id"
        ):
            assigned.setdefault(referral_id, []).append(user_id)
        positions = {
            p["referral_id"]: p
            for p in Position.objects.filter(**of("referral__access_request_id")).values(
                "referral_id", "drafted_by_id", "signed_at"
            )
        }
    decisions = {
        d["access_request_id"]: d
        for d in Decision.objects.filter(**of("access_request_id")).values(
            "access_request_id", "outcome", "decided_at"
        )
    }
    return requests, referrals, assigned, positions, decisions


def _apply(deltas):
    """Add ``{key: change}`` to the tally: one ``INSERT … ON CONFLICT`` in key order, then the
    rows that fell to 0 deleted."""
    rows = [(key, change) for key, change in sorted(deltas.items()) if change]
    if not rows:
        return
    table = DashboardTally._meta.db_table
    values, params = [], []
    for key, change in rows:
        parts = _parse(key)
        values.append("(%s, %s, %s, %s, %s, %s, %s)")
        params += [
            key,
            parts["kind"],
            parts["agency_id"],
            parts["day"],
            parts["other"],
            parts["value"],
            change,
        ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (key, kind, agency_id, day, other, value, count) "  # noqa: S608
            f"VALUES {', '.join(values)} "
            f"ON CONFLICT (key) DO UPDATE SET count = {table}.count + EXCLUDED.count",
            params,
        )
    # a row counting nothing any more goes (past due dates would otherwise pile up)
    taken = [key for key, change in rows if change < 0]
    if taken:
        DashboardTally.objects.filter(key__in=taken, count=0).delete()


_noted = threading.local()  # (each thread has its own connection, so its own transaction)


def noted_for_counting(what, request_ids):
    """Inside ``counted_once()``: note ``request_ids`` for ``what`` ("due" or "tally") and say so;
    outside it, False (the caller counts them now)."""
    pending = getattr(_noted, "pending", None)
    if pending is None:
        return False
    pending[what].update(pk for pk in request_ids if pk is not None)
    return True


@contextmanager
def counted_once():
    """Within the block, ``refresh_next_due`` and ``retally`` only note the requests they are
    given; when the block ends without an error, each noted request's next due date and marks
    are computed once, from the rows as they are then. Use it inside the transaction (the work is
    done before it commits); an inner block leaves the counting to the outermost one."""
    if getattr(_noted, "pending", None) is not None or not connection.in_atomic_block:
        yield
        return
    pending = _noted.pending = {"due": set(), "tally": set()}
    try:
        yield
    finally:
        _noted.pending = None
    from approvals.models.review import refresh_next_due

    refresh_next_due(pending["due"])  # (which retallies those requests too)
    retally(pending["tally"] - pending["due"])


def retally(request_ids):
    """Count the requests ``request_ids`` again as they are now: take back their old marks, add
    their new ones. Their request rows are locked first (in id order), so that two transactions
    retallying one request follow each other."""

    ids = sorted({pk for pk in request_ids if pk is not None})
    if not ids or noted_for_counting("tally", ids):
        return
    if connection.in_atomic_block:  # the caller's transaction (no savepoint: each one that
        _retally(ids)  # writes takes a lock of its own until the end of the whole transaction)
    else:
        with transaction.atomic():
            _retally(ids)


def _retally(ids):
    from approvals.models import AccessRequest

    locked = list(
        AccessRequest.objects.select_for_update(no_key=True)
        .filter(pk__in=ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    old = {
        pk: (Counter(marks or {}), waiting, submitted_at)
        for pk, marks, waiting, submitted_at in DashboardMark.objects.filter(
            access_request_id__in=ids
        ).values_list("access_request_id", "marks", "waiting", "submitted_at")
    }
    new = _marks_of(*_read(locked))
    nothing = (Counter(), "", None)
    deltas = Counter()
    changed = []
    for pk in ids:
        before, after = old.get(pk, nothing), new.get(pk, nothing)
        if before == after:
            continue
        changed.append(pk)
        deltas.update(after[0])
        deltas.subtract(before[0])
    _apply(deltas)
    gone = [pk for pk in changed if not new.get(pk, nothing)[0]]
    if gone:
        DashboardMark.objects.filter(access_request_id__in=gone).delete()
    kept = [_mark(pk, *new[pk]) for pk in changed if new.get(pk, nothing)[0]]
    if kept:
        DashboardMark.objects.bulk_create(
            kept,
            update_conflicts=True,
            unique_fields=["access_request"],
            update_fields=["marks", "waiting", "submitted_at"],
        )


def _mark(pk, marks, waiting, submitted_at):
    return DashboardMark(access_request_id=pk, marks=dict(marks), waiting=waiting, submitted_at=submitted_at)


def recount_dashboard(*, batch=5_000):
    """Rebuild the whole tally and every request's marks from the rows (the ``recount_dashboard``
    command, the scale world's seeding, and a migration)."""
    from approvals.models import AccessRequest

    DashboardMark.objects.all().delete()
    DashboardTally.objects.all().delete()
    totals = Counter()
    ids = list(AccessRequest.objects.exclude(status="draft").order_by("pk").values_list("pk", flat=True))
    for at in range(0, len(ids), batch):
        chunk = ids[at : at + batch]
        marks = _marks_of(*_read(chunk, span=(chunk[0], chunk[-1])))
        _write_marks({pk: m for pk, m in marks.items() if m[0]})
        for m in marks.values():
            totals.update(m[0])
    DashboardTally.objects.bulk_create(
        [DashboardTally(key=key, count=n, **_parse(key)) for key, n in sorted(totals.items()) if n],
        batch_size=1_000,
    )


def _write_marks(marks):
    """Insert ``{request id: (marks, waiting, submitted_at)}``: with ``COPY`` on PostgreSQL."""
    if connection.vendor != "postgresql":
        DashboardMark.objects.bulk_create([_mark(pk, *m) for pk, m in marks.items()], batch_size=1_000)
        return
    table = DashboardMark._meta.db_table
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} (access_request_id, marks, waiting, submitted_at) FROM STDIN"
        ) as copy,
    ):
        for pk, (counted, waiting, submitted_at) in marks.items():
            copy.write_row((pk, json.dumps(dict(counted)), waiting, submitted_at))


def tally_sums(agency_id, kinds, *, since=None, until=None):
    """``[(kind, day, other, value, count)]`` of the tally rows of ``agency_id`` and ``kinds``
    (with a day on or after ``since`` and before ``until``, if given) that count something."""
    rows = DashboardTally.objects.filter(agency_id=agency_id, kind__in=kinds).exclude(count=0)
    if since is not None:
        rows = rows.filter(day__gte=since)
    if until is not None:
        rows = rows.filter(day__lt=until)
    return list(rows.order_by().values_list("kind", "day", "other", "value", "count"))


def _request_saved(sender, instance, raw=False, **kwargs):
    if not raw:
        retally([instance.pk])


def _position_changed(sender, instance, raw=False, **kwargs):
    from approvals.models import Referral

    if not raw:
        retally(Referral.objects.filter(pk=instance.referral_id).values_list("access_request_id", flat=True))


def _decision_changed(sender, instance, raw=False, **kwargs):
    if not raw:
        retally([instance.access_request_id])


def _assignment_changed(sender, instance, action, reverse, pk_set, **kwargs):
    from approvals.models import Referral

    if action not in ("post_add", "post_remove", "post_clear"):
        return
    if not reverse:
        retally([instance.access_request_id])
    elif pk_set:
        retally(Referral.objects.filter(pk__in=pk_set).values_list("access_request_id", flat=True))


def connect_signals():
    """Keep the tally on every save of what it counts (referrals: ``refresh_next_due``)."""
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from approvals.models import AccessRequest, Decision, Position, Referral

    post_save.connect(_request_saved, sender=AccessRequest, dispatch_uid="dashboard_request_saved")
    for signal in (post_save, post_delete):
        signal.connect(_position_changed, sender=Position, dispatch_uid=f"dashboard_position_{id(signal)}")
        signal.connect(_decision_changed, sender=Decision, dispatch_uid=f"dashboard_decision_{id(signal)}")
    m2m_changed.connect(
        _assignment_changed, sender=Referral.assigned_officials.through, dispatch_uid="dashboard_assignment"
    )
