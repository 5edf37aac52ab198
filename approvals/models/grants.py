"""Grants: what an approval creates, and the only answer to "is this customer cleared?"."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from approvals.models.decisions import Decision
from approvals.models.requests import AccessRequest
from approvals.models.review import Condition
from portal.audit.models import ChainedHistory
from portal.permissions import RestrictedQuerySet
from vendors.models import FrontierModel, PartnerCustomer, Vendor


class Grant(models.Model):
    """Preview access for one customer to one model, created by an approval.

    "Is this customer cleared for this model right now?" is answered from grants alone.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        REVOKED = "revoked", "Revoked"
        EXPIRED = "expired", "Expired"

    decision = models.OneToOneField(Decision, on_delete=models.PROTECT, related_name="grant")
    access_request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="grant")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="grants")
    frontier_model = models.ForeignKey(FrontierModel, on_delete=models.PROTECT, related_name="grants")
    partner_customer = models.ForeignKey(PartnerCustomer, on_delete=models.PROTECT, related_name="grants")
    conditions = models.ManyToManyField(Condition, blank=True, related_name="grants")
    valid_from = models.DateField()
    valid_to = models.DateField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_reason = models.TextField(blank=True)
    suspended_by = models.ForeignKey(
        "EnforcementAction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="suspended_grants",
        help_text="The suspension of the model that suspended this grant; lifting it restores the grant.",
    )
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["valid_to"]
        constraints = [
            models.CheckConstraint(
                condition=Q(valid_to__gte=models.F("valid_from")), name="grant_valid_range"
            ),
        ]
        indexes = [
            models.Index(fields=["frontier_model", "status"]),
            models.Index(fields=["status", "valid_to"]),
        ]

    def __str__(self):
        return f"{self.frontier_model} for {self.partner_customer}"


class GrantUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)


class GrantGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Grant, on_delete=models.CASCADE)
