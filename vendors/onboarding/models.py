"""Applications to join as a vendor, and requested changes of a vendor's legal name."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from portal.audit.models import ChainedHistory
from vendors.choices import COUNTRY_CHOICES


class Decision(models.TextChoices):
    PENDING = "pending", "Waiting for a portal administrator"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class VendorApplication(models.Model):
    """A company's application to file on the portal, from the public "apply as a vendor" page."""

    legal_name = models.CharField(max_length=200)
    normalised_name = models.CharField(max_length=200, editable=False, db_index=True)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES)
    identifiers = models.CharField(
        max_length=500, help_text="For example the UEI, EIN or company registration number."
    )
    address = models.TextField()
    admin_name = models.CharField("first compliance admin's name", max_length=200)
    admin_email = models.EmailField("first compliance admin's e-mail address")
    attestation = models.BooleanField(default=False)
    submitted_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    vendor = models.OneToOneField(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="application"
    )
    history = ChainedHistory()

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(attestation=True), name="vendor_application_attested"),
        ]

    def __str__(self):
        return f"{self.legal_name} ({self.get_status_display().lower()})"


class VendorNameChange(models.Model):
    """A vendor asks to change its legal name; a portal administrator approves it (or not).
    Approved rows are the vendor's names over time, shown to the agencies."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="name_changes")
    old_name = models.CharField(max_length=200)
    new_name = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Decision.choices, default=Decision.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    history = ChainedHistory()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor"], condition=Q(status="pending"), name="vendor_one_pending_name_change"
            ),
        ]

    def __str__(self):
        return f"{self.old_name} → {self.new_name}"
