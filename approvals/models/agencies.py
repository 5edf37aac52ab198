"""Agencies and the routing rules that decide which of them review a request."""

from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q

from portal.accounts.models import Organisation
from portal.audit.models import ChainedHistory


class Agency(models.Model):
    """A government agency that reviews referrals; one of them is the lead."""

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="agency")
    code = models.CharField(max_length=12, unique=True, help_text="For example DOC, ONCD, OSTP, CISA.")
    name = models.CharField(max_length=200)
    is_lead = models.BooleanField(default=False, help_text="The lead agency records final decisions.")
    requires_two_persons = models.BooleanField(
        default=False, help_text="A position drafted by one official must be signed by another."
    )
    officials_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="agency_officials")
    history = ChainedHistory()

    class Meta:
        ordering = ["-is_lead", "code"]
        verbose_name_plural = "agencies"
        constraints = [
            models.UniqueConstraint(fields=["is_lead"], condition=Q(is_lead=True), name="agency_one_lead"),
        ]

    def __str__(self):
        return self.code


class RoutingRule(models.Model):
    """Which agencies must (or may) review a request: data, editable in the admin.

    A change applies to referrals created after it; open referrals are never re-routed
    silently (the rule in force is copied onto each referral when it is made).
    """

    class Condition(models.TextChoices):
        ALWAYS = "always", "Always"
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Customer in a critical-infrastructure sector"
        OUTSIDE_UNITED_STATES = "outside_united_states", "Customer outside the United States"
        SUPPLY_CHAIN_RISK = "supply_chain_risk", "Vendor designated a supply-chain risk"

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="routing_rules")
    condition = models.CharField(max_length=40, choices=Condition.choices)
    required = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    note = models.CharField(max_length=300, blank=True)
    history = ChainedHistory()

    class Meta:
        ordering = ["agency__code", "condition"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "condition"], name="routing_rule_unique"),
        ]

    def __str__(self):
        return f"{self.agency.code}: {self.get_condition_display()}"
