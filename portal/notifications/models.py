"""The outbox: one row per notification, written in the same transaction as its cause."""

from django.conf import settings
from django.db import models
from django.utils import timezone


class Notification(models.Model):
    """A message to one person about one event; sent by a Celery task after commit.

    ``idempotency_key`` is unique, so the same event never produces two rows for a
    recipient, and the sending task claims a row before it sends, so a retried or
    duplicated task never sends a second mail.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        DIGEST = "digest", "Held for the daily digest"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=60)
    subject = models.CharField(max_length=250)
    body = models.TextField(help_text="Plain-text body as rendered when the row was written.")
    link = models.CharField(max_length=500, blank=True, help_text="Where the recipient acts, as a path.")
    context = models.JSONField(default=dict, blank=True)
    object_label = models.CharField(max_length=100, blank=True, help_text="For example the tracking number.")
    idempotency_key = models.CharField(max_length=200, unique=True)
    immediate = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    claimed_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["status", "created_at"]),
        ]

    def __str__(self):
        return f"{self.event} → {self.recipient}"
