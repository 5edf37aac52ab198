"""The audit export: every recorded change in a date range, across every model with history,
limited to what the person exporting may see.

Auditors and portal administrators get everything. An agency official gets the history of
the records their agency may see: by default the rows they hold ``view`` on through the
permissions helper; an app narrows or widens that for a model with ``register_scope`` (for
example, an agency reads only its own positions and notes, never another agency's drafts).
Anybody else gets nothing. Each row carries who acted, why, and the fields that changed.
"""

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta

from django import forms
from django.utils import timezone

from portal import permissions
from portal.params import EARLIEST_DAY

MAX_DAYS = 366
ACTIONS = {"+": "created", "~": "changed", "-": "deleted"}
# The auditors' record is complete: only the stamp of every save is left out. The pages people
# read leave out every bookkeeping field (``portal.audit.history.BOOKKEEPING_FIELDS``).
NOT_EXPORTED = frozenset({"updated_at"})

# "app_label.model_name" → callable(user) returning a queryset of the records ``user`` may see.
_SCOPES = {}


def register_scope(label, scope):
    """Say which records of ``label`` (``"approvals.position"``) an agency official may audit."""
    _SCOPES[label.lower()] = scope


def history_models():
    """Every model that keeps history (not the many-to-many tables), in a stable order."""
    from simple_history.models import registered_models

    models = {m for m in registered_models.values() if hasattr(m._meta, "simple_history_manager_attribute")}
    return sorted(models, key=lambda m: m._meta.label_lower)


def may_export(user):
    return bool(
        user is not None
        and user.is_authenticated
        and user.is_active
        and (user.sees_everything or user.is_agency_official)
    )


def visible_records(user, model):
    """The records of ``model`` whose history ``user`` may read; ``None`` means every record."""
    if not may_export(user):
        return model._default_manager.none()
    if user.sees_everything:
        private = permissions.private_rows(model)
        return None if private is None else model._default_manager.exclude(private)
    scope = _SCOPES.get(model._meta.label_lower)
    if scope is not None:
        return scope(user)
    return permissions.visible_to(user, model._default_manager.all())


@dataclass
class AuditRow:
    history_id: int
    at: str
    model: str
    record: str
    object_id: str
    action: str
    user: str
    reason: str
    changes: list = field(default_factory=list)
    # The X-Request-ID of the request (or its task) that wrote the row: joins it to the logs.
    request_id: str = ""
    # The row's link in its record's tamper-evident chain (portal.audit.chain).
    hash: str = ""

    def changes_text(self):
        return "; ".join(f"{c['field']}: {c['old']} → {c['new']}" for c in self.changes)


def _value(model_field, record):
    if record is None:
        return ""
    value = model_field.value_from_object(record)
    return "" if value is None else model_field.value_to_string(record)


def _rows_for_model(user, model, start, end):
    history_model = model.history.model
    pk_name = model._meta.pk.attname
    records = history_model.objects.filter(history_date__gte=start, history_date__lt=end)
    visible = visible_records(user, model)
    if visible is not None:
        records = records.filter(**{f"{pk_name}__in": visible.values("pk")})
    records = list(records.select_related("history_user").order_by(pk_name, "history_date", "history_id"))
    if not records:
        return []
    # the record each object had just before the range, to diff the first change in it
    before = {}
    earlier = history_model.objects.filter(
        history_date__lt=start, **{f"{pk_name}__in": {getattr(r, pk_name) for r in records}}
    ).order_by(pk_name, "-history_date", "-history_id")
    for record in earlier:
        before.setdefault(getattr(record, pk_name), record)
    fields = [f for f in history_model.tracked_fields if f.name not in NOT_EXPORTED]
    rows = []
    previous_pk, previous = None, None
    for record in records:
        pk = getattr(record, pk_name)
        if pk != previous_pk:
            previous_pk, previous = pk, before.get(pk)
        changes = []
        if record.history_type == "+":
            previous = None  # a creation lists every value it was created with
        if record.history_type != "-":
            for model_field in fields:
                old, new = _value(model_field, previous), _value(model_field, record)
                if old != new:
                    changes.append({"field": str(model_field.verbose_name), "old": old, "new": new})
        user_label = record.history_user.email if record.history_user_id else "System"
        rows.append(
            AuditRow(
                history_id=record.history_id,
                at=timezone.localtime(record.history_date).isoformat(),
                model=model._meta.label_lower,
                record=str(model._meta.verbose_name),
                object_id=str(pk),
                action=ACTIONS.get(record.history_type, record.history_type),
                user=user_label,
                reason=record.history_change_reason or "",
                changes=changes,
                request_id=getattr(record, "history_request_id", "") or "",
                hash=getattr(record, "history_hash", "") or "",
            )
        )
        previous = record
    return rows


def _range(start, end):
    tz = timezone.get_current_timezone()
    since = timezone.make_aware(datetime.combine(start, time.min), tz)
    until = timezone.make_aware(datetime.combine(end + timedelta(days=1), time.min), tz)
    return since, until


def audit_rows(user, *, start, end, progress=None):
    """Every change from ``start`` to ``end`` (dates, both included) that ``user`` may see,
    oldest first. ``progress(done, total)`` hears how many of the kinds of record are read."""
    if not may_export(user):
        return []
    since, until = _range(start, end)
    rows = []
    models = history_models()
    for number, model in enumerate(models, start=1):
        rows.extend(_rows_for_model(user, model, since, until))
        if progress:
            progress(number, len(models))
    rows.sort(key=lambda r: (r.at, r.model, r.history_id))
    return rows


def changes_at_most(*, start, end):
    """How many changes there are in the range, whoever may see them: an upper bound of an
    export's size, counted cheaply (one count per history table, on its date index)."""
    since, until = _range(start, end)
    return sum(
        m.history.model.objects.filter(history_date__gte=since, history_date__lt=until).count()
        for m in history_models()
    )


COLUMNS = [
    "at",
    "model",
    "record",
    "object_id",
    "action",
    "user",
    "reason",
    "changes",
    "hash",
    "history_id",
    "request_id",
]
CHAIN_HEAD_LABEL = "chain head"


def as_csv(rows, *, chain_head=""):
    """The rows as CSV; with ``chain_head``, a last row ``chain head,<hash>,,…`` (see
    ``portal.audit.chain.ledger_head``) so that the export can be checked later."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    for row in rows:
        data = asdict(row)
        data["changes"] = row.changes_text()
        writer.writerow([safe_cell(data[c]) for c in COLUMNS])
    if chain_head:
        writer.writerow([CHAIN_HEAD_LABEL, chain_head, *[""] * (len(COLUMNS) - 2)])
    return out.getvalue()


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """Neutralise spreadsheet formulas in text a user typed (CSV injection): prefix ``'``.

    The one guard of every CSV the portal writes (audit exports, case exports, customer lists)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def as_json(rows, *, start, end, chain_head=""):
    return json.dumps(
        {
            "from": start.isoformat(),
            "to": end.isoformat(),
            "chain_head": chain_head,
            "count": len(rows),
            "changes": [asdict(r) for r in rows],
        },
        indent=1,
        ensure_ascii=False,
    )


class AuditRangeForm(forms.Form):
    FORMATS = [("csv", "CSV (spreadsheet)"), ("json", "JSON")]

    start = forms.DateField(label="From", help_text="First day included, as YYYY-MM-DD.")
    end = forms.DateField(
        label="To", help_text=f"Last day included; at most {MAX_DAYS} days after the first."
    )
    format = forms.ChoiceField(choices=FORMATS, initial="csv", required=False, label="File")

    def clean_format(self):
        return self.cleaned_data.get("format") or "csv"

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        latest = timezone.localdate() + timedelta(days=MAX_DAYS)
        for name, day in (("start", start), ("end", end)):
            if day and not EARLIEST_DAY <= day <= latest:
                self.add_error(
                    name,
                    f"Give a day from {EARLIEST_DAY:%d %B %Y} to {latest:%d %B %Y}: no history lies outside.",
                )
                start = end = None
        if start and end:
            if end < start:
                self.add_error("end", "The last day comes before the first: swap them.")
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", f"Export at most {MAX_DAYS} days at a time.")
        return data


def _accounts_scopes():
    from portal.accounts.models import Organisation, User

    # the directory of organisations is read by every official; people by their own organisation
    register_scope("accounts.organisation", lambda user: Organisation.objects.all())
    register_scope("accounts.user", lambda user: User.objects.filter(organisation_id=user.organisation_id))


_accounts_scopes()
