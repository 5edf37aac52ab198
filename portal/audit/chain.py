"""Tamper evidence for history: every history row is chained to the one before it.

Each row of a history table built on ``portal.audit.models.RequestIdHistory`` stores
``history_prev_hash`` (the hash of the previous history row of the *same record*) and
``history_hash`` = SHA-256 of ``history_prev_hash`` and the row's canonical content (its table
and every field except ``history_id`` and the hash itself). The hash is computed by the code
that writes the row, in the same transaction (``RequestIdHistory.save`` and the history
manager's ``bulk_create``), never by a database trigger that a person could switch off.

**One chain per record, not one ledger.** A global (or per-table) chain needs every writer to
lock the head until it commits, so every change anywhere in the portal would wait for every
other; a chain per record needs only the lock that a change of that record takes anyway
(an advisory transaction lock on ``table:id``), so unrelated writes never wait on each other
(``scripts/bench_audit_chain.py`` measures it). The chains are tied together by the *ledger
head*: the SHA-256 of every record's newest hash, which the audit export carries, so that a
later ``verify_audit --export FILE`` shows whether any exported row was altered or removed.

Canonical content leaves out a field whose value is its default (or empty): a field added
later with a default therefore does not change the hash of the rows written before it.
A migration that renames or drops a column of a history table, or backfills a non-default
value into old rows, must re-seal the rows it touches (``seal_unchained`` seals rows without
a hash; see the README, "Tamper-evident history").
"""

import datetime
import decimal
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, models
from django.utils import timezone

HASH_FIELDS = ("history_hash",)
SKIPPED = {"history_id", "history_hash"}


def enabled():
    """Chaining is on unless ``AUDIT_CHAIN_ENABLED`` is False (the benchmark's baseline only)."""
    return getattr(settings, "AUDIT_CHAIN_ENABLED", True)


def is_chained(history_model):
    return any(f.name == "history_hash" for f in history_model._meta.concrete_fields)


# -- canonical content ------------------------------------------------------------------


def _plain(field, value):
    """A JSON value for ``value`` of ``field`` that is the same before saving and after reading."""
    if value is None:
        return None
    if isinstance(value, models.Model):
        value = value.pk
    if isinstance(field, models.DateTimeField) or isinstance(value, datetime.datetime):
        if isinstance(value, str):
            value = field.to_python(value)
        if isinstance(value, datetime.datetime):
            if timezone.is_naive(value) and settings.USE_TZ:
                value = timezone.make_aware(value, timezone.get_default_timezone())
            if timezone.is_aware(value):
                value = value.astimezone(datetime.UTC)
            return value.isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(field, models.DateField) and isinstance(value, str):
        return field.to_python(value).isoformat()
    if isinstance(value, datetime.timedelta):
        return value // datetime.timedelta(microseconds=1)
    if isinstance(field, models.DecimalField) or isinstance(value, decimal.Decimal):
        value = decimal.Decimal(str(value))
        places = getattr(field, "decimal_places", None)
        if places is not None:
            value = value.quantize(decimal.Decimal(1).scaleb(-places))
        return str(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview | bytearray):
        return bytes(value).hex()
    if isinstance(value, dict | list | tuple):
        return json.loads(json.dumps(value, sort_keys=True, default=str))
    if hasattr(value, "name") and isinstance(field, models.FileField):
        return value.name or None
    if isinstance(value, str) and isinstance(field, models.IntegerField | models.ForeignKey):
        return int(value)
    return str(value)


def _default(field):
    """The value a column added later would hold in old rows; ``NOT_PROVIDED`` for none."""
    if field.has_default():
        if callable(field.default):
            return models.NOT_PROVIDED
        return field.default
    if field.null:
        return None
    if field.empty_strings_allowed:
        return ""
    return models.NOT_PROVIDED


def canonical(row, model=None):
    """The canonical JSON text of one history row (a model instance of a history table)."""
    model = model or type(row)
    content = {}
    for field in model._meta.concrete_fields:
        if field.name in SKIPPED:
            continue
        value = _plain(field, getattr(row, field.attname))
        default = _default(field)
        if value is None or value == "":
            continue
        if default is not models.NOT_PROVIDED and default is not None and value == _plain(field, default):
            continue
        content[field.attname] = value
    return json.dumps(
        {"table": model._meta.db_table, "row": content},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def row_hash(row, model=None):
    text = f"{row.history_prev_hash or ''}\n{canonical(row, model)}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -- writing ----------------------------------------------------------------------------


def _record_field(model):
    """The history table's column holding the record's primary key (``id`` for every model here)."""
    return model.instance_type._meta.pk.attname


def _lock_key(table, record_id):
    digest = hashlib.sha256(f"{table}:{record_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _lock(using, model, record_ids):
    """Hold, until the transaction ends, the lock of each record's chain (PostgreSQL)."""
    connection = connections[using]
    if connection.vendor != "postgresql" or not record_ids:
        return
    keys = sorted({_lock_key(model._meta.db_table, rid) for rid in record_ids})
    with connection.cursor() as cursor:
        if len(keys) == 1:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", keys)
        else:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(k) FROM unnest(%s::bigint[]) AS k ORDER BY k", [keys]
            )


HEAD_FUNCTION = """
CREATE OR REPLACE FUNCTION portal_history_chain_head(
    lock_key bigint, history_table regclass, record_id bigint
)
RETURNS varchar LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    head varchar;
BEGIN
    -- held until the transaction ends: one writer per record's chain at a time
    PERFORM pg_advisory_xact_lock(lock_key);
    -- a new statement, so a new snapshot: it sees the row of a writer that committed meanwhile
    EXECUTE format(
        'SELECT history_hash FROM %s WHERE id = $1 ORDER BY history_id DESC LIMIT 1', history_table
    ) INTO head USING record_id;
    RETURN coalesce(head, '');
END
$$;
"""


def install_head_function(using="default", **kwargs):
    """Create (or replace) the chain's one database helper, after every ``migrate`` (a
    ``post_migrate`` receiver): it locks a record's chain and reads its head in one round trip.
    It computes nothing; the hash is computed by the application."""
    connection = connections[using]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(HEAD_FUNCTION)


def _lock_and_read_head(using, model, record_id):
    """One record's chain locked and its head read in one round trip
    (``portal_history_chain_head``): the common case, one history row per change."""
    table = model._meta.db_table
    with connections[using].cursor() as cursor:
        cursor.execute(
            "SELECT portal_history_chain_head(%s::bigint, %s::regclass, %s::bigint)",
            [_lock_key(table, record_id), table, record_id],
        )
        return {record_id: cursor.fetchone()[0]}


def _heads(using, model, record_ids):
    """``{record id: newest history hash}`` for the given records."""
    field = _record_field(model)
    rows = (
        model._default_manager.using(using)
        .filter(**{f"{field}__in": list(record_ids)})
        .order_by(field, "-history_id")
        .values_list(field, "history_hash")
    )
    if connections[using].vendor == "postgresql":
        rows = rows.distinct(field)
        return dict(rows)
    heads = {}
    for record_id, value in rows:
        heads.setdefault(record_id, value)
    return heads


def link_rows(rows, *, using):
    """Give each new history row (of one table) its previous hash and its own hash.

    Call inside the transaction that inserts them: the chain locks are held until it ends,
    so that two writers of one record never link to the same predecessor.
    """
    if not rows or not enabled():
        return
    model = type(rows[0])
    field = _record_field(model)
    # a creation is the first row of its record's chain: nothing to look up or wait for
    record_ids = {getattr(r, field) for r in rows if r.history_type != "+"}
    if not record_ids:
        heads = {}
    elif len(record_ids) == 1 and connections[using].vendor == "postgresql":
        heads = _lock_and_read_head(using, model, next(iter(record_ids)))
    else:
        _lock(using, model, record_ids)
        heads = _heads(using, model, record_ids)
    for row in rows:
        record_id = getattr(row, field)
        row.history_prev_hash = "" if row.history_type == "+" else heads.get(record_id) or ""
        row.history_hash = row_hash(row)
        heads[record_id] = row.history_hash


def seal_app(app_label):
    """A migration operation's function: seal every chained history table of ``app_label``."""

    def run(apps, schema_editor):
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__.startswith("Historical") and is_chained(model):
                seal_unchained(model, using=schema_editor.connection.alias)

    return run


def seal_unchained(model, *, using="default"):
    """Chain the rows of ``model`` written before chaining existed (those without a hash).

    Run by the migration that adds the chain fields, as the owner of the tables, on the
    migration's frozen models (every history table here keys its records by ``id``)."""
    previous_record, previous_hash = object(), ""
    manager = model._base_manager.using(using)
    for row in manager.order_by("id", "history_id").iterator(chunk_size=2000):
        if row.id != previous_record:
            previous_record, previous_hash = row.id, ""
        if not row.history_hash:
            row.history_prev_hash = previous_hash
            row.history_hash = row_hash(row, model)
            manager.filter(history_id=row.history_id).update(
                history_prev_hash=row.history_prev_hash, history_hash=row.history_hash
            )
        previous_hash = row.history_hash


# -- verifying --------------------------------------------------------------------------


@dataclass
class Break:
    """The first history row of a table that does not match its chain."""

    table: str
    model_label: str
    history_id: int
    record_id: object
    problem: str

    def __str__(self):
        return (
            f"{self.model_label} history row {self.history_id} (record {self.record_id}, "
            f"table {self.table}): {self.problem}"
        )


def chained_models():
    from portal.audit.export import history_models

    return [m.history.model for m in history_models() if is_chained(m.history.model)]


def verify_table(model, *, using="default"):
    """Walk every chain of one history table. Returns ``(rows checked, first Break or None)``."""
    field = _record_field(model)
    checked = 0
    previous_record, previous_hash = object(), ""
    rows = model._base_manager.using(using).order_by(field, "history_id")
    for row in rows.iterator(chunk_size=2000):
        checked += 1
        record = getattr(row, field)
        if record != previous_record:
            previous_record, previous_hash = record, ""
        problem = None
        if not row.history_hash:
            problem = "has no hash (written around the chain, or its hash was erased)"
        elif (row.history_prev_hash or "") != previous_hash:
            problem = (
                "does not follow the row before it (a row of this record was removed, inserted or "
                "altered before it)"
            )
        elif row_hash(row) != row.history_hash:
            problem = "its content does not match its hash (the row was altered after it was written)"
        if problem:
            label = f"{model.instance_type._meta.label_lower}"
            return checked, Break(model._meta.db_table, label, row.history_id, record, problem)
        previous_hash = row.history_hash
    return checked, None


def verify_all(*, using="default"):
    """Every chained table. Returns ``(rows checked, [Break, …])`` (one per broken table)."""
    total, breaks = 0, []
    for model in chained_models():
        checked, broken = verify_table(model, using=using)
        total += checked
        if broken:
            breaks.append(broken)
    return total, breaks


def ledger_head(*, using="default"):
    """The SHA-256 of every record's newest history hash, table by table, record by record.

    Returns ``(head, rows)`` where rows is the number of chains (records) it covers."""
    digest = hashlib.sha256()
    chains = 0
    for model in sorted(chained_models(), key=lambda m: m._meta.db_table):
        field = _record_field(model)
        ids = model._base_manager.using(using).values(field).distinct()
        heads = _heads(using, model, [r[field] for r in ids])
        for record_id in sorted(heads, key=str):
            digest.update(f"{model._meta.db_table}:{record_id}:{heads[record_id]}\n".encode())
            chains += 1
    return digest.hexdigest(), chains


def check_export(rows, *, using="default"):
    """Rows of an audit export (dicts with ``model``, ``history_id``, ``hash``) that are no longer
    in the database as exported: ``[(model, history_id, problem), …]``."""
    from django.apps import apps

    by_model = {}
    for row in rows:
        by_model.setdefault(row["model"], {})[int(row["history_id"])] = row.get("hash", "")
    problems = []
    for label, wanted in sorted(by_model.items()):
        try:
            history_model = apps.get_model(label).history.model
        except (LookupError, AttributeError, ValueError):
            problems.extend((label, hid, "no such model") for hid in sorted(wanted))
            continue
        found = dict(
            history_model._base_manager.using(using)
            .filter(history_id__in=list(wanted))
            .values_list("history_id", "history_hash")
        )
        for hid in sorted(wanted):
            if hid not in found:
                problems.append((label, hid, "removed since the export"))
            elif found[hid] != wanted[hid]:
                problems.append((label, hid, "its hash differs from the exported one"))
    return problems
