"""Every change to notifications: writing them, sending them, sweeping the outbox, digests.

Callers in other apps use ``notify(...)`` inside their own transaction. Everything else
here is called by this app's tasks, views and admin.

Delivery guarantees (see also ``models.Notification``):

* A row is written in the caller's transaction; the send task is queued only after that
  transaction commits. If the broker is down at that moment, the failure is logged and
  the caller's commit stands: the row stays ``pending`` and the sweep queues it later.
* Sending is claim → send → mark sent. The claim is a compare-and-set from ``pending`` to
  ``sending`` committed on its own, so two deliveries of the same task never both send.
* A failed send goes back to ``pending`` with ``available_at`` pushed out exponentially
  (``NOTIFICATIONS_RETRY_BACKOFF_BASE`` × 2^(attempt-1), capped) and the task retries with
  that countdown; after ``NOTIFICATIONS_MAX_ATTEMPTS`` the row is ``failed`` and shows in
  the admin, where a portal administrator may retry it.
* A worker killed between the claim and the mark leaves the row ``sending``. After the
  lease (``NOTIFICATIONS_SENDING_LEASE``, far longer than any send may take) the sweep
  gives it back to ``pending`` and it is sent again. If the worker died *after* the mail
  server accepted the message but *before* the mark committed (a window of milliseconds),
  that second send is a duplicate; it carries the same ``Message-ID`` and
  ``X-Portal-Notification`` header, derived from the idempotency key, so mail servers and
  clients that de-duplicate by Message-ID drop it. Losing a decision letter is worse than
  a duplicate that the receiving side can recognise, so that is the trade made.
"""

import datetime
import json
import logging
from datetime import timedelta

from django.db import IntegrityError, connections, models, router, transaction
from django.urls import reverse
from django.utils import timezone
from psycopg.types.json import Jsonb

from portal.errors import PortalError
from portal.notifications.models import (
    ALWAYS_IMMEDIATE_EVENTS,
    DIGEST_EVENT,
    Notification,
    NotificationPreference,
    absolute_url,
)
from portal.notifications.rendering import render_email, render_emails
from portal.notifications.sending import _setting, enqueue, enqueue_after_commit, max_attempts

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# Writing


def notify(
    *,
    event,
    recipients,
    subject,
    context=None,
    link="",
    key,
    object_label="",
    immediate=True,
    tracking_number="",
    attachment=None,
):
    """Write one outbox row per recipient for ``event`` and queue sending after commit.

    Call it inside the transaction of the change that causes it. ``key`` identifies the
    event occurrence (for example ``decision:42``); with the event and the recipient it
    forms the idempotency key, so calling twice for the same occurrence writes nothing new.

    Template: ``notifications/email/<event>.txt`` (any app's ``templates/notifications/email/``),
    falling back to ``generic.txt``: the event's words, once, as plain text; both the text and
    the HTML part are rendered from it (see ``render_email``). It is given ``context``
    plus ``recipient``, ``subject`` (with the tracking number), ``title`` (without it),
    ``link`` and ``url`` (both the absolute address),
    ``path`` (the link as given), ``object_label``, ``tracking_number``, ``portal_name``
    and ``base_url``; the generic layout also shows ``summary`` and ``action_label``.

    ``tracking_number`` (or else ``object_label``) is put in front of the subject, in
    brackets, unless the subject already names it. ``immediate=False`` marks a routine
    notification that may wait for the daily digest whatever the recipient prefers; with
    ``immediate=True`` it waits only if the recipient chose the digest. Events in
    ``ALWAYS_IMMEDIATE_EVENTS`` never wait. ``attachment`` (``{"path": …, "filename": …}``,
    the path a name in the default storage) is attached to the mail when it is sent, for
    example a letter's PDF; the file must not change afterwards. Returns the rows created.
    """
    attachment = attachment or {}
    context = dict(context or {})
    tracking_number = tracking_number or str(context.get("tracking_number") or "")
    label = tracking_number or object_label
    title = " ".join(subject.split())
    if label and label not in subject:
        subject = f"[{label}] {subject}"
    subject = " ".join(subject.split())[:250]
    people = {r.pk: r for r in recipients if r is not None and r.is_active}
    digest_users = _digest_users(people) if event not in ALWAYS_IMMEDIATE_EVENTS else set()
    stored_context = {k: v for k, v in context.items() if isinstance(v, (str, int, float, bool, type(None)))}
    keys = {pk: f"{event}:{key}:{pk}"[:200] for pk in people}
    written = set(
        Notification.objects.filter(idempotency_key__in=list(keys.values())).values_list(
            "idempotency_key", flat=True
        )
    )
    rows = []
    for recipient in people.values():
        if keys[recipient.pk] in written:
            continue
        held = event not in ALWAYS_IMMEDIATE_EVENTS and (not immediate or recipient.pk in digest_users)
        text, html = render_email(
            event,
            {
                **context,
                "recipient": recipient,
                "subject": subject,
                "title": title,
                "path": link,
                "link": absolute_url(link),
                "url": absolute_url(link),
                "object_label": object_label,
                "tracking_number": tracking_number,
            },
        )
        rows.append(
            Notification(
                idempotency_key=keys[recipient.pk],
                recipient=recipient,
                event=event,
                subject=subject,
                body=text,
                html_body=html,
                link=link,
                attachment_path=attachment.get("path", ""),
                attachment_filename=attachment.get("filename", ""),
                context=stored_context,
                object_label=(tracking_number or object_label)[:100],
                immediate=not held,
                status=Notification.Status.DIGEST if held else Notification.Status.PENDING,
            )
        )
    created = _create_once(rows)
    to_send = [n.pk for n in created if n.status == Notification.Status.PENDING]
    if to_send:
        enqueue_after_commit(to_send)
    return created


def _create_once(rows):
    """Insert the outbox rows ``rows`` in one statement and return them; if another transaction
    wrote one of their idempotency keys meanwhile, one at a time instead, skipping those."""
    if not rows:
        return []
    try:
        with transaction.atomic():
            return Notification.objects.bulk_create(rows)
    except IntegrityError:
        pass
    created = []
    for row in rows:
        values = {f.attname: getattr(row, f.attname) for f in Notification._meta.concrete_fields}
        values.pop("id")
        notification, was_created = Notification.objects.get_or_create(
            idempotency_key=values.pop("idempotency_key"), defaults=values
        )
        if was_created:
            created.append(notification)
    return created


def notify_addresses(*, event, messages):
    """Write outbox rows to addresses that have no account (partner customers' security
    contacts) and queue sending after commit. Returns the ids of the rows written.

    ``messages`` is a list of dicts with ``address``, ``subject``, ``key`` and optionally
    ``name``, ``context`` and ``object_label``. Like ``notify`` (same templates, and the same
    idempotency: ``key`` with the event and the address, so a repeat writes nothing), but the
    rows have no recipient user: they never show in anyone's in-app list, never wait for a
    digest and carry no link into the portal. Templates see ``recipient`` as
    ``{"full_name": name, "email": address}``. Written in bulk: a suspension may tell thousands.
    """
    wanted = {}
    for message in messages:
        address = (message.get("address") or "").strip()
        if address:
            wanted.setdefault(f"{event}:{message['key']}:{address.lower()}"[:200], (address, message))
    existing = set(
        Notification.objects.filter(idempotency_key__in=list(wanted)).values_list(
            "idempotency_key", flat=True
        )
    )
    todo = []
    for idempotency_key, (address, message) in wanted.items():
        if idempotency_key in existing:
            continue
        context = dict(message.get("context") or {})
        title = " ".join(message["subject"].split())
        object_label = message.get("object_label", "")
        render_context = {
            **context,
            "recipient": {"full_name": message.get("name", ""), "email": address},
            "subject": title[:250],
            "title": title,
            "path": "",
            "link": "",
            "url": "",
            "object_label": object_label,
            "tracking_number": "",
        }
        todo.append((idempotency_key, address, context, title, object_label, render_context))
    bodies = render_emails(event, [item[-1] for item in todo])  # the same words: rendered about twice
    rows = [
        {
            "recipient_email": address,
            "subject": title[:250],
            "body": text,
            "html_body": html,
            "context": {k: v for k, v in context.items() if isinstance(v, (str, int, float, bool))},
            "object_label": object_label[:100],
            "idempotency_key": idempotency_key,
        }
        for (idempotency_key, address, context, title, object_label, _), (text, html) in zip(
            todo, bodies, strict=True
        )
    ]
    ids = _insert_rows(rows, recipient=None, event=event)
    if ids:
        enqueue_after_commit(ids)
    return ids


def _insert_rows(rows, **shared):
    """Insert outbox rows (dicts of field values; ``shared``: values every row has) and return
    their ids. On PostgreSQL, for many rows, with one ``COPY``: psycopg writes the values in C,
    where ``bulk_create`` quoted thousands of mail bodies in Python (most of a large suspension's
    notices); the ids are drawn first from the table's sequence, and every other field's value
    (its default) is prepared once. Elsewhere, or for a few rows, ``bulk_create``."""
    connection = connections[router.db_for_write(Notification)]
    if connection.vendor != "postgresql" or len(rows) < 100:
        created = Notification.objects.bulk_create(
            [Notification(**shared, **row) for row in rows], batch_size=500
        )
        return [row.pk for row in created]
    meta = Notification._meta
    template = Notification(**shared, **rows[0])  # every field's value as the first row would have it
    varying = list(rows[0])
    if any(row.keys() != rows[0].keys() for row in rows):
        raise ValueError("Every outbox row written at once names the same fields.")
    fields = [f for f in meta.concrete_fields if not f.primary_key and f.attname not in varying]
    varying_fields = [meta.get_field(name) for name in varying]
    constants = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
    constants = "\t".join(_copy_text(value) for value in constants)
    json_fields = {f.attname for f in varying_fields if isinstance(f, models.JSONField)}
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in [meta.pk, *varying_fields, *fields])
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [meta.db_table, meta.pk.column, len(rows)],
        )
        ids = [pk for (pk,) in cursor.fetchall()]
        lines = []
        for pk, row in zip(ids, rows, strict=True):
            values = (json.dumps(row[name]) if name in json_fields else row[name] for name in varying)
            lines.append("\t".join([str(pk), *(_copy_text(value) for value in values), constants]))
        with cursor.cursor.copy(f"COPY {quote(meta.db_table)} ({columns}) FROM STDIN") as copy:
            copy.write("\n".join(lines) + "\n")
    return ids


def _copy_text(value):
    """``value`` as a field of ``COPY``'s text format (the rows are joined in Python: psycopg's
    row writer took longer than the database for thousands of mail bodies)."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    if isinstance(value, Jsonb):
        value = (value.dumps or json.dumps)(value.obj)
    if not isinstance(value, str):
        raise TypeError(f"No COPY text for {type(value).__name__}")
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")


def _digest_users(people):
    return set(
        NotificationPreference.objects.filter(
            user_id__in=list(people), delivery=NotificationPreference.Delivery.DIGEST
        ).values_list("user_id", flat=True)
    )


# ---------------------------------------------------------------------------------------
# The sweep


def sweep_outbox(*, now=None, pending_after=None, lease=None, batch=None, everything=False):
    """Re-queue what was never picked up, reclaim what a dead worker held, fail what keeps failing.

    * ``sending`` rows claimed more than ``lease`` seconds ago (their worker died) go back
      to ``pending`` — or to ``failed`` when they have used every attempt;
    * ``pending`` rows that have used every attempt become ``failed``;
    * ``pending`` rows due more than ``pending_after`` seconds ago (the broker was down at
      commit, or a retry message was lost) are queued again, at most ``batch`` per run;
      their ``available_at`` moves to now so that the next run does not queue them twice
      (``everything=True``: every pending row, even one waiting for its backoff).

    Returns counts of what it did.
    """
    now = now or timezone.now()
    if pending_after is None:
        pending_after = _setting("NOTIFICATIONS_SWEEP_PENDING_AFTER", 300)
    if lease is None:
        lease = _setting("NOTIFICATIONS_SENDING_LEASE", 900)
    if batch is None:
        batch = _setting("NOTIFICATIONS_SWEEP_BATCH", 500)
    limit = max_attempts()
    counts = {"reclaimed": 0, "failed": 0, "requeued": 0, "queued": 0}

    stuck = Notification.objects.filter(
        status=Notification.Status.SENDING, claimed_at__lt=now - timedelta(seconds=lease)
    )
    for row in stuck.only("pk", "attempts", "claim_token")[:batch]:
        exhausted = row.attempts >= limit
        with transaction.atomic():
            changed = Notification.objects.filter(
                pk=row.pk, status=Notification.Status.SENDING, claim_token=row.claim_token
            ).update(
                status=Notification.Status.FAILED if exhausted else Notification.Status.PENDING,
                available_at=now - timedelta(seconds=pending_after + 1),
                last_error=(
                    f"The worker sending this stopped before recording the result (claimed "
                    f"{lease}s or more ago); "
                    + ("no attempts left." if exhausted else "sent again with the same Message-ID.")
                ),
            )
        if changed:
            counts["failed" if exhausted else "reclaimed"] += 1

    with transaction.atomic():
        counts["failed"] += Notification.objects.filter(
            status=Notification.Status.PENDING, attempts__gte=limit
        ).update(status=Notification.Status.FAILED)

    due = Notification.objects.filter(status=Notification.Status.PENDING)
    if not everything:
        due = due.filter(available_at__lte=now - timedelta(seconds=pending_after))
    due = list(due.order_by("available_at", "pk").values_list("pk", flat=True)[:batch])
    if due:
        with transaction.atomic():
            Notification.objects.filter(pk__in=due, status=Notification.Status.PENDING).update(
                available_at=now
            )
        counts["requeued"] = len(due)
        counts["queued"] = enqueue(due)
    if any(counts.values()):
        logger.info("Outbox sweep: %s", counts)
    return counts


def retry_notification(*, notification, actor):
    """A portal administrator sends a failed notification again, with fresh attempts."""
    if not (actor and actor.is_active and getattr(actor, "is_portal_admin", False)):
        raise PortalError("Only a portal administrator may retry a notification.")
    with transaction.atomic():
        notification = Notification.objects.select_for_update().get(pk=notification.pk)
        if notification.status != Notification.Status.FAILED:
            raise PortalError(
                f"Only a failed notification can be retried; this one is "
                f"{notification.get_status_display().lower()}."
            )
        notification.status = Notification.Status.PENDING
        notification.attempts = 0
        notification.available_at = timezone.now()
        notification.retried_by = actor
        notification.retried_at = timezone.now()
        notification.save(update_fields=["status", "attempts", "available_at", "retried_by", "retried_at"])
        pk = notification.pk
        enqueue_after_commit([pk])
    return notification


# ---------------------------------------------------------------------------------------
# In-app


def mark_read(*, notification, actor):
    """The recipient has seen one notification. Someone else's answers as not found."""
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update().filter(pk=notification.pk, recipient=actor).first()
        )
        if notification is None:
            raise PortalError("There is no such notification.")
        if notification.read_at is None:
            notification.read_at = timezone.now()
            notification.save(update_fields=["read_at"])
    return notification


def mark_all_read(*, actor):
    """The recipient has seen all their notifications. Returns how many were unread."""
    with transaction.atomic():
        return (
            Notification.objects.filter(recipient=actor, read_at__isnull=True)
            .exclude(event=DIGEST_EVENT)
            .update(read_at=timezone.now())
        )


def set_delivery_preference(*, user, actor, delivery, expected_version=None):
    """A person chooses immediate e-mails or a daily digest for routine notifications; a choice
    made on a page older than the settings now (another tab, another device) is refused."""
    if actor is None or actor.pk != user.pk:
        raise PortalError("You can change only your own notification settings.")
    if delivery not in NotificationPreference.Delivery.values:
        raise PortalError("Choose immediate e-mails or a daily digest.", field="delivery")
    with transaction.atomic():
        preference, created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
        if not created:  # a page shown before any choice showed version 0, which is current then
            from portal.audit.versions import require_current

            require_current(preference, expected_version, label="Your notification settings")
        if preference.delivery != delivery:
            from portal.audit.history import save_with_history

            preference.delivery = delivery
            preference.updated_at = timezone.now()
            save_with_history(
                preference,
                actor=actor,
                reason=f"Notification delivery set to {preference.get_delivery_display().lower()}.",
            )
    return preference


# ---------------------------------------------------------------------------------------
# Daily digest


def send_digests(*, now=None, hour=None):
    """Gather each person's held notifications into one digest mail per day.

    Runs from beat every hour; from ``NOTIFICATIONS_DIGEST_HOUR`` (local time) on, the first
    run of the day writes, for each person with held rows, one digest row (idempotency key
    ``digest:<user>:<date>``, so a second run the same day writes nothing) that goes out
    through the outbox like any other mail. The held rows are marked sent when it is.
    Returns how many digests were written.
    """
    now = now or timezone.now()
    hour = _setting("NOTIFICATIONS_DIGEST_HOUR", 7) if hour is None else hour
    local = timezone.localtime(now)
    if local.hour < hour:
        return 0
    day = local.date().isoformat()
    recipients = (
        Notification.objects.filter(status=Notification.Status.DIGEST, digest__isnull=True)
        .values_list("recipient_id", flat=True)
        .distinct()
    )
    written = 0
    for recipient_id in list(recipients):
        if _write_digest(recipient_id=recipient_id, day=day, now=now):
            written += 1
    return written


def _write_digest(*, recipient_id, day, now):
    from django.contrib.auth import get_user_model

    key = f"{DIGEST_EVENT}:{recipient_id}:{day}"
    with transaction.atomic():
        recipient = get_user_model().objects.select_for_update().get(pk=recipient_id)
        if Notification.objects.filter(idempotency_key=key).exists():
            return None
        held = list(
            Notification.objects.select_for_update()
            .filter(recipient=recipient, status=Notification.Status.DIGEST, digest__isnull=True)
            .order_by("created_at", "pk")
        )
        if not held:
            return None
        if not recipient.is_active:
            return None
        subject = f"Your daily summary: {len(held)} notification{'s' if len(held) != 1 else ''}"
        text, html = render_email(
            DIGEST_EVENT,
            {
                "recipient": recipient,
                "subject": subject,
                "items": held,
                "link": absolute_url(reverse("notifications:list")),
                "url": absolute_url(reverse("notifications:list")),
                "path": reverse("notifications:list"),
                "day": timezone.localtime(now).date(),
            },
        )
        digest = Notification.objects.create(
            recipient=recipient,
            event=DIGEST_EVENT,
            subject=subject,
            body=text,
            html_body=html,
            link=reverse("notifications:list"),
            idempotency_key=key,
            immediate=True,
            read_at=now,
            context={"count": len(held), "day": day},
        )
        Notification.objects.filter(pk__in=[n.pk for n in held]).update(digest=digest)
        pk = digest.pk
        enqueue_after_commit([pk])
    return digest
