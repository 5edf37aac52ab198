"""Long work done in the background (a large import, a large export), with its progress."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from portal.accounts.models import Organisation
from portal.audit.models import ChainedHistory
from portal.permissions import RestrictedQuerySet


class Job(models.Model):
    """One piece of long work asked for by a person, run by a Celery task.

    The row is written when the person asks (in the same transaction), so that closing the tab
    loses nothing; the task claims it, reports ``done``/``total`` as it goes, and ends it
    ``succeeded`` (with a result: a file to download or a page to open) or ``failed`` (with a
    message for the person). Status changes keep history; the progress counters do not (they
    are written outside the work's own transaction, see ``progress.Progress``).
    """

    class Kind(models.TextChoices):
        CUSTOMER_IMPORT = "customer_import", "Partner customer import"
        CUSTOMER_EXPORT = "customer_export", "Partner customer export"
        AUDIT_EXPORT = "audit_export", "Audit export"
        ENFORCEMENT = "enforcement", "Enforcement action"

    class Status(models.TextChoices):
        QUEUED = "queued", "Waiting to start"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Finished"
        FAILED = "failed", "Failed"

    ACTIVE = (Status.QUEUED, Status.RUNNING)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200, help_text="What the person asked for, in their words.")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="jobs")
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="jobs",
        help_text="Whose work it is (the vendor's or the agency's organisation).",
    )
    params = models.JSONField(default=dict, blank=True, help_text="What the task needs (ids, filters).")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=100, blank=True, help_text="What the task is doing now.")
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    result_file = models.FileField(upload_to="jobs/%Y/%m/", max_length=300, blank=True)
    result_filename = models.CharField(max_length=200, blank=True)
    result_content_type = models.CharField(max_length=100, blank=True)
    result_link = models.CharField(max_length=300, blank=True, help_text="A page showing the result.")
    result_summary = models.CharField(max_length=500, blank=True)
    result_removed_at = models.DateTimeField(
        null=True, blank=True, help_text="When the result file was removed after the retention period."
    )
    error = models.TextField(blank=True, help_text="Why it failed, for the person who asked.")
    error_details = models.JSONField(default=list, blank=True, help_text="One message per problem.")
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory(excluded_fields=["done", "total", "phase", "params", "error_details"])

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"]),
            models.Index(fields=["owner", "-created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(done__lte=models.F("total")), name="job_done_within_total"
            )
        ]

    def __str__(self):
        return self.title

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def percent(self):
        if self.status == self.Status.SUCCEEDED:
            return 100
        return int(self.done * 100 / self.total) if self.total else 0


class JobUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Job, on_delete=models.CASCADE)


class JobGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Job, on_delete=models.CASCADE)
