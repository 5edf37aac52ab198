"""Pre-release reviews, enforcement actions and incident reports."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from approvals.models.agencies import Agency
from portal.audit.models import ChainedHistory
from portal.permissions import RestrictedQuerySet
from vendors.models import FrontierModel, PartnerCustomer, Vendor


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
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(m2m_fields=[evidence])

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
    history = ChainedHistory()

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
    scope = models.CharField(
        max_length=200,
        blank=True,
        default="",
        help_text="A suspension of chosen customers only: which (“the 2 customers in the energy sector”); "
        "empty: the whole model.",
    )
    attest_by = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A suspension: when the vendor's attestation that access was cut off is due.",
    )
    followed_through_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="A suspension: when what follows it after it took effect was done (the notice's PDF, "
        "the cut-off attestations asked, the vendor, officials and partners' security contacts told); "
        "empty until then (``approvals.services.followthrough``).",
    )
    partner_customers = models.ManyToManyField(
        PartnerCustomer,
        blank=True,
        related_name="suspensions",
        help_text="A suspension of chosen customers: the customers it covers, including those it held "
        "nothing of yet (a request filed for one of them while it is in force is put on hold).",
    )
    respond_by = models.DateField(
        null=True, blank=True, help_text="A designation: the last day the vendor may answer."
    )
    vendor_response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(m2m_fields=[partner_customers])

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
    def takes_whole_model(self):
        return self.kind == self.Kind.SUSPEND_MODEL and not self.scope

    @property
    def awaits_response(self):
        return (
            self.kind == self.Kind.DESIGNATE_VENDOR
            and self.status == self.Status.IN_FORCE
            and self.responded_at is None
        )


class CutoffAttestation(models.Model):
    """The vendor's word that a customer whose grant a suspension took has lost access to the model.

    One row per grant the suspension took, made with it; due by the suspension's ``attest_by``.
    Read through its suspension (whoever may read the action reads its attestations).
    """

    suspension = models.ForeignKey(EnforcementAction, on_delete=models.PROTECT, related_name="attestations")
    grant = models.ForeignKey("Grant", on_delete=models.PROTECT, related_name="cutoff_attestations")
    partner_customer = models.ForeignKey(PartnerCustomer, on_delete=models.PROTECT, related_name="+")
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    statement = models.TextField(blank=True, help_text="How access was cut off, in the vendor's words.")
    history = ChainedHistory()

    class Meta:
        ordering = ["suspension", "partner_customer__legal_name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["suspension", "grant"], name="cutoff_attestation_one_per_grant"),
            models.CheckConstraint(
                condition=Q(attested_at__isnull=True) | Q(attested_by__isnull=False),
                name="cutoff_attestation_attested_has_who",
            ),
        ]
        indexes = [models.Index(fields=["suspension", "attested_at"], name="cutoff_att_waiting_idx")]

    def __str__(self):
        return f"Cut-off of {self.partner_customer} (suspension #{self.suspension_id})"

    @property
    def is_attested(self):
        return self.attested_at is not None


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
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(m2m_fields=[affected_customers])

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
