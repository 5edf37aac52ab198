"""History rows for many records at once, chained by the database in the statement that inserts them.

``copy_to_history(Model, ids, …)`` writes one history row per record, as the record now is in
its table, with one ``INSERT … SELECT``: each row's previous hash is its record's newest history
hash (read in the same statement, under the records' row locks, so a writer that committed
meanwhile is seen; ``_lock_rows`` says why not the chain's advisory locks) and its hash is the
SHA-256 that ``portal.audit.chain.row_hash``
computes, built by PostgreSQL from the same canonical content (``canonical_sql``): the fields'
JSON values in key order, a field at its default (or empty) left out, compact separators,
strings escaped as Python's ``json.dumps(ensure_ascii=False)`` escapes them. ``verify_audit``
checks those rows with the Python code like any other; ``portal/tests/test_audit_bulk.py``
compares both forms on awkward content (quotes, control characters, non-ASCII, whole-second
timestamps, nulls, defaults).

A table with a field the SQL form does not cover (JSON, decimals, floats, UUIDs, files,
durations), or a database other than PostgreSQL, gets the same rows through simple_history's
``bulk_history_create``, chained in Python (``ChainedHistoryManager.bulk_create``).
"""

import json

from django.conf import settings
from django.db import connections, models, transaction

from portal.audit import chain
from portal.audit.history import history_written
from portal.observability.context import current_request_id

_INTEGER_FIELDS = (models.AutoField, models.BigAutoField, models.IntegerField, models.BigIntegerField)
_TEXT_FIELDS = (models.CharField, models.TextField)


def _kind(field):
    """``int``, ``text``, ``bool``, ``date`` or ``datetime``: how the SQL form writes the field's
    value; ``None`` when it cannot."""
    if isinstance(field, models.ForeignKey):
        return _kind(field.target_field)
    if isinstance(field, models.BooleanField):
        return "bool"
    if isinstance(field, models.DateTimeField):
        return "datetime" if settings.USE_TZ else None
    if isinstance(field, models.DateField):
        return "date"
    if isinstance(field, _INTEGER_FIELDS) and not isinstance(field, models.DurationField):
        return "int"
    if isinstance(field, _TEXT_FIELDS) and not isinstance(field, models.FileField | models.JSONField):
        return "text"
    return None


def int_array(ids):
    """``ids`` as one PostgreSQL array literal (``'{1,2,3}'``, to cast with ``::bigint[]``): one
    short string parameter instead of ten thousand values quoted one by one on the client."""
    return "{" + ",".join(str(int(i)) for i in ids) + "}"


def update_by_ids(model, ids, values, *, using="default"):
    """``UPDATE`` the rows of ``model`` whose pk is in ``ids`` to ``values`` (field name → value, a
    related object for a foreign key) in one statement that walks the primary key
    (``pk = ANY(array)``). Returns the number of rows changed."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return model._base_manager.using(using).filter(pk__in=list(ids)).update(**values)
    quote = connection.ops.quote_name
    sets, params = [], []
    for name, value in values.items():
        field = model._meta.get_field(name)
        if isinstance(value, models.Model):
            value = value.pk
        sets.append(f"{quote(field.column)} = %s")
        params.append(field.get_db_prep_save(value, connection))
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = ANY(%s::bigint[])",  # noqa: S608
            [*params, int_array(ids)],
        )
        return cursor.rowcount


def _json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _value_sql(kind, column):
    """SQL for the JSON text of ``column``'s value, as ``json.dumps`` of ``chain._plain`` writes it."""
    if kind == "int":
        return f"({column})::text"
    if kind == "bool":
        return f"(CASE WHEN {column} THEN 'true' ELSE 'false' END)"
    if kind == "text":
        return f"to_json(({column})::text)::text"
    if kind == "date":
        return f"('\"' || to_char({column}, 'YYYY-MM-DD') || '\"')"
    # a timestamp in UTC, isoformat(): microseconds only when there are any
    utc = f"(({column}) AT TIME ZONE 'UTC')"
    return (
        f"('\"' || to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN to_char({utc}, 'US') = '000000' THEN '' ELSE '.' || to_char({utc}, 'US') END "
        "|| '+00:00\"')"
    )


def _fragment_sql(field, kind, column):
    """SQL for ``"attname":value``, or NULL where ``chain.canonical`` leaves the field out, with
    its parameters."""
    value = _value_sql(kind, column)
    skipped = ['""']  # an empty value
    default = chain._default(field)
    if default is not models.NOT_PROVIDED and default is not None:
        skipped.append(_json(chain._plain(field, default)))
    skip = " OR ".join([f"{column} IS NULL", *(f"{value} = %s" for _ in skipped)])
    return f"CASE WHEN {skip} THEN NULL ELSE %s || {value} END", [*skipped, f"{_json(field.attname)}:"]


def _constant_fragment(field, value):
    """``"attname":value`` for a value every row shares, or ``None`` where ``canonical`` leaves it out."""
    plain = chain._plain(field, value)
    default = chain._default(field)
    if plain is None or plain == "":
        return None
    if default is not models.NOT_PROVIDED and default is not None and plain == chain._plain(field, default):
        return None
    return f"{_json(field.attname)}:{_json(plain)}"


def _sql_form_covers(history_model):
    return all(
        _kind(f) is not None for f in history_model._meta.concrete_fields if f.name not in chain.SKIPPED
    )


def copy_to_history(model, ids, *, history_type, actor, reason, when, locked=False, using="default"):
    """One chained history row per record of ``model`` in ``ids``, as it now is, naming ``actor``
    and ``reason`` at ``when``; ``history_type`` ``"+"`` (created), ``"~"`` (changed) or ``"-"``.
    Call it inside the transaction that changed the records; ``locked=True`` says that it holds
    their row locks already (it updated them), else they are taken here. Returns the number of
    rows written."""
    if history_type not in ("+", "~"):
        raise ValueError(f"copy_to_history writes created or changed rows, not {history_type!r}")
    ids = sorted(set(ids))
    if not ids:
        return 0
    history_model = model.history.model
    connection = connections[using]
    with transaction.atomic(using=using, savepoint=False):
        if (
            connection.vendor != "postgresql"
            or not chain.enabled()
            or not chain.is_chained(history_model)
            or not _sql_form_covers(history_model)
        ):
            return _copy_in_python(model, ids, history_type, actor, reason, when, using)
        written = _copy_in_sql(model, history_model, ids, history_type, actor, reason, when, locked, using)
        history_written(history_model, using)
        return written


def _copy_in_python(model, ids, history_type, actor, reason, when, using):
    rows = model._base_manager.using(using).filter(pk__in=ids).order_by("pk")
    created = model.history.bulk_history_create(
        list(rows),
        update=history_type == "~",
        default_user=actor,
        default_change_reason=reason,
        default_date=when,
    )
    return len(created)


def _copy_in_sql(model, history_model, ids, history_type, actor, reason, when, locked, using):
    quote = connections[using].ops.quote_name
    table, history_table = model._meta.db_table, history_model._meta.db_table
    record = chain._record_field(history_model)
    source_columns = {f.attname: model._meta.get_field(f.name).column for f in history_model.tracked_fields}
    shared = {
        "history_date": when,
        "history_change_reason": reason,
        "history_type": history_type,
        "history_user_id": getattr(actor, "pk", actor),
        "history_request_id": current_request_id()[:64],
    }
    fields = [f for f in history_model._meta.concrete_fields if f.name not in chain.SKIPPED]
    fragments, fragment_params = [], []
    for field in sorted(fields, key=lambda f: f.attname):
        if field.attname in shared:
            constant = _constant_fragment(field, shared[field.attname])
            if constant is not None:
                fragments.append("%s")
                fragment_params.append(constant)
        elif field.attname == "history_prev_hash":
            sql, params = _fragment_sql(field, "text", "s.prev")
            fragments.append(sql)
            fragment_params.extend(params)
        else:
            sql, params = _fragment_sql(field, _kind(field), f"s.{quote(field.column)}")
            fragments.append(sql)
            fragment_params.extend(params)
    document = "'{\"row\":{' || concat_ws(',', " + ", ".join(fragments) + ") || '},\"table\":' || %s || '}'"
    tracked = [f for f in history_model.tracked_fields]
    history_columns = [quote(f.column) for f in tracked]
    selected = [f"t.{quote(source_columns[f.attname])} AS {quote(f.column)}" for f in tracked]
    if history_type == "+":  # a creation starts its record's chain
        previous = "''"
    else:
        if not locked:
            _lock_rows(model, ids, using)
        # identifiers from the models' metadata, quoted; every value is a parameter
        previous = (
            f"coalesce((SELECT h.history_hash FROM {quote(history_table)} h WHERE h.{quote(record)} = "  # noqa: S608
            f"t.{quote(source_columns[record])} ORDER BY h.history_id DESC LIMIT 1), '')"
        )
    shared_columns = list(shared)
    pk = quote(model._meta.pk.column)
    sql = (
        f"INSERT INTO {quote(history_table)} ({', '.join(history_columns)}, "  # noqa: S608
        f"{', '.join(quote(c) for c in shared_columns)}, history_prev_hash, history_hash) "
        f"SELECT {', '.join(f's.{c}' for c in history_columns)}, "
        f"{', '.join(['%s'] * len(shared_columns))}, s.prev, "
        f"encode(sha256(convert_to(s.prev || E'\\n' || {document}, 'UTF8')), 'hex') "
        f"FROM (SELECT {', '.join(selected)}, {previous} AS prev FROM {quote(table)} t "
        f"WHERE t.{pk} = ANY(%s::bigint[]) ORDER BY t.{pk}) s"
    )
    params = [
        *(_db_value(history_model, name, value, using) for name, value in shared.items()),
        *fragment_params,
        _json(history_table),
        int_array(ids),
    ]
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _lock_rows(model, ids, using):
    """Hold the records' own row locks, as a change of them does (the caller's ``UPDATE`` took
    them already; this makes sure), instead of one advisory lock per record's chain.

    The records' chains are safe under them: every other history row of a record is written
    after a change of that record (``save``, ``delete``, the bulk updates), which waits for its
    row lock, so it reads its head after this transaction ends and sees the rows written here.
    Advisory locks would need one lock-table entry each, and the table is shared by every
    session (``max_locks_per_transaction`` × connections, 6,400 by default): ten thousand grants
    ran out of it ("out of shared memory"); row locks are kept in the rows.
    """
    pk = connections[using].ops.quote_name(model._meta.pk.column)
    table = connections[using].ops.quote_name(model._meta.db_table)
    with connections[using].cursor() as cursor:
        cursor.execute(
            f"SELECT 1 FROM {table} WHERE {pk} = ANY(%s::bigint[]) ORDER BY {pk} FOR NO KEY UPDATE",  # noqa: S608
            [int_array(ids)],
        )


def _db_value(history_model, attname, value, using):
    field = next(f for f in history_model._meta.concrete_fields if f.attname == attname)
    return field.get_db_prep_save(value, connections[using])
