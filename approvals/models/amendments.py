"""Amendments: a material fact of a customer, a model or a vendor changed while the agencies hold it.

An amendment is recorded by ``approvals.services.amendments`` when the registry saves a change
to a material fact (``vendors.amendments.MATERIAL_FACTS``) of a record that a request under
review or an active grant concerns. Each active grant concerned gets a ``GrantFactsChange``
that the lead agency confirms or acts on (revokes the grant).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from approvals.models.grants import Grant
from portal.audit.models import ChainedHistory
from vendors.models import FrontierModel, PartnerCustomer, Vendor


class Amendment(models.Model):
    """A new version of a customer, a model or the vendor (its legal name), with the vendor's
    reason, shown to the agencies."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="amendments")
    partner_customer = models.ForeignKey(
        PartnerCustomer, null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    frontier_model = models.ForeignKey(
        FrontierModel, null=True, blank=True, on_delete=models.PROTECT, related_name="amendments"
    )
    changes = models.JSONField(
        help_text="[{field, label, old, new}] of the material facts changed, as people read them."
    )
    reason = models.TextField()
    amended_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    amended_at = models.DateTimeField(default=timezone.now)
    record_version = models.PositiveBigIntegerField(
        default=0, help_text="The record's history row (its new version) this amendment made."
    )
    held_by = models.JSONField(
        default=list, blank=True, help_text="What held the record then: requests under review, active grants."
    )
    added_referrals = models.JSONField(
        default=list, blank=True, help_text="[tracking number, agency code] of the referrals routing added."
    )
    history = ChainedHistory()

    class Meta:
        ordering = ["-amended_at", "-pk"]
        constraints = [
            # a customer's, a model's, or (neither) the vendor's own (its legal name)
            models.CheckConstraint(
                condition=Q(partner_customer__isnull=True) | Q(frontier_model__isnull=True),
                name="amendment_of_one_record",
            ),
        ]

    def __str__(self):
        return f"Amendment of {self.record} on {timezone.localtime(self.amended_at):%b %-d, %Y}"

    @property
    def record(self):
        return self.partner_customer or self.frontier_model or self.vendor

    @property
    def fields_text(self):
        return ", ".join(change["label"] for change in self.changes)


class GrantFactsChange(models.Model):
    """An active grant whose facts changed since approval, for the lead agency to confirm or act on."""

    class Status(models.TextChoices):
        PENDING = "pending", "Facts changed since approval"
        CONFIRMED = "confirmed", "Confirmed by the lead agency"
        REVOKED = "revoked", "Grant revoked"

    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, related_name="facts_changes")
    amendment = models.ForeignKey(Amendment, on_delete=models.PROTECT, related_name="grant_facts_changes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.TextField(blank=True)
    history = ChainedHistory()

    class Meta:
        ordering = ["-amendment__amended_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["grant", "amendment"], name="grant_facts_change_once"),
        ]
        indexes = [models.Index(fields=["status", "grant"])]

    def __str__(self):
        return f"{self.grant}: {self.get_status_display().lower()}"
