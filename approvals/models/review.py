"""One agency's review of a request: referrals, positions, conditions, information requests."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from approvals.models.agencies import Agency
from approvals.models.dashboard import noted_for_counting, retally
from approvals.models.requests import REFERRAL_DAYS, AccessRequest
from portal.audit.models import ChainedHistory
from portal.db_operations import PortableIndex
from portal.permissions import RestrictedQuerySet


def refresh_next_due(request_ids):
    """Store on each of the requests ``request_ids`` the nearest due date of its referrals whose
    clock runs (open or drafted, not stopped), or none: one ``UPDATE``. Called whenever referrals
    are saved (``Referral.save``, and the services' batched clock stops and restarts); inside
    ``dashboard.counted_once()`` it only notes them, for one refresh at the block's end."""
    ids = [pk for pk in set(request_ids) if pk is not None]
    if not ids or noted_for_counting("due", ids):
        return
    running = (
        Referral.objects.filter(
            access_request=models.OuterRef("pk"),
            status__in=ACTIVE_STATUSES,
            clock_stopped_at__isnull=True,
        )
        .order_by("due_date")
        .values("due_date")[:1]
    )
    AccessRequest.objects.filter(pk__in=ids).update(next_due=models.Subquery(running))
    retally(ids)  # the dashboard's kept counts (approvals.models.dashboard)


ACTIVE_STATUSES = ("open", "drafted")


def referral_still_open():
    """0 for a referral still awaiting its position (open or drafted), 1 after: the first key of
    the referral list's ordering, and of the index that serves it."""
    return models.Case(
        models.When(status__in=("open", "drafted"), then=models.Value(0)),
        default=models.Value(1),
        output_field=models.IntegerField(),
    )


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
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(m2m_fields=[assigned_officials])

    class Meta:
        ordering = ["due_date", "agency__code"]
        constraints = [
            models.UniqueConstraint(fields=["access_request", "agency"], name="referral_one_per_agency"),
        ]
        # an agency's queue (agency, state, clock) and the referral list's ordering (issue 18)
        indexes = [
            models.Index(
                fields=["agency", "status", "clock_stopped_at", "due_date"], name="referral_agency_queue"
            ),
            # an agency's open queue in the dashboard's order: read from here, it stops at the tenth
            PortableIndex(
                "agency",
                models.F("clock_stopped_at").asc(nulls_first=True),
                "due_date",
                "id",
                condition=Q(status__in=("open", "drafted")),
                name="referral_open_queue",
            ),
            # the dashboard's clock queue: an agency's open referrals by due date, stopped or not
            models.Index(
                fields=["agency", "due_date", "id"],
                condition=Q(status__in=("open", "drafted")),
                name="referral_open_due",
            ),
            PortableIndex(
                referral_still_open(),
                models.F("clock_stopped_at").asc(nulls_first=True),
                "due_date",
                "id",
                name="referral_list_order",
            ),
            PortableIndex(
                "agency",
                referral_still_open(),
                models.F("clock_stopped_at").asc(nulls_first=True),
                "due_date",
                "id",
                name="referral_agency_list_order",
            ),
        ]

    def __str__(self):
        return f"{self.access_request} → {self.agency.code}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        refresh_next_due([self.access_request_id])

    def delete(self, *args, **kwargs):
        request_id = self.access_request_id
        result = super().delete(*args, **kwargs)
        refresh_next_due([request_id])
        return result

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
    history = ChainedHistory()

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
    history = ChainedHistory()

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
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["-asked_at"]

    def __str__(self):
        return f"{self.agency.code} question on {self.access_request}"


class InformationRequestUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(InformationRequest, on_delete=models.CASCADE)


class InformationRequestGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(InformationRequest, on_delete=models.CASCADE)
