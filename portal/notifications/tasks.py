"""Celery tasks for the outbox. Thin: each calls a service in ``sending.py`` or ``services.py``."""

import logging

from celery import shared_task

from portal.notifications import sending, services

logger = logging.getLogger(__name__)


@shared_task(name="notifications.send_batch", acks_late=True)
def send_batch(notification_ids):
    """Send a batch of outbox rows over one SMTP session (what ``enqueue`` publishes).

    Idempotent like ``send_notification``: rows already claimed or sent are skipped. A row
    that failed temporarily is retried on its own after its backoff; in the in-process
    (eager) mode it simply waits for the sweep.
    """

    def retry_later(pk, countdown):
        send_notification.apply_async((pk,), countdown=countdown)

    eager = send_batch.request.is_eager
    outcomes = sending.send_batch(notification_ids=notification_ids, on_retry=None if eager else retry_later)
    return {pk: result for pk, (result, _) in outcomes.items()}


@shared_task(name="notifications.send_notification", bind=True, max_retries=None, acks_late=True)
def send_notification(self, notification_id):
    """Send one outbox row. Idempotent: a duplicated or retried delivery sends nothing twice.

    On a temporary failure the row goes back to ``pending`` with its next attempt time and
    the task retries after the backoff. In the in-process (eager) mode there is no retry
    here — Celery would retry at once, in the caller's request — so the row simply waits
    for the sweep (``manage.py sweep_outbox`` or the beat job).
    """
    result, countdown = sending.send_notification(notification_id=notification_id)
    if result == sending.SendResult.RETRY and not self.request.is_eager:
        try:
            raise self.retry(countdown=countdown)
        except self.MaxRetriesExceededError:  # pragma: no cover - max_retries is None
            return result
    return result


@shared_task(name="notifications.sweep_outbox")
def sweep_outbox():
    """Beat job: re-queue rows never picked up, reclaim rows of dead workers, fail the hopeless."""
    return services.sweep_outbox()


@shared_task(name="notifications.send_digests")
def send_digests():
    """Beat job (hourly): the daily digest of held routine notifications, once a day per person."""
    return services.send_digests()
