"""The lead agency's side of a case: escalations, intents to deny, decisions."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from approvals.models.requests import AccessRequest
from approvals.models.review import Condition
from portal.audit.models import ChainedHistory


class Escalation(models.Model):
    """A case with a non-concurrence, raised to the lead agency's approver to resolve."""

    access_request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="escalation")
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    history = ChainedHistory()

    def __str__(self):
        return f"Escalation of {self.access_request}"


class IntentToDeny(models.Model):
    """Announced to the vendor before a denial, with a window to respond."""

    class Status(models.TextChoices):
        AWAITING_RESPONSE = "awaiting_response", "Awaiting the vendor's response"
        RESPONDED = "responded", "Vendor responded"
        WINDOW_CLOSED = "window_closed", "Window closed without response"

    access_request = models.OneToOneField(
        AccessRequest, on_delete=models.PROTECT, related_name="intent_to_deny"
    )
    reasons = models.TextField()
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    issued_at = models.DateTimeField(default=timezone.now)
    respond_by = models.DateField()
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.AWAITING_RESPONSE)
    vendor_response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    history = ChainedHistory()

    class Meta:
        verbose_name_plural = "intents to deny"

    def __str__(self):
        return f"Intent to deny {self.access_request}"


class Decision(models.Model):
    """The lead agency's final decision: fixed, with a snapshot (and its hash) of what was reviewed."""

    class Outcome(models.TextChoices):
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"

    access_request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(default=timezone.now)
    conditions = models.ManyToManyField(Condition, blank=True, related_name="decisions")
    snapshot = models.JSONField()
    snapshot_sha256 = models.CharField(max_length=64)
    letter_text = models.TextField()
    history = ChainedHistory()

    class Meta:
        # the dashboards' recent decisions: walked newest first, each probed for visibility
        indexes = [models.Index(fields=["-decided_at", "-id"], name="decision_newest")]

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.access_request}"
