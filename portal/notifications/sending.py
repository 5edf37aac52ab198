"""Sending the outbox: queueing rows after commit, claiming them, SMTP, marking the result.

The guarantees are those of ``services`` (claim → send → mark; a duplicate delivery sends
nothing twice). What this module adds is the speed of a mail server's own pace:

* rows are queued in batches (``NOTIFICATIONS_BATCH_SIZE``, one task per batch), so the
  committing request publishes one message per batch, not one per mail;
* a batch is claimed with one compare-and-set ``UPDATE`` under one claim token, sent over
  one SMTP session, and marked sent with one ``UPDATE``;
* a row that fails temporarily goes back to ``pending`` with its backoff and is retried on
  its own (``send_notification`` with a countdown); a permanent failure is ``failed``.
"""

import hashlib
import logging
import mimetypes
import smtplib
import threading
import uuid
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from portal.notifications import mime
from portal.notifications.models import DIGEST_EVENT, ONE_TIME_LINK_EVENTS, WITHHELD_BODY, Notification

logger = logging.getLogger(__name__)


def _setting(name, default):
    return getattr(settings, name, default)


def max_attempts():
    return int(_setting("NOTIFICATIONS_MAX_ATTEMPTS", 8))


def backoff_seconds(attempt):
    """Seconds to wait after failed attempt number ``attempt`` (1, 2, 3…): base × 2^(attempt-1)."""
    base = float(_setting("NOTIFICATIONS_RETRY_BACKOFF_BASE", 30.0))
    cap = float(_setting("NOTIFICATIONS_RETRY_BACKOFF_MAX", 3600.0))
    return min(base * 2 ** max(attempt - 1, 0), cap)


def batch_size():
    return max(1, int(_setting("NOTIFICATIONS_BATCH_SIZE", 50)))


# ---------------------------------------------------------------------------------------
# Queueing

_after_commit = threading.local()


def enqueue_after_commit(notification_ids):
    """Queue rows when the current transaction commits: one publish for all of its rows.

    Every call registers a callback, so a savepoint rolled back with its callback loses
    nothing; the first callback to run after the commit takes every row gathered so far and
    the rest find nothing left. Ids of rows rolled back with a savepoint are harmless: their
    task finds nothing pending and skips them.
    """
    pending = getattr(_after_commit, "ids", None)
    if pending is None:
        pending = _after_commit.ids = []
    pending.extend(notification_ids)
    transaction.on_commit(_enqueue_gathered)


def _enqueue_gathered():
    ids = list(dict.fromkeys(getattr(_after_commit, "ids", None) or []))
    _after_commit.ids = []
    if ids:
        enqueue(ids)


def enqueue(notification_ids):
    """Hand rows to the broker in batches. Never raises: what cannot be queued now waits for the sweep.

    Runs after the causing transaction committed (``on_commit``), so a broker that is down,
    or a mail server that refuses in the in-process (eager) mode, must not turn a committed
    decision into an error page. One connection serves every batch, and a broker that does
    not answer is given up at the first refusal instead of after Celery's retries, so that
    the request does not hang either. Returns how many rows were queued.
    """
    from portal.notifications.tasks import send_batch

    ids = list(notification_ids)
    if not ids:
        return 0
    size = batch_size()
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    app = send_batch.app
    if app.conf.task_always_eager:
        return _publish(send_batch, batches)
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=0)
            return _publish(send_batch, batches, connection=connection)
    except Exception as exc:  # noqa: BLE001 - kombu raises its own and socket errors alike
        logger.warning("Broker unreachable; %s notification(s) left for the outbox sweep: %s", len(ids), exc)
        return 0


def _publish(task, batches, **options):
    queued = 0
    for ids in batches:
        try:
            task.apply_async((ids,), retry=False, **options)
        except Exception as exc:  # kombu's OperationalError, or any error of an in-process task
            if isinstance(exc, (OSError, ConnectionError)) or _is_broker_error(exc):
                logger.warning("Broker unreachable; notifications %s left for the outbox sweep: %s", ids, exc)
                break
            logger.exception("Notifications %s could not be sent now; left for the outbox sweep", ids)
            continue
        queued += len(ids)
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
    """Move one row from ``pending`` to ``sending``; see ``claim_many``.

    Returns ``(notification, token)``, or ``(None, None)`` if it is not pending.
    """
    rows, token = claim_many([notification_id])
    return (rows[0], token) if rows else (None, None)


def claim_many(notification_ids):
    """Move the rows that are still ``pending`` to ``sending``, in one committed transaction.

    A compare-and-set: of two tasks racing for the same row, the database lets exactly one
    update it, and only that one finds the row under its token afterwards. Returns
    ``(rows, token)``, the rows in id order with their recipients.
    """
    token = uuid.uuid4().hex
    with transaction.atomic():
        claimed = Notification.objects.filter(
            pk__in=list(notification_ids), status=Notification.Status.PENDING
        ).update(
            status=Notification.Status.SENDING,
            claimed_at=timezone.now(),
            claim_token=token,
            attempts=F("attempts") + 1,
        )
    if not claimed:
        return [], token
    rows = Notification.objects.select_related("recipient").filter(
        claim_token=token, status=Notification.Status.SENDING
    )
    return list(rows.order_by("pk")), token


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
    if notification.attachment_path:
        _attach(message, notification)
    return message


def _attach(message, notification):
    """Attach the stored file. If it cannot be read (a worker without the web's media storage),
    the mail goes without it, logged: the document stays on its page, and retrying would not bring
    the file back, so holding the mail would only lose it."""
    filename = notification.attachment_filename or notification.attachment_path.rsplit("/", 1)[-1]
    try:
        with default_storage.open(notification.attachment_path, "rb") as stored:
            content = stored.read()
    except OSError:
        logger.warning(
            "notification %s: attachment %s could not be read; sent without it",
            notification.pk,
            notification.attachment_path,
        )
        return
    message.attach(filename, content, mimetypes.guess_type(filename)[0] or "application/octet-stream")


def is_permanent_error(exc):
    """A 5xx answer from the mail server will not get better by retrying."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(500 <= code < 600 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 500 <= exc.smtp_code < 600
    return False


def send_notification(*, notification_id):
    """Claim, send and mark one row; the body of the single-row Celery task.

    Returns ``(result, countdown)`` where result is a ``SendResult`` and countdown the
    seconds after which a retry is due (``None`` unless result is ``RETRY``).
    """
    notification, token = claim(notification_id)
    if notification is None:
        return SendResult.SKIPPED, None
    return send_claimed([notification], token)[notification.pk]


def send_batch(*, notification_ids, on_retry=None):
    """Claim, send over one SMTP session and mark a batch of rows; the body of the batch task.

    Returns ``{id: (result, countdown)}`` for the rows this call claimed (rows another
    delivery had already claimed or sent are left out). ``on_retry(id, countdown)`` is
    called as soon as a row's temporary failure is recorded, so that its retry is queued
    on time rather than after the rest of the batch.
    """
    rows, token = claim_many(notification_ids)
    if not rows:
        return {}
    return send_claimed(rows, token, on_retry=on_retry)


def send_claimed(rows, token, on_retry=None):
    """Send rows this caller claimed under ``token`` over one connection and record each outcome."""
    outcomes, sent = {}, []
    connection = get_connection(fail_silently=False)
    try:
        connection.open()
    except Exception as exc:  # noqa: BLE001 - an unreachable server fails every row alike
        for row in rows:
            outcomes[row.pk] = _record_failure(row, token, exc)
        return outcomes
    send = _smtp_sender(connection)
    try:
        for row in rows:
            try:
                send(build_message(row, connection=connection))
            except Exception as exc:  # noqa: BLE001 - whatever went wrong, the row must record it
                outcomes[row.pk] = _record_failure(row, token, exc)
                if on_retry and outcomes[row.pk][0] == SendResult.RETRY:
                    on_retry(row.pk, outcomes[row.pk][1])
                if not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                    _reopen(connection)  # the session itself may be broken; an SMTP answer leaves it usable
            else:
                sent.append(row)
                outcomes[row.pk] = (SendResult.SENT, None)
    finally:
        try:
            connection.close()
        except Exception:  # a session that broke has nothing left to close
            logger.debug("SMTP session did not close cleanly", exc_info=True)
    _mark_sent(sent, token)
    return outcomes


def _smtp_sender(connection):
    """How one built message goes out over ``connection``, already open.

    Through Django's SMTP backend: the same envelope and the same bytes as its ``_send``
    (``portal.notifications.mime``), written without its per-mail header folding and address
    parsing, which cost about as much as the SMTP exchange itself. Any other backend (the
    tests' in-memory outbox, the console) sends as usual."""
    if type(connection) is not SmtpBackend:
        return lambda message: message.send()

    def send(message):
        recipients = message.recipients()
        if not recipients:
            return
        if connection.connection is None:  # a session that broke and could not be reopened
            connection.open()
        encoding = message.encoding or settings.DEFAULT_CHARSET
        connection.connection.sendmail(
            mime.sanitized_address(message.from_email, encoding),
            [mime.sanitized_address(address, encoding) for address in recipients],
            mime.message_bytes(message),
        )

    return send


def _reopen(connection):
    """After a failure that may have broken the session, start a fresh one for the next row."""
    try:
        connection.close()
    except Exception:  # a broken session may fail to close; it is dropped either way
        logger.debug("SMTP session did not close cleanly", exc_info=True)
    try:
        connection.open()
    except Exception:  # the next send opens its own connection and records its own failure
        logger.debug("SMTP session could not be reopened", exc_info=True)


def _mark_sent(rows, token):
    if not rows:
        return
    now = timezone.now()
    ids = [row.pk for row in rows]
    with transaction.atomic():
        marked = Notification.objects.filter(
            pk__in=ids, status=Notification.Status.SENDING, claim_token=token
        ).update(status=Notification.Status.SENT, sent_at=now, last_error="")
        if marked != len(ids):
            logger.warning(
                "%s of notifications %s were sent but their claim had been taken back by the sweep",
                len(ids) - marked,
                ids,
            )
        one_time = [row.pk for row in rows if row.event in ONE_TIME_LINK_EVENTS]
        if one_time:
            Notification.objects.filter(pk__in=one_time, status=Notification.Status.SENT).update(
                body=WITHHELD_BODY, html_body="", link="", context={}
            )
        digests = [row.pk for row in rows if row.event == DIGEST_EVENT]
        if digests:
            Notification.objects.filter(digest_id__in=digests, status=Notification.Status.DIGEST).update(
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
