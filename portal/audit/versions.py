"""No lost update: every edit page carries the version of the record it showed.

One mechanism for every form (vendor pages, the admin's change pages, the API): the page puts
``version_of(record)`` in a hidden field; the service that saves locks the row and calls
``require_current(record, expected_version)``, which refuses a submit made on an older version
and names who changed what since, read from the record's history. The form keeps what the user
typed (the view re-renders it) and carries the new version, so a second, deliberate submit wins;
the fields the user did not change show the record as it is now, so that the second submit does
not put a colleague's change back (``carry_current_version``).

The version of a row is the id of its newest history row (every change writes one, through the
services), or, for a model that keeps its own counter (an access request's ``version``), that
counter. Nothing submitted (an older client, a script) means the caller did not ask for the check.
"""

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone

from portal.audit.history import bookkeeping_fields
from portal.errors import PortalError

VERSION_FIELD = "version"

STALE_HELP = (
    "Nothing was saved. What you typed is still in the form: check their change, then save again to "
    "replace it, or reload the page to start from theirs."
)


def _counter(instance):
    from django.db import models

    return any(
        f.name == VERSION_FIELD and isinstance(f, models.IntegerField) for f in instance._meta.concrete_fields
    )


def _history(instance):
    manager = getattr(instance, "history", None)
    return manager if manager is not None and hasattr(manager, "model") else None


def version_of(instance):
    """The version a page shows and its form sends back (0 for a row without history)."""
    if instance is None or instance.pk is None:
        return 0
    if _counter(instance):
        return getattr(instance, VERSION_FIELD) or 0
    history = _history(instance)
    if history is None:
        return 0
    return history.order_by("-history_id").values_list("history_id", flat=True).first() or 0


def _parse(expected):
    if expected in (None, ""):
        return None
    if len(str(expected)) > 30:
        return -1
    try:
        return int(expected)
    except (TypeError, ValueError):
        return -1  # a tampered or garbled version is stale, never a server error


def is_stale(instance, expected):
    """Whether ``expected`` (as submitted) is older than the row's version now."""
    expected = _parse(expected)
    return expected is not None and expected != version_of(instance)


def changes_since(instance, expected):
    """``[(who, when, [field labels], reason)]`` of the changes after version ``expected``, oldest
    first, read from history (at most the last ten)."""
    history = _history(instance)
    expected = _parse(expected)
    if history is None or expected is None:
        return []
    after = {f"{VERSION_FIELD}__gt": expected} if _counter(instance) else {"history_id__gt": expected}
    records = list(history.filter(**after).select_related("history_user").order_by("-history_id")[:10])
    not_named = bookkeeping_fields(type(instance))  # says nothing to the person refused
    out = []
    for record in reversed(records):
        previous = record.prev_record
        fields = []
        if previous is not None:
            for change in record.diff_against(previous).changes:
                if change.field in not_named:
                    continue
                try:
                    fields.append(str(instance._meta.get_field(change.field).verbose_name))
                except FieldDoesNotExist:  # a field the model no longer has
                    fields.append(change.field)
        out.append(
            (_who(record.history_user), record.history_date, fields, record.history_change_reason or "")
        )
    return out


def _who(user):
    if user is None:
        return "the system"
    name = getattr(user, "full_name", "") or ""
    email = getattr(user, "email", "") or str(user)
    return f"{name} ({email})" if name else email


def stale_message(instance, expected, *, label=None):
    """The refusal for a stale submit: who changed what, and when."""
    label = label or str(instance)
    changes = changes_since(instance, expected)
    if not changes:
        return f"{label} changed while you were editing it. {STALE_HELP}"
    parts = []
    for who, when, fields, reason in changes[-3:]:
        at = f"{timezone.localtime(when):%H:%M on %B %-d}"
        if fields or not reason:
            parts.append(f"{who} changed {', '.join(dict.fromkeys(fields)) or 'the record'} at {at}")
        else:  # only bookkeeping changed (a customer's identity fixed by a submission): say why
            parts.append(f"{who} at {at}: “{reason.rstrip('.')}”")
    return f"{label} changed while you were editing it: {'; '.join(parts)}. {STALE_HELP}"


def require_current(instance, expected, *, label=None, field=None):
    """Refuse a form filled in on a page that showed an older version of ``instance``.

    Call it on the row as locked by the service (``select_for_update``), before changing it."""
    if is_stale(instance, expected):
        error = PortalError(stale_message(instance, expected, label=label), field=field)
        error.stale = True  # the page may carry the version now (``carry_current_version``)
        raise error


def version_field():
    """The hidden form field that carries the version a page showed."""
    from django import forms

    # text, not a number: a garbled version is refused as stale by the service, not by the form
    return forms.CharField(widget=forms.HiddenInput, required=False, strip=True)


FORM_FIELD = "record_version"  # not "version": a frontier model has a version of its own


def carry_current_version(form, instance, *, name=FORM_FIELD):
    """After a stale refusal the form keeps what was typed and carries the version now, so that
    a second submit, made after reading who changed what, is deliberate and accepted.

    What the user did not type must not win that second submit: every field whose submitted value
    is the value at the version the page was read at (the record's history row of that version)
    shows the record's value now, and the form says which (``take_theirs_where_untouched``)."""
    current = type(instance)._default_manager.get(pk=instance.pk)
    key = form.add_prefix(name)
    data = form.data.copy()
    read = read_at(current, data.get(key))
    taken = take_theirs_where_untouched(form, data, current, read) if read is not None else []
    data[key] = version_of(current)
    form.data = data
    if taken:
        form.add_error(None, theirs_shown(taken))
    return form


def theirs_shown(taken):
    """What the form says of the fields that now show a colleague's values."""
    them = "it" if len(taken) == 1 else "them"
    return (
        f"The form now shows their {_listed(taken)}: you had not changed {them}. "
        "The fields you changed keep what you typed."
    )


def read_at(instance, expected):
    """The history row of ``instance`` at version ``expected`` (as submitted), or ``None``."""
    history = _history(instance)
    expected = _parse(expected)
    if history is None or expected is None or expected <= 0:
        return None
    if _counter(instance):
        return history.filter(**{VERSION_FIELD: expected}).order_by("-history_id").first()
    return history.filter(history_id=expected).first()


def take_theirs_where_untouched(form, data, current, read):
    """Put in ``data`` (a copy of what ``form`` submitted) ``current``'s value of every field the
    user left as it was at ``read`` (the history row of the version the page showed) and that
    someone changed since. Returns those fields' names as people read them."""
    taken = []
    for name, field in form.fields.items():
        if field.disabled or name == FORM_FIELD:
            continue  # a disabled field shows the record as it is now already
        try:
            model_field = current._meta.get_field(name)
        except FieldDoesNotExist:
            continue  # not a field of the record (a reason, a confirmation)
        if not getattr(model_field, "concrete", False) or model_field.many_to_many:
            continue
        attname = model_field.attname
        if not hasattr(read, attname):
            continue  # not kept in the history
        then, now = getattr(read, attname), getattr(current, attname)
        if then == now:
            continue
        if field.has_changed(then, form[name].data):  # what cannot be read counts as typed
            continue  # the user changed it: what they typed stays
        data[form.add_prefix(name)] = field.prepare_value(now) if now is not None else ""
        taken.append(str(model_field.verbose_name))
    return taken


def _listed(names):
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
