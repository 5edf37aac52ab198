"""History conventions shared by every service.

Every domain model carries ``HistoricalRecords``. A service never saves a domain object
without saying who acted and why: ``stamp(obj, actor=..., reason=...)`` before ``save()``.
Inside a web request the middleware also knows the user, but Celery tasks and management
commands have no request, so the explicit stamp is what makes their history complete.
"""

import datetime
import json

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import CheckConstraint, F, Q, UniqueConstraint
from django.db.models.constants import LOOKUP_SEP
from django.utils import timezone
from django.utils.formats import date_format
from simple_history.models import DeletedObject

# Bookkeeping: stamps and counters the portal keeps for itself. They change as a side effect of
# an edit (or are derived from other data) and tell a person reading "what changed" nothing the
# history row's own time and the other fields do not. One list, left out of every diff shown to
# people (``history_rows``: the case page, the vendor pages; the admin's history pages,
# ``portal.admin.ReadableHistory``) and of the "who changed what" of a stale refusal
# (``portal.audit.versions``). The history rows keep them (the chain hashes every field).
BOOKKEEPING_FIELDS = frozenset(
    {
        "updated_at",  # every save
        "version",  # a counter raised by every change (an access request's); see ``bookkeeping_fields``
        "identity_frozen_at",  # a customer's: stamped when it first goes into a submitted request
        "followed_through_at",  # a suspension's: stamped when its follow-through was done
        "next_due",  # a request's: derived from its referrals' clocks
        "normalised_name",  # derived from the legal name
        "status_changed_at",  # a grant's: the time of the history row that changed its status
        "record_version",  # an amendment's: the id of the history row it made
    }
)

_bookkeeping = {}


def bookkeeping_fields(model):
    """The names of ``model``'s fields in ``BOOKKEEPING_FIELDS``. ``version`` counts only as a
    counter (an integer): a frontier model's version ("2.0") is a fact people read."""
    model = getattr(model, "instance_type", None) or model  # a history model: its model's fields
    if model not in _bookkeeping:
        names = set()
        for field in model._meta.concrete_fields:
            if field.name not in BOOKKEEPING_FIELDS:
                continue
            if field.name == "version" and not isinstance(field, models.IntegerField):
                continue
            names.add(field.name)
        _bookkeeping[model] = frozenset(names)
    return _bookkeeping[model]


_watchers = {}  # model -> [callback(using)], told of every history row written for it


def watch_history(model, callback):
    """Call ``callback(using)`` whenever history rows of ``model`` are written (one save, a
    deletion, or a bulk insert: ``bulk_create_with_history``, ``bulk_update_with_history``,
    ``bulk_history_create``), inside the writing transaction. Every service write leaves a
    history row, so a watcher sees every change of its model without each service calling it
    (the API's entitlement cache, ``api.entitlement_cache``, is cleared this way)."""
    _watchers.setdefault(model, []).append(callback)


def history_written(history_model, using):
    """Tell the watchers of ``history_model``'s model (``portal.audit.models`` calls it)."""
    for callback in _watchers.get(getattr(history_model, "instance_type", None), ()):
        callback(using)


def stamp(instance, *, actor, reason):
    """Mark ``instance`` so that its next history row names ``actor`` and ``reason``."""
    if not reason:
        raise ValueError("A history reason is required for every change.")
    instance._history_user = actor
    instance._change_reason = reason
    return instance


def save_with_history(instance, *, actor, reason, update_fields=None):
    """Validate, stamp and save one row; the single path services use to write."""
    validate_changes(instance, update_fields=update_fields)
    stamp(instance, actor=actor, reason=reason)
    instance.save(update_fields=update_fields)
    return instance


def validate_changes(instance, *, update_fields=None):
    """Validate what a save is about to write.

    A new row, or a save of every field, is validated in full (``full_clean()``). A save of
    ``update_fields`` validates those fields, the model's ``clean()``, and every unique set and
    constraint that reads one of them, read as a whole; the fields it does not write were
    validated when they were written, and re-checking them cost a query per foreign key and
    per constraint on every status change.

    Either way, a foreign key whose row the service holds (read from this database and set on
    the instance, ``grant.vendor = vendor``) is not looked up again: Django's check is a query
    per foreign key of every new row, and asks only whether the row exists, which the row at hand
    answers (the database's own foreign-key check still runs at commit).
    """
    at_hand = _related_rows_at_hand(instance)
    if instance._state.adding or update_fields is None:
        _clean(instance, not_cleaned=at_hand, not_read=set())
        return
    opts = instance._meta
    changed = {opts.get_field(name).name for name in update_fields}
    every_field = {field.name for field in opts.concrete_fields}
    read_together = set(changed)
    unique_checks, _date_checks = instance._get_unique_checks()
    for _model, names in unique_checks:
        if changed & set(names):
            read_together |= set(names)
    for _model, constraints in instance.get_constraints():
        for constraint in constraints:
            names = _fields_read_by(constraint)
            if names is None:  # a kind of constraint not read here: check it with everything
                names = every_field
            if changed & names:
                read_together |= names
    _clean(instance, not_cleaned=(every_field - changed) | at_hand, not_read=every_field - read_together)


def _clean(instance, *, not_cleaned, not_read):
    """``full_clean()``'s steps: ``clean_fields()`` but for ``not_cleaned``, ``clean()``, then every
    unique set and constraint that reads no field of ``not_read`` (and, as ``full_clean()`` does,
    none of a field already found invalid). Every error found, in one ``ValidationError``."""
    errors = {}
    for check in (lambda: instance.clean_fields(exclude=not_cleaned), instance.clean):
        try:
            check()
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    not_read = set(not_read) | {name for name in errors if name != NON_FIELD_ERRORS}
    for check in (instance.validate_unique, instance.validate_constraints):
        try:
            check(exclude=not_read)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _related_rows_at_hand(instance):
    """The names of ``instance``'s foreign keys whose row is set on it, was read from (or saved
    to) the database the instance is written to, and is the row the key names: nothing for
    ``clean_fields()`` to look up. A key set by its id alone, a row not saved yet, or one with
    ``limit_choices_to`` is still checked by Django."""
    using = instance._state.db
    names = set()
    for field in instance._meta.concrete_fields:
        if not (field.many_to_one or field.one_to_one) or field.remote_field.limit_choices_to:
            continue
        if not field.is_cached(instance):
            continue
        row = field.get_cached_value(instance)
        value = getattr(instance, field.attname)
        if row is None or value is None or row._state.adding:
            continue
        if using is not None and row._state.db != using:
            continue
        if getattr(row, field.target_field.attname) == value:
            names.add(field.name)
    return names


def _fields_read_by(constraint):
    """The field names a unique or check constraint reads, or None for another kind."""
    if isinstance(constraint, UniqueConstraint):
        names = set(constraint.fields)
        for expression in constraint.expressions:
            names |= _names_in(expression)
        if constraint.condition is not None:
            names |= _names_in(constraint.condition)
        return names
    if isinstance(constraint, CheckConstraint):
        return _names_in(constraint.condition)
    return None


def _names_in(expression):
    """The base field names a ``Q``, an expression or a value refers to."""
    if isinstance(expression, Q):
        names = set()
        for child in expression.children:
            if isinstance(child, Q):
                names |= _names_in(child)
            else:
                lookup, value = child
                names.add(lookup.split(LOOKUP_SEP, 1)[0])
                names |= _names_in(value)
        return names
    if isinstance(expression, F):
        return {expression.name.split(LOOKUP_SEP, 1)[0]}
    if hasattr(expression, "get_source_expressions"):
        names = set()
        for source in expression.get_source_expressions():
            names |= _names_in(source)
        return names
    return set()


def readable_value(model_field, value):
    """A history value as a person reads it: the label of a choice, a name for a related record,
    a date and time in the portal's time zone, "yes"/"no", and nothing for an empty value."""
    if isinstance(value, DeletedObject):
        return "" if value.pk is None else f"{value.model._meta.verbose_name} #{value.pk} (deleted)"
    if value is None or value == "" or value == [] or value == {}:
        return ""
    if isinstance(value, list | tuple) and not isinstance(model_field, models.JSONField):
        return ", ".join(str(readable_value(None, item)) for item in value)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, "DATETIME_FORMAT")  # as the admin shows every other time
    if isinstance(value, datetime.date):
        return date_format(value, "DATE_FORMAT")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    if isinstance(value, models.Model):
        return str(value)
    return value


def history_rows(instance, *, limit=None):
    """The object's history, newest first, with each row's field diff against the previous one.

    Returns a list of ``(record, changes)`` where ``changes`` is a list of
    ``(field verbose name, old, new)``; the first (creation) row has no diff. Many-to-many
    fields kept in history (a referral's assigned officials) are diffed as the names of what
    was added and removed, in two queries for the whole page rather than two per row.
    """
    history_model = instance.history.model
    m2m_fields = list(getattr(history_model, "_history_m2m_fields", []))
    records = list(instance.history.select_related("history_user").order_by("-history_date", "-history_id"))
    if limit:
        records = records[: limit + 1]
    m2m_values = _m2m_values(history_model, m2m_fields, records)
    excluded = [*bookkeeping_fields(type(instance)), *(f.name for f in m2m_fields)]
    out = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, excluded_fields=excluded, foreign_keys_are_objs=True)
            for change in delta.changes:
                field = instance._meta.get_field(change.field)
                changes.append(
                    (field.verbose_name, readable_value(field, change.old), readable_value(field, change.new))
                )
            for field in m2m_fields:
                labels_of = m2m_values[field.name]
                old, new = labels_of(older), labels_of(newer)
                if old != new:
                    changes.append((field.verbose_name, ", ".join(old) or None, ", ".join(new) or None))
        out.append((newer, changes))
    return out[:limit] if limit else out


def _m2m_values(history_model, m2m_fields, records):
    """``{field name: function of a historical record → sorted labels of its related objects}``,
    read in two queries per field."""
    values = {}
    ids = [r.history_id for r in records]
    for field in m2m_fields:
        through = next(
            rel.related_model
            for rel in history_model._meta.related_objects
            if rel.related_model._meta.model_name == f"{history_model._meta.model_name}_{field.name}"
        )
        target = field.m2m_reverse_field_name()
        by_record = {}
        for history_id, target_id in through.objects.filter(history_id__in=ids).values_list(
            "history_id", f"{target}_id"
        ):
            by_record.setdefault(history_id, set()).add(target_id)
        wanted = set().union(*by_record.values()) if by_record else set()
        labels = {o.pk: str(o) for o in field.related_model._default_manager.filter(pk__in=wanted)}

        def of(record, by_record=by_record, labels=labels):
            return sorted(labels.get(pk, str(pk)) for pk in by_record.get(record.history_id, ()))

        values[field.name] = of
    return values


def history_user_label(record):
    user = record.history_user
    if user is None:
        return "System"
    return f"{user.full_name} <{user.email}>" if getattr(user, "full_name", "") else str(user)
