"""The outbox: one row per notification, written in the same transaction as its cause."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from portal.audit.models import ChainedHistory

# Events that are sent at once whatever the recipient prefers: decisions, enforcement
# actions, deadlines, and anything a person must answer or use right away.
ALWAYS_IMMEDIATE_EVENTS = frozenset(
    {
        "decision_approved",
        "decision_denied",
        "decision_issued",
        "request_returned",
        "request_returned_incomplete",
        "intent_to_deny",
        "model_suspended",
        "model_suspension_lifted",
        "grant_revoked",
        "cutoff_attestation_due",
        "vendor_designated",
        "vendor_designation_rescinded",
        "referral_due_soon",
        "referral_overdue",
        "information_request_issued",
        "information_requested",
        "grant_expiring",
        "password_reset",
        "team_invitation",
        # issue 13: invitations carry a one-time link; security changes are told at once
        "account_invitation",
        "second_factor_reset",
        "staffing_change_proposed",
        "staffing_change_applied",
        "audit_chain_broken",
    }
)

# Events whose message carries a one-time link that signs a person in (set a password).
# The outbox admin never shows their body, and it is erased from the row once sent, so
# nobody who can read the outbox can take over an account with it.
ONE_TIME_LINK_EVENTS = frozenset({"password_reset", "team_invitation", "account_invitation"})
WITHHELD_BODY = "(Withheld: this message carried a one-time link, erased once it was sent.)"

# The row the daily digest itself is sent as; it never shows in the in-app list.
DIGEST_EVENT = "digest"


class Notification(models.Model):
    """A message to one person about one event; sent by a Celery task after commit.

    ``idempotency_key`` is unique, so the same event never produces two rows for a
    recipient. Sending is claim → send → mark sent: a task first moves the row from
    ``pending`` to ``sending`` in its own committed transaction (a compare-and-set, so
    only one task ever holds it), then talks to the mail server, then marks it ``sent``.
    A duplicated or retried task finds the row no longer ``pending`` and sends nothing.
    A row left in ``sending`` by a worker that died is given back to ``pending`` by the
    sweep only after its lease (``NOTIFICATIONS_SENDING_LEASE``) has run out.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        DIGEST = "digest", "Held for the daily digest"
        FAILED = "failed", "Failed"

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="The portal user told; empty for a message to an address only (``recipient_email``).",
    )
    recipient_email = models.EmailField(
        blank=True,
        help_text="For a person without an account (a partner customer's security contact): "
        "the address the message goes to. Empty when ``recipient`` is set.",
    )
    event = models.CharField(max_length=60)
    subject = models.CharField(max_length=250)
    body = models.TextField(help_text="Plain-text body as rendered when the row was written.")
    html_body = models.TextField(blank=True, help_text="HTML body as rendered when the row was written.")
    link = models.CharField(max_length=500, blank=True, help_text="Where the recipient acts, as a path.")
    attachment_path = models.CharField(
        max_length=300,
        blank=True,
        help_text="A stored file (its storage name) sent with the mail, for example a letter's PDF.",
    )
    attachment_filename = models.CharField(
        max_length=200, blank=True, help_text="The attachment's name in the mail."
    )
    context = models.JSONField(default=dict, blank=True)
    object_label = models.CharField(max_length=100, blank=True, help_text="For example the tracking number.")
    idempotency_key = models.CharField(max_length=200, unique=True)
    immediate = models.BooleanField(default=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    available_at = models.DateTimeField(
        default=timezone.now, help_text="Not to be sent before; the sweep re-queues rows left after it."
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=64, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)
    digest = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="digested",
        help_text="The digest mail this held notification went out in.",
    )
    retried_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    retried_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["status", "available_at"]),
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(recipient__isnull=False, recipient_email="")
                    | models.Q(recipient__isnull=True) & ~models.Q(recipient_email="")
                ),
                name="notification_user_or_address",
            )
        ]

    def __str__(self):
        return f"{self.event} → {self.recipient or self.recipient_email}"

    @property
    def address(self):
        """Where the mail goes: the user's address, or the address-only row's."""
        return self.recipient.email if self.recipient_id else self.recipient_email

    @property
    def is_unread(self):
        return self.read_at is None

    @property
    def absolute_url(self):
        return absolute_url(self.link)


def absolute_url(link):
    """``/vendor/requests/FAR-…/`` as ``https://portal.example.gov/vendor/requests/FAR-…/``."""
    if not link or "://" in link:
        return link
    return f"{settings.PORTAL_BASE_URL}/{link.lstrip('/')}"


class NotificationPreference(models.Model):
    """How one person wants routine notifications: each at once, or one digest a day."""

    class Delivery(models.TextChoices):
        IMMEDIATE = "immediate", "Each notification as it happens"
        DIGEST = "digest", "One daily digest"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preference"
    )
    delivery = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.IMMEDIATE)
    updated_at = models.DateTimeField(default=timezone.now)
    history = ChainedHistory()

    def __str__(self):
        return f"{self.user}: {self.get_delivery_display()}"
