"""Letters: what the lead agency sends the vendor, kept as it was issued (page and PDF)."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from approvals.models.decisions import Decision, IntentToDeny
from approvals.models.enforcement import EnforcementAction
from approvals.models.requests import AccessRequest
from portal.audit.models import ChainedHistory
from vendors.models import Vendor


class Letter(models.Model):
    """One letter of the lead agency: a decision, an intent to deny, a designation notice or an
    enforcement notice. Written once, in the transaction that issues it: the HTML as rendered then
    and the PDF made from it (with its hash) are never changed afterwards."""

    class Kind(models.TextChoices):
        DECISION = "decision", "Decision letter"
        INTENT_TO_DENY = "intent_to_deny", "Intent to deny"
        DESIGNATION_NOTICE = "designation_notice", "Designation notice"
        ENFORCEMENT_NOTICE = "enforcement_notice", "Enforcement notice"

    kind = models.CharField(max_length=30, choices=Kind.choices)
    reference = models.CharField(max_length=40, unique=True, help_text="For example FAR-2026-000123-DEC.")
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="letters")
    access_request = models.ForeignKey(
        AccessRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    decision = models.OneToOneField(
        Decision, null=True, blank=True, on_delete=models.PROTECT, related_name="letter"
    )
    intent_to_deny = models.OneToOneField(
        IntentToDeny, null=True, blank=True, on_delete=models.PROTECT, related_name="letter"
    )
    enforcement_action = models.OneToOneField(
        EnforcementAction, null=True, blank=True, on_delete=models.PROTECT, related_name="letter"
    )
    subject = models.CharField(max_length=300)
    issued_at = models.DateTimeField(default=timezone.now)
    signed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    signatory_name = models.CharField(max_length=200, help_text="As printed on the letter.")
    signatory_title = models.CharField(max_length=200, help_text="As printed on the letter.")
    record_sha256 = models.CharField(
        max_length=64, help_text="The decision's snapshot hash, or the hash of the notice's recorded facts."
    )
    body_html = models.TextField(help_text="The letter as issued (the page shows exactly this).")
    pdf = models.FileField(
        upload_to="letters/",
        max_length=300,
        blank=True,
        help_text="Empty when issued on a server that makes no PDFs.",
    )
    pdf_sha256 = models.CharField(max_length=64, blank=True)
    pdf_size_bytes = models.PositiveIntegerField()
    history = ChainedHistory()

    class Meta:
        ordering = ["-issued_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                name="letter_has_one_subject",
                condition=(
                    models.Q(
                        decision__isnull=False, intent_to_deny__isnull=True, enforcement_action__isnull=True
                    )
                    | models.Q(
                        decision__isnull=True, intent_to_deny__isnull=False, enforcement_action__isnull=True
                    )
                    | models.Q(
                        decision__isnull=True, intent_to_deny__isnull=True, enforcement_action__isnull=False
                    )
                ),
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.reference}"

    @property
    def pdf_filename(self):
        return f"{self.reference}.pdf"
