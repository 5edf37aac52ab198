"""Access requests, their tracking numbers, documents and agency-internal notes."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from approvals.models.agencies import Agency
from portal.audit.models import ChainedHistory
from portal.db_operations import PortableIndex
from portal.permissions import RestrictedQuerySet
from vendors.models import FrontierModel, PartnerCustomer, Vendor

REFERRAL_DAYS = 30


INFORMATION_REQUEST_DAYS = 10


INTENT_TO_DENY_DAYS = 20


GRANT_DAYS = 365


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
        RETURNED_INCOMPLETE = "returned_incomplete", "Returned as incomplete"

    OPEN_STATUSES = (Status.SUBMITTED, Status.IN_REVIEW, Status.INFO_REQUESTED, Status.ESCALATED)
    # A draft is the vendor's team's own until it is submitted: not even auditors and portal
    # administrators, who read everything else, read it (``portal.permissions.private_rows``).
    PRIVATE_TO_OWNERS = models.Q(status=Status.DRAFT)
    FINAL_STATUSES = (Status.APPROVED, Status.DENIED, Status.WITHDRAWN, Status.RETURNED)
    # back with the vendor to fix and resubmit under the same tracking number
    EDITABLE_STATUSES = (Status.DRAFT, Status.RETURNED_INCOMPLETE)

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
    # the nearest due date of its referrals whose clock runs (open or drafted, not stopped): the
    # case list's first sort key, stored so that the list walks an index instead of computing it
    # for every visible request (issue 18). Kept by ``approvals.models.review.refresh_next_due``
    # whenever a referral is saved; derived data, so not in the history.
    next_due = models.DateField(null=True, blank=True, editable=False)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(excluded_fields=["next_due"])

    class Meta:
        ordering = ["-submitted_at", "-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="draft") | Q(tracking_number__isnull=False),
                name="access_request_tracking_number_once_submitted",
            ),
        ]
        # the lists' orderings and filters, so that a page reads its rows from an index and
        # stops at the page's end instead of sorting every visible request (issue 18)
        indexes = [
            models.Index(fields=["status"], name="access_request_status"),
            models.Index(fields=["-submitted_at", "-created_at", "-id"], name="access_request_newest"),
            models.Index(
                fields=["vendor", "-submitted_at", "-created_at", "-id"], name="access_request_vendor_newest"
            ),
            # the case list's order: the nearest running clock first, then the newest
            PortableIndex(
                models.F("next_due").asc(nulls_last=True),
                models.F("submitted_at").desc(),
                models.F("id").desc(),
                name="access_request_next_due",
            ),
        ]

    def __str__(self):
        return self.tracking_number or f"Draft request #{self.pk}"

    def save(self, *args, **kwargs):
        # ``next_due`` is written by ``refresh_next_due`` only: a whole-object save from a copy
        # read before a referral changed must not put back the old date
        if kwargs.get("update_fields") is None and not self._state.adding:
            kwargs["update_fields"] = [
                f.attname for f in self._meta.concrete_fields if not f.primary_key and f.name != "next_due"
            ]
        adding, before = self._state.adding, getattr(self, "_counted_as", None)
        super().save(*args, **kwargs)
        after = _count_key(self)
        if adding:
            RequestCount.add(after, 1)
        elif before is None:  # read without its status or vendor: count that vendor again
            RequestCount.recount(self.vendor_id)
        elif before != after:
            RequestCount.add(before, -1)
            RequestCount.add(after, 1)
        self._counted_as = after

    def delete(self, *args, **kwargs):
        vendor_id = self.vendor_id
        result = super().delete(*args, **kwargs)
        RequestCount.recount(vendor_id)
        return result

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._counted_as = _count_key(instance)
        return instance

    @property
    def is_open(self):
        return self.status in self.OPEN_STATUSES

    @property
    def is_decided(self):
        return self.status in (self.Status.APPROVED, self.Status.DENIED)


def _count_key(access_request):
    """``(vendor id, status)`` as loaded or last saved; ``None`` when either was not read."""
    values = access_request.__dict__
    if "vendor_id" not in values or "status" not in values:
        return None
    return values["vendor_id"], values["status"]


class RequestCount(models.Model):
    """How many requests a vendor has in each status: what the vendor's request list and its
    status tabs show, read from these few rows instead of counting every request (issue 18).

    Kept by ``AccessRequest.save`` and ``delete`` (every status change is a saved request);
    derived data, so without history. ``recount`` rebuilds one vendor's rows from the requests."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=20, choices=AccessRequest.Status.choices)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "status"], name="request_count_one_per_status"),
        ]

    def __str__(self):
        return f"{self.vendor_id} {self.status}: {self.count}"

    @classmethod
    def add(cls, key, change):
        vendor_id, status = key
        updated = cls.objects.filter(vendor_id=vendor_id, status=status).update(
            count=models.F("count") + change
        )
        if not updated:  # the vendor's first request in this status: count them all
            cls.recount(vendor_id)

    @classmethod
    def recount(cls, vendor_id):
        rows = (
            AccessRequest.objects.filter(vendor_id=vendor_id)
            .order_by()
            .values("status")
            .annotate(n=models.Count("pk"))
        )
        counted = {row["status"]: row["n"] for row in rows}
        cls.objects.filter(vendor_id=vendor_id).exclude(status__in=counted).delete()
        # one upsert for every status (an update_or_create each was a savepoint, a locking read and
        # a write per status)
        cls.objects.bulk_create(
            [cls(vendor_id=vendor_id, status=status, count=n) for status, n in counted.items()],
            update_conflicts=True,
            unique_fields=["vendor", "status"],
            update_fields=["count"],
        )

    @classmethod
    def of_vendor(cls, vendor_id):
        """``{status: count}`` of the vendor's requests, drafts included."""
        rows = cls.objects.filter(vendor_id=vendor_id, count__gt=0).order_by().values_list("status", "count")
        return dict(rows)


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
    history = ChainedHistory()
    # the documents of a draft are as private as the draft (see ``AccessRequest.PRIVATE_TO_OWNERS``)
    PRIVATE_TO_OWNERS = models.Q(access_request__status="draft")

    class Meta:
        ordering = ["uploaded_at"]

    def __str__(self):
        return self.title


class InternalNote(models.Model):
    """An agency's note on a case, visible to that agency's officials only (and auditors)."""

    access_request = models.ForeignKey(AccessRequest, on_delete=models.PROTECT, related_name="internal_notes")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="internal_notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    body = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)
    history = ChainedHistory()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.agency.code} note on {self.access_request}"
