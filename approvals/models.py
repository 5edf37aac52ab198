"""The review process: agencies, routing, access requests, referrals, positions,
information requests, conditions, decisions and grants.

Rows hold data and the invariants of one row; every state change lives in
``approvals/services.py``. Nothing else assigns a ``status``.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history.models import HistoricalRecords

from portal.accounts.models import Organisation
from vendors.models import FrontierModel, PartnerCustomer, Vendor

REFERRAL_DAYS = 30
INFORMATION_REQUEST_DAYS = 10
INTENT_TO_DENY_DAYS = 20
GRANT_DAYS = 365


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
    history = HistoricalRecords()

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
    history = HistoricalRecords()

    class Meta:
        ordering = ["agency__code", "condition"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "condition"], name="routing_rule_unique"),
        ]

    def __str__(self):
        return f"{self.agency.code}: {self.get_condition_display()}"


class AccessRequest(models.Model):
    """One partner customer's request for preview access to one frontier model."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        IN_REVIEW = "in_review", "In review"
        INFO_REQUESTED = "info_requested", "Information requested"
        ESCALATED = "escalated", "Escalated"
        APPROVED = "approved", "Approved"
        DENIED = "denied", "Denied"
        WITHDRAWN = "withdrawn", "Withdrawn"
        RETURNED = "returned", "Returned without action"

    OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED, Status.ESCALATED)
    FINAL_STATUSES = (Status.APPROVED, Status.DENIED, Status.WITHDRAWN, Status.RETURNED)

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="access_requests")
    frontier_model = models.ForeignKey(
        FrontierModel, on_delete=models.PROTECT, related_name="access_requests"
    )
    partner_customer = models.ForeignKey(
        PartnerCustomer, on_delete=models.PROTECT, related_name="access_requests"
    )
    tracking_number = models.CharField(max_length=20, unique=True, null=True, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    use_case = models.TextField(blank=True)
    scope = models.TextField(
        blank=True, help_text="Which capabilities, seats, regions and data are in scope."
    )
    requested_duration_days = models.PositiveIntegerField(null=True, blank=True)
    renewal_of = models.ForeignKey(
        "Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="renewal_requests"
    )
    on_hold = models.BooleanField(default=False, help_text="Put on hold while its model is suspended.")
    held_by = models.ForeignKey(
        "EnforcementAction",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="held_requests",
        help_text="The suspension that put it on hold.",
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    submitted_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.TextField(blank=True, help_text="Why it was withdrawn or returned.")
    version = models.PositiveIntegerField(
        default=0, help_text="Raised by every change, so that a form filled in on a stale page is refused."
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(tracking_number__isnull=False),
                name="access_request_tracking_number_once_submitted",
            ),
        ]

    def __str__(self):
        return self.tracking_number or f"Draft request #{self.pk}"

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def is_decided(self):
        return self.status in (self.Status.APPROVED, self.Status.DENIED)


class AccessRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(AccessRequest, on_delete=models.CASCADE)


class AccessRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(AccessRequest, on_delete=models.CASCADE)


class TrackingCounter(models.Model):
    """The last tracking number issued in a year; locked while a number is drawn, never reused."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.year}: {self.last_number}"


class RequestDocument(models.Model):
    """A supporting document for a request, or part of the vendor's answer to an information request."""

    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="documents")
    information_request = models.ForeignKey(
        "InformationRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="documents"
    )
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="requests/%Y/%m/", max_length=300)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.title


class Referral(models.Model):
    """One agency's review of one request, on its own clock."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting position"
        DRAFTED = "drafted", "Position drafted"
        SIGNED = "signed", "Position signed"
        CLOSED = "closed", "Closed without position"

    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="referrals")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="referrals")
    required = models.BooleanField(default=True)
    routing_reason = models.CharField(
        max_length=300, help_text="The routing rule that referred it, as it read."
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    assigned_officials = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="referrals"
    )
    referred_at = models.DateTimeField(default=timezone.now)
    due_date = models.DateField()
    clock_stopped_at = models.DateTimeField(
        null=True, blank=True, help_text="Set while an information request is open."
    )
    paused_days = models.PositiveIntegerField(default=0)
    history = HistoricalRecords(m2m_fields=[assigned_officials])

    class Meta:
        ordering = ["due_date", "agency__code"]
        constraints = [
            models.UniqueConstraint(fields=["access_request", "agency"], name="referral_one_per_agency"),
        ]

    def __str__(self):
        return f"{self.access_request} → {self.agency.code}"

    @property
    def clock_stopped(self):
        return self.clock_stopped_at is not None

    def days_remaining(self, today=None):
        """Calendar days left on the clock; negative when overdue; frozen while stopped."""
        if self.clock_stopped_at is not None:
            today = timezone.localdate(self.clock_stopped_at)
        today = today or timezone.localdate()
        return (self.due_date - today).days

    @staticmethod
    def default_due_date(referred_on):
        return referred_on + timedelta(days=REFERRAL_DAYS)


class ReferralUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class ReferralGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Referral, on_delete=models.CASCADE)


class Position(models.Model):
    """An agency's position on a referral: drafted by a reviewer, signed (and final) by an approver."""

    class Stance(models.TextChoices):
        CONCUR = "concur", "Concur"
        CONCUR_WITH_CONDITIONS = "concur_with_conditions", "Concur with conditions"
        NON_CONCUR = "non_concur", "Do not concur"

    referral = models.OneToOneField(Referral, on_delete=models.PROTECT, related_name="position")
    stance = models.CharField(max_length=30, choices=Stance.choices)
    rationale = models.TextField(blank=True)
    drafted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    drafted_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(stance="non_concur") | ~Q(rationale=""), name="position_non_concur_has_rationale"
            ),
            models.CheckConstraint(
                condition=Q(signed_by__isnull=True, signed_at__isnull=True)
                | Q(signed_by__isnull=False, signed_at__isnull=False),
                name="position_signature_complete",
            ),
        ]

    def __str__(self):
        return f"{self.referral.agency.code}: {self.get_stance_display()}"

    @property
    def is_signed(self):
        return self.signed_at is not None


class Condition(models.Model):
    """A condition on an approval, with the agency that proposed it.

    Never dropped or changed without that agency's concurrence: the decision service copies
    every signed position's conditions onto the decision.
    """

    class Kind(models.TextChoices):
        TEXT = "text", "Other (described in the text)"
        EXPIRY = "expiry", "Access expires on a date"
        SEAT_CAP = "seat_cap", "Cap on the number of seats"
        NO_FINE_TUNING = "no_fine_tuning", "No fine-tuning"
        US_DATA_RESIDENCY = "us_data_residency", "U.S.-only data residency"
        LOGGING = "logging", "Usage logging retained for review"

    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="conditions")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="conditions")
    position = models.ForeignKey(
        Position, null=True, blank=True, on_delete=models.PROTECT, related_name="conditions"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices, default=Kind.TEXT)
    text = models.TextField()
    expires_on = models.DateField(null=True, blank=True)
    seat_cap = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["agency__code", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="seat_cap") | Q(seat_cap__isnull=False),
                name="condition_seat_cap_has_number",
            ),
            models.CheckConstraint(
                condition=~Q(kind="expiry") | Q(expires_on__isnull=False), name="condition_expiry_has_date"
            ),
        ]

    def __str__(self):
        return f"{self.agency.code}: {self.text[:60]}"


class InformationRequest(models.Model):
    """A question from an agency to the vendor; while open, every clock of the request stops."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting the vendor's answer"
        ANSWERED = "answered", "Answered"
        LAPSED = "lapsed", "Unanswered by the deadline"
        CLOSED = "closed", "Closed with the request"

    access_request = models.ForeignKey(
        AccessRequest, on_delete=models.PROTECT, related_name="information_requests"
    )
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="information_requests")
    question = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateField()
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self):
        return f"{self.agency.code} question on {self.access_request}"


class InformationRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(InformationRequest, on_delete=models.CASCADE)


class InformationRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(InformationRequest, on_delete=models.CASCADE)


class InternalNote(models.Model):
    """An agency's note on a case, visible to that agency's officials only (and auditors)."""

    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="internal_notes")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.agency.code} note on {self.access_request}"


class Escalation(models.Model):
    """A case with a non-concurrence, raised to the lead agency's approver to resolve."""

    access_request = models.OneToOneField(AccessRequest, on_delete=models.PROTECT, related_name="escalation")
    raised_at = models.DateTimeField(default=timezone.now)
    raised_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.TextField()
    history = HistoricalRecords()

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
    history = HistoricalRecords()

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
    history = HistoricalRecords()

    def __str__(self):
        return f"{self.get_outcome_display()}: {self.access_request}"


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
    history = HistoricalRecords()

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


# ---------------------------------------------------------------------------------------------
# Release phases and enforcement (issue 5). Every change is a service in approvals/enforcement.py.


class PrereleaseReview(models.Model):
    """A vendor's submission of a frontier model for the agencies' pre-release review.

    Submitted from ``registered`` (the model goes ``in_review``) or from ``limited_preview``
    (a review for general availability; the model stays in preview meanwhile). Agencies record
    findings; the lead agency's approver clears the model or does not, with a written basis.
    """

    class Status(models.TextChoices):
        IN_REVIEW = "in_review", "In review"
        CLEARED_LIMITED_PREVIEW = "cleared_limited_preview", "Cleared for limited preview"
        CLEARED_GENERAL_AVAILABILITY = "cleared_general_availability", "Cleared for general availability"
        NOT_CLEARED = "not_cleared", "Not cleared"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="prerelease_reviews")
    frontier_model = models.ForeignKey(
        FrontierModel, on_delete=models.PROTECT, related_name="prerelease_reviews"
    )
    status = models.CharField(max_length=40, choices=Status.choices, default=Status.IN_REVIEW)
    phase_at_submission = models.CharField(
        max_length=30, choices=FrontierModel.ReleasePhase.choices, help_text="The phase the model was in."
    )
    summary = models.TextField(help_text="The vendor's summary of the evidence it submits.")
    evidence = models.ManyToManyField(
        "vendors.EvidenceDocument", blank=True, related_name="prerelease_reviews"
    )
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    basis = models.TextField(blank=True, help_text="The lead agency's written basis for its decision.")
    preview_customer_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most partner customers that may be cleared in limited preview."
    )
    history = HistoricalRecords(m2m_fields=[evidence])

    class Meta:
        ordering = ["-submitted_at", "-pk"]
        verbose_name = "pre-release review"
        constraints = [
            models.UniqueConstraint(
                fields=["frontier_model"],
                condition=Q(status="in_review"),
                name="prerelease_review_one_open_per_model",
            ),
            models.CheckConstraint(
                condition=Q(status="in_review") | Q(decided_at__isnull=False),
                name="prerelease_review_decided_has_date",
            ),
        ]

    def __str__(self):
        return f"Pre-release review of {self.frontier_model} ({self.submitted_at:%Y-%m-%d})"

    @property
    def is_open(self):
        return self.status == self.Status.IN_REVIEW

    @property
    def for_general_availability(self):
        return self.phase_at_submission == FrontierModel.ReleasePhase.LIMITED_PREVIEW


class PrereleaseReviewUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(PrereleaseReview, on_delete=models.CASCADE)


class PrereleaseReviewGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(PrereleaseReview, on_delete=models.CASCADE)


class ReviewFinding(models.Model):
    """One agency's finding in a pre-release review, with what it recommends. Agency-side only."""

    class Recommendation(models.TextChoices):
        NONE = "none", "No recommendation (finding only)"
        CLEAR_LIMITED_PREVIEW = "clear_limited_preview", "Clear for limited preview"
        CLEAR_GENERAL_AVAILABILITY = "clear_general_availability", "Clear for general availability"
        DO_NOT_CLEAR = "do_not_clear", "Do not clear"

    review = models.ForeignKey(PrereleaseReview, on_delete=models.PROTECT, related_name="findings")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="review_findings")
    text = models.TextField("finding")
    recommendation = models.CharField(
        max_length=40, choices=Recommendation.choices, default=Recommendation.NONE
    )
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    history = HistoricalRecords()

    class Meta:
        ordering = ["recorded_at", "pk"]

    def __str__(self):
        return f"{self.agency.code} finding on {self.review.frontier_model}"


class EnforcementAction(models.Model):
    """An act of the lead agency, with its legal basis and findings and the official who took it.

    A suspension records the phase the model had (restored when it is lifted) and marks each
    grant it suspended (``Grant.suspended_by``) and each request it put on hold
    (``AccessRequest.held_by``), so that lifting it restores exactly what it took.
    """

    class Kind(models.TextChoices):
        SUSPEND_MODEL = "suspend_model", "Model suspended (pulled offline)"
        LIFT_SUSPENSION = "lift_suspension", "Suspension lifted"
        REVOKE_GRANT = "revoke_grant", "Grant revoked"
        DESIGNATE_VENDOR = "designate_vendor", "Vendor designated a supply-chain risk"
        RESCIND_DESIGNATION = "rescind_designation", "Designation rescinded"

    class Status(models.TextChoices):
        IN_FORCE = "in_force", "In force"
        LIFTED = "lifted", "Lifted"
        RESCINDED = "rescinded", "Rescinded"
        DONE = "done", "Taken"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.IN_FORCE)
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="enforcement_actions")
    frontier_model = models.ForeignKey(
        FrontierModel, null=True, blank=True, on_delete=models.PROTECT, related_name="enforcement_actions"
    )
    grant = models.ForeignKey(
        "Grant", null=True, blank=True, on_delete=models.PROTECT, related_name="enforcement_actions"
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text="The suspension this lifts, or the designation this rescinds.",
    )
    legal_basis = models.TextField()
    findings = models.TextField()
    taken_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    taken_at = models.DateTimeField(default=timezone.now)
    phase_before = models.CharField(
        max_length=30,
        choices=FrontierModel.ReleasePhase.choices,
        blank=True,
        help_text="A suspension: the model's phase before it, restored when the suspension is lifted.",
    )
    grants_affected = models.PositiveIntegerField(default=0)
    requests_affected = models.PositiveIntegerField(default=0)
    respond_by = models.DateField(
        null=True, blank=True, help_text="A designation: the last day the vendor may answer."
    )
    vendor_response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-taken_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind__in=["suspend_model", "lift_suspension"]) | Q(frontier_model__isnull=False),
                name="enforcement_action_model_actions_name_a_model",
            ),
            models.CheckConstraint(
                condition=~Q(kind="revoke_grant") | Q(grant__isnull=False),
                name="enforcement_action_revocation_names_a_grant",
            ),
            models.UniqueConstraint(
                fields=["frontier_model"],
                condition=Q(kind="suspend_model", status="in_force"),
                name="enforcement_action_one_suspension_in_force",
            ),
            models.UniqueConstraint(
                fields=["vendor"],
                condition=Q(kind="designate_vendor", status="in_force"),
                name="enforcement_action_one_designation_in_force",
            ),
        ]

    def __str__(self):
        target = self.grant.access_request if self.grant_id else (self.frontier_model or self.vendor)
        return f"{self.get_kind_display()}: {target} ({self.taken_at:%Y-%m-%d})"

    @property
    def awaits_response(self):
        return (
            self.kind == self.Kind.DESIGNATE_VENDOR
            and self.status == self.Status.IN_FORCE
            and self.responded_at is None
        )


class EnforcementActionUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE)


class EnforcementActionGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(EnforcementAction, on_delete=models.CASCADE)


class IncidentReport(models.Model):
    """A serious incident with a model, reported by its vendor on a clock set by severity.

    The initial report may be brief; the vendor completes it (root cause, remediation, the
    affected customers) by ``due_on``.
    """

    class Category(models.TextChoices):
        LEAKED_WEIGHTS = "leaked_weights", "Model weights leaked or stolen"
        SECURITY_BREACH = "security_breach", "Security breach of the vendor's systems"
        MISUSE_CRITICAL_INFRASTRUCTURE = (
            "misuse_critical_infrastructure",
            "Misuse against critical infrastructure",
        )
        MISUSE_OTHER = "misuse_other", "Other misuse by a customer or third party"
        UNSAFE_BEHAVIOUR = "unsafe_behaviour", "Unsafe or unexpected model behaviour"
        OTHER = "other", "Other"

    class Severity(models.TextChoices):
        CRITICAL_INFRASTRUCTURE = "critical_infrastructure", "Disruption of critical infrastructure"
        SECURITY_BREACH = "security_breach", "Security breach or leaked model weights"
        SERIOUS = "serious", "Other serious incident"

    class Status(models.TextChoices):
        INITIAL = "initial", "Initial report"
        COMPLETE = "complete", "Complete report"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="incident_reports")
    frontier_model = models.ForeignKey(
        FrontierModel, on_delete=models.PROTECT, related_name="incident_reports"
    )
    category = models.CharField(max_length=40, choices=Category.choices)
    severity = models.CharField(max_length=30, choices=Severity.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.INITIAL)
    description = models.TextField()
    detected_on = models.DateField(help_text="The day the vendor became aware of the incident.")
    due_on = models.DateField(help_text="The complete report is due by this day (set by severity).")
    affected_customers = models.ManyToManyField(PartnerCustomer, blank=True, related_name="incident_reports")
    other_affected = models.TextField(
        blank=True, help_text="Anyone else affected who is not a registered partner customer."
    )
    root_cause = models.TextField(blank=True)
    remediation = models.TextField(blank=True)
    reported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reported_at = models.DateTimeField(default=timezone.now)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(m2m_fields=[affected_customers])

    class Meta:
        ordering = ["-reported_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="initial") | Q(completed_at__isnull=False),
                name="incident_report_complete_has_date",
            ),
        ]

    def __str__(self):
        return f"Incident {self.reference}: {self.get_category_display()} ({self.frontier_model})"

    @property
    def reference(self):
        return f"INC-{self.pk:05d}" if self.pk else "INC-new"

    @property
    def is_complete(self):
        return self.status == self.Status.COMPLETE

    def days_remaining(self, today=None):
        return (self.due_on - (today or timezone.localdate())).days

    @property
    def completed_late(self):
        return self.completed_at is not None and timezone.localdate(self.completed_at) > self.due_on


class IncidentReportUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(IncidentReport, on_delete=models.CASCADE)


class IncidentReportGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(IncidentReport, on_delete=models.CASCADE)
