"""Sending outbox rows. Idempotent: a row is claimed before it is sent and sent once."""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from portal.notifications.models import Notification


@shared_task(name="notifications.send_notification", bind=True, max_retries=8)
def send_notification(self, notification_id):
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .select_related("recipient")
            .filter(pk=notification_id, status=Notification.Status.PENDING)
            .first()
        )
        if notification is None:
            return "skipped"
        notification.status = Notification.Status.SENDING
        notification.claimed_at = timezone.now()
        notification.attempts += 1
        notification.save(update_fields=["status", "claimed_at", "attempts"])
    try:
        message = EmailMultiAlternatives(
            subject=notification.subject,
            body=notification.body
            + (f"\n\n{settings.PORTAL_BASE_URL}{notification.link}" if notification.link else ""),
            to=[notification.recipient.email],
            headers={"X-Portal-Notification": notification.idempotency_key},
        )
        message.send()
    except Exception as exc:
        Notification.objects.filter(pk=notification.pk).update(
            status=Notification.Status.PENDING, last_error=f"{type(exc).__name__}: {exc}"[:2000]
        )
        raise self.retry(exc=exc, countdown=min(2**notification.attempts * 30, 3600)) from exc
    Notification.objects.filter(pk=notification.pk).update(
        status=Notification.Status.SENT, sent_at=timezone.now()
    )
    return "sent"
