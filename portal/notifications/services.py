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

import hashlib
import logging
import re
import smtplib
import uuid
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template import Context, TemplateDoesNotExist, Variable
from django.template.loader import get_template, render_to_string
from django.template.loader_tags import ExtendsNode
from django.urls import reverse
from django.utils import timezone

from portal.errors import PortalError
from portal.notifications.models import (
    ALWAYS_IMMEDIATE_EVENTS,
    DIGEST_EVENT,
    ONE_TIME_LINK_EVENTS,
    WITHHELD_BODY,
    Notification,
    NotificationPreference,
    absolute_url,
)

logger = logging.getLogger(__name__)

PORTAL_NAME = "Frontier Access Portal"


def _setting(name, default):
    return getattr(settings, name, default)


def max_attempts():
    return int(_setting("NOTIFICATIONS_MAX_ATTEMPTS", 8))


def backoff_seconds(attempt):
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, 3…): base × 2^(attempt-1)."""
    base = float(_setting("NOTIFICATIONS_RETRY_BACKOFF_BASE", 30.0))
    cap = float(_setting("NOTIFICATIONS_RETRY_BACKOFF_MAX", 3600.0))
    return min(base * 2 ** max(attempt - 1, 0), cap)


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
    ``ALWAYS_IMMEDIATE_EVENTS`` never wait. Returns the rows created.
    """
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
    created = []
    for recipient in people.values():
        idempotency_key = f"{event}:{key}:{recipient.pk}"[:200]
        if Notification.objects.filter(idempotency_key=idempotency_key).exists():
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
        notification, was_created = Notification.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "recipient": recipient,
                "event": event,
                "subject": subject,
                "body": text,
                "html_body": html,
                "link": link,
                "context": stored_context,
                "object_label": (tracking_number or object_label)[:100],
                "immediate": not held,
                "status": Notification.Status.DIGEST if held else Notification.Status.PENDING,
            },
        )
        if was_created:
            created.append(notification)
    to_send = [n.pk for n in created if n.status == Notification.Status.PENDING]
    if to_send:
        transaction.on_commit(lambda: enqueue(to_send))
    return created


def notify_addresses(*, event, messages):
    """Write outbox rows to addresses that have no account (partner customers' security
    contacts) and queue sending after commit. Returns the rows created.

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
    rows = []
    for idempotency_key, (address, message) in wanted.items():
        if idempotency_key in existing:
            continue
        context = dict(message.get("context") or {})
        title = " ".join(message["subject"].split())
        object_label = message.get("object_label", "")
        text, html = render_email(
            event,
            {
                **context,
                "recipient": {"full_name": message.get("name", ""), "email": address},
                "subject": title[:250],
                "title": title,
                "path": "",
                "link": "",
                "url": "",
                "object_label": object_label,
                "tracking_number": "",
            },
        )
        rows.append(
            Notification(
                recipient=None,
                recipient_email=address,
                event=event,
                subject=title[:250],
                body=text,
                html_body=html,
                context={k: v for k, v in context.items() if isinstance(v, (str, int, float, bool))},
                object_label=object_label[:100],
                idempotency_key=idempotency_key,
            )
        )
    created = Notification.objects.bulk_create(rows, batch_size=500)
    ids = [row.pk for row in created]
    if ids:
        transaction.on_commit(lambda: enqueue(ids))
    return created


def _digest_users(people):
    return set(
        NotificationPreference.objects.filter(
            user_id__in=list(people), delivery=NotificationPreference.Delivery.DIGEST
        ).values_list("user_id", flat=True)
    )


def render_email(event, context):
    """The plain-text and HTML bodies for ``event``, from one template.

    ``notifications/email/<event>.txt`` (else ``generic.txt``) holds the event's words once,
    as plain text. It starts ``{% extends email_layout %}`` and fills ``body`` (and, to
    change the button's words, ``action_label``); it is rendered into
    ``notifications/email/base.txt`` for the text part and into ``base.html`` for the HTML
    part, where the body is shown through ``email_html.text_to_html`` (paragraphs, lists,
    links, everything escaped). A template without ``{% extends %}`` is a fragment: it is
    rendered as plain text and put inside each layout as ``content``. The layouts add the
    greeting, the action link, the reference and the footer.
    """
    context = {"portal_name": PORTAL_NAME, "base_url": settings.PORTAL_BASE_URL, "event": event, **context}
    template = _event_template(event)
    text = _render_part(template, "txt", context)
    text = re.sub(r"\n{3,}", "\n\n", "\n".join(line.rstrip() for line in text.strip().splitlines()))
    return text + "\n", _render_part(template, "html", context)


def _event_template(event):
    try:
        return get_template(f"notifications/email/{event}.txt")
    except TemplateDoesNotExist:
        return get_template("notifications/email/generic.txt")


def _render_part(template, extension, context):
    layout = f"notifications/email/base.{extension}"
    extends = template.template.nodelist.get_nodes_by_type(ExtendsNode)
    if extends:
        if not isinstance(extends[0].parent_name.var, Variable):
            raise ImproperlyConfigured(
                f"{template.origin.template_name} must start with {{% extends email_layout %}}: its words "
                "are rendered into both the text and the HTML layout."
            )
        return template.render({**context, "email_layout": layout})
    content = template.template.render(Context(context, autoescape=False))
    return render_to_string(layout, {**context, "content": content})


def enqueue(notification_ids):
    """Hand rows to the broker. Never raises: what cannot be queued now waits for the sweep.

    Runs after the causing transaction committed (``on_commit``), so a broker that is down,
    or a mail server that refuses in the in-process (eager) mode, must not turn a committed
    decision into an error page. One connection serves the whole batch, and a broker that
    does not answer is given up at the first refusal instead of after Celery's retries, so
    that the request does not hang either. Returns how many were queued.
    """
    from portal.notifications.tasks import send_notification

    ids = list(notification_ids)
    if not ids:
        return 0
    app = send_notification.app
    if app.conf.task_always_eager:
        return _publish(send_notification, ids)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            return _publish(send_notification, ids, connection=connection)
    except Exception as exc:  # noqa: BLE001 - kombu raises its own and socket errors alike
        logger.warning("Broker unreachable; %s notification(s) left for the outbox sweep: %s", len(ids), exc)
        return 0


def _publish(task, ids, **options):
    queued = 0
    for pk in ids:
        try:
            task.apply_async((pk,), retry=False, **options)
        except Exception as exc:  # kombu's OperationalError, or any error of an in-process task
            if isinstance(exc, (OSError, ConnectionError)) or _is_broker_error(exc):
                logger.warning("Broker unreachable; notification %s left for the outbox sweep: %s", pk, exc)
                break
            logger.exception("Notification %s could not be sent now; left for the outbox sweep", pk)
            continue
        queued += 1
    return queued


def _is_broker_error(exc):
    from kombu.exceptions import OperationalError

    return isinstance(exc, OperationalError)


# ---------------------------------------------------------------------------------------
# Sending


class SendResult:
    SENT = "sent"
    SKIPPED = "skipped"
    RETRY = "retry"
    FAILED = "failed"


def message_id_for(notification):
    """A stable Message-ID derived from the idempotency key, for downstream de-duplication."""
    digest = hashlib.sha256(notification.idempotency_key.encode()).hexdigest()[:40]
    host = urlparse(settings.PORTAL_BASE_URL).hostname or "portal.invalid"
    return f"<notification.{digest}@{host}>"


def claim(notification_id):
    """Move the row from ``pending`` to ``sending`` in its own committed transaction.

    A compare-and-set: of two tasks racing for the same row, the database lets exactly one
    update it. Returns ``(notification, token)``, or ``(None, None)`` if it is not pending.
    """
    token = uuid.uuid4().hex
    now = timezone.now()
    with transaction.atomic():
        claimed = Notification.objects.filter(pk=notification_id, status=Notification.Status.PENDING).update(
            status=Notification.Status.SENDING,
            claimed_at=now,
            claim_token=token,
            attempts=F("attempts") + 1,
        )
    if not claimed:
        return None, None
    return Notification.objects.select_related("recipient").get(pk=notification_id), token


def build_message(notification, connection=None):
    headers = {
        "Message-ID": message_id_for(notification),
        "X-Portal-Notification": notification.idempotency_key,
        "X-Portal-Event": notification.event,
    }
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        to=[notification.address],
        headers=headers,
        connection=connection,
    )
    if notification.html_body:
        message.attach_alternative(notification.html_body, "text/html")
    return message


def is_permanent_error(exc):
    """A 5xx answer from the mail server will not get better by retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def send_notification(*, notification_id):
    """Claim, send and mark one row; the body of the Celery task.

    Returns ``(result, countdown)`` where result is a ``SendResult`` and countdown the
    seconds after which a retry is due (``None`` unless result is ``RETRY``).
    """
    notification, token = claim(notification_id)
    if notification is None:
        return SendResult.SKIPPED, None
    try:
        connection = get_connection(fail_silently=False)
        build_message(notification, connection=connection).send()
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the row must record it
        return _record_failure(notification, token, exc)
    _mark_sent(notification, token)
    return SendResult.SENT, None


def _mark_sent(notification, token):
    now = timezone.now()
    with transaction.atomic():
        marked = Notification.objects.filter(
            pk=notification.pk, status=Notification.Status.SENDING, claim_token=token
        ).update(status=Notification.Status.SENT, sent_at=now, last_error="")
        if not marked:
            logger.warning(
                "Notification %s was sent but its claim had been taken back by the sweep", notification.pk
            )
        if notification.event in ONE_TIME_LINK_EVENTS:
            Notification.objects.filter(pk=notification.pk, status=Notification.Status.SENT).update(
                body=WITHHELD_BODY, html_body="", link="", context={}
            )
        if notification.event == DIGEST_EVENT:
            Notification.objects.filter(digest=notification, status=Notification.Status.DIGEST).update(
                status=Notification.Status.SENT, sent_at=now
            )


def _record_failure(notification, token, exc):
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = notification.attempts
    give_up = attempts >= max_attempts() or is_permanent_error(exc)
    countdown = None if give_up else backoff_seconds(attempts)
    now = timezone.now()
    with transaction.atomic():
        Notification.objects.filter(
            pk=notification.pk, status=Notification.Status.SENDING, claim_token=token
        ).update(
            status=Notification.Status.FAILED if give_up else Notification.Status.PENDING,
            last_error=error,
            available_at=now + timedelta(seconds=countdown or 0),
        )
    if give_up:
        logger.error("Notification %s failed after %s attempt(s): %s", notification.pk, attempts, error)
        return SendResult.FAILED, None
    logger.warning(
        "Notification %s attempt %s failed, retrying in %.1fs: %s",
        notification.pk,
        attempts,
        countdown,
        error,
    )
    return SendResult.RETRY, countdown


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
        transaction.on_commit(lambda: enqueue([pk]))
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


def set_delivery_preference(*, user, actor, delivery):
    """A person chooses immediate e-mails or a daily digest for routine notifications."""
    if actor is None or actor.pk != user.pk:
        raise PortalError("You can change only your own notification settings.")
    if delivery not in NotificationPreference.Delivery.values:
        raise PortalError("Choose immediate e-mails or a daily digest.", field="delivery")
    with transaction.atomic():
        preference, _ = NotificationPreference.objects.select_for_update().get_or_create(user=user)
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
        transaction.on_commit(lambda: enqueue([pk]))
    return digest
