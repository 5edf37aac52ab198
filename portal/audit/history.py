"""History conventions shared by every service.

Every domain model carries ``HistoricalRecords``. A service never saves a domain object
without saying who acted and why: ``stamp(obj, actor=..., reason=...)`` before ``save()``.
Inside a web request the middleware also knows the user, but Celery tasks and management
commands have no request, so the explicit stamp is what makes their history complete.
"""

# Bookkeeping fields that change with every edit and would only add noise to a diff.
NOT_SHOWN_IN_DIFFS = ["updated_at"]


def stamp(instance, *, actor, reason):
    """Mark ``instance`` so that its next history row names ``actor`` and ``reason``."""
    if not reason:
        raise ValueError("A history reason is required for every change.")
    instance._history_user = actor
    instance._change_reason = reason
    return instance


def save_with_history(instance, *, actor, reason, update_fields=None):
    """Validate, stamp and save one row; the single path services use to write."""
    instance.full_clean()
    stamp(instance, actor=actor, reason=reason)
    instance.save(update_fields=update_fields)
    return instance


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
    excluded = [*NOT_SHOWN_IN_DIFFS, *(f.name for f in m2m_fields)]
    out = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, excluded_fields=excluded)
            for change in delta.changes:
                field = instance._meta.get_field(change.field)
                changes.append((field.verbose_name, change.old, change.new))
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
