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
    ``(field verbose name, old, new)``; the first (creation) row has no diff.
    """
    records = list(instance.history.select_related("history_user").order_by("-history_date", "-history_id"))
    if limit:
        records = records[: limit + 1]
    out = []
    for newer, older in zip(records, [*records[1:], None], strict=False):
        changes = []
        if older is not None:
            delta = newer.diff_against(older, excluded_fields=NOT_SHOWN_IN_DIFFS)
            for change in delta.changes:
                field = instance._meta.get_field(change.field)
                changes.append((field.verbose_name, change.old, change.new))
        out.append((newer, changes))
    return out[:limit] if limit else out


def history_user_label(record):
    user = record.history_user
    if user is None:
        return "System"
    return f"{user.full_name} <{user.email}>" if getattr(user, "full_name", "") else str(user)
