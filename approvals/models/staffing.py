"""Who acts for an agency: changes its administrators propose and a second one confirms.

Separation of duties (issue 13). An agency's administrators decide who reviews and who approves
for it. Giving the approver or administrator role, and changing the agency's two-person rule,
take effect only when a second administrator of the agency confirms; the row keeps who asked,
who confirmed (never the same person, enforced here too), why, and the value before and after.
"""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from approvals.models.agencies import Agency
from portal.accounts.models import Role
from portal.audit.models import ChainedHistory


class StaffingChange(models.Model):
    """One proposed change to who acts for an agency, or to its two-person rule."""

    class Kind(models.TextChoices):
        ROLE = "role", "Change an official's role"
        INVITATION = "invitation", "Invite a new official"
        TWO_PERSON_RULE = "two_person_rule", "Change the two-person rule"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting for a second administrator"
        APPLIED = "applied", "In effect"
        REJECTED = "rejected", "Rejected"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="staffing_changes")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staffing_changes",
        help_text="The official whose role changes (for an invitation: once invited).",
    )
    email = models.EmailField(blank=True, help_text="For an invitation: the new official's address.")
    full_name = models.CharField(max_length=200, blank=True)
    role_before = models.CharField(max_length=30, choices=Role.choices, blank=True)
    role_after = models.CharField(max_length=30, choices=Role.choices, blank=True)
    two_persons_before = models.BooleanField(null=True, blank=True)
    two_persons_after = models.BooleanField(null=True, blank=True)
    reason = models.TextField()
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="staffing_changes_requested"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staffing_changes_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    history = ChainedHistory()

    class Meta:
        ordering = ["-requested_at", "-pk"]
        constraints = [
            # A second administrator confirms: the one who asked never decides alone. (A change
            # that needs no confirmation is applied by its requester: decided_by stays empty.)
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="staffing_change_decided_by_another",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("person")),
                name="staffing_change_not_decided_by_its_subject",
            ),
        ]

    def __str__(self):
        return f"{self.agency.code}: {self.summary()}"

    def summary(self):
        if self.kind == self.Kind.TWO_PERSON_RULE:
            return f"two-person rule {'on' if self.two_persons_after else 'off'}"
        who = self.person.email if self.person_id else self.email
        if self.kind == self.Kind.INVITATION:
            return f"invite {who} as {Role(self.role_after).label.lower()}"
        return f"{who}: {Role(self.role_before).label.lower()} → {Role(self.role_after).label.lower()}"
