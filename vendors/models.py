"""The registry: vendors, their frontier models, partner customers and evidence.

Object permissions are granted to three groups per vendor, created with the vendor:
``members_group`` (every member: view), ``editors_group`` (admins and officers: change)
and ``admins_group`` (admins: manage the team and the profile). Agencies get ``view`` on
the records a referral concerns, granted to their officials' group by the review service.
"""

import math
import re
import unicodedata

from django.conf import settings
from django.contrib.auth.models import Group
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from portal.accounts.models import Organisation
from portal.audit.models import ChainedHistory
from portal.permissions import RestrictedQuerySet
from vendors.choices import COUNTRY_CHOICES, COUNTRY_NAMES, CRITICAL_INFRASTRUCTURE_SECTORS, Sector


class Vendor(models.Model):
    """A company that builds frontier models and files access requests."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUPPLY_CHAIN_RISK = "supply_chain_risk", "Designated supply-chain risk"

    organisation = models.OneToOneField(Organisation, on_delete=models.PROTECT, related_name="vendor")
    legal_name = models.CharField(max_length=200)
    # Issue 13: "Aurora Labs, Inc." and "aurora labs" are one vendor (normalise_name).
    normalised_name = models.CharField(max_length=200, editable=False, default="")
    registration_ids = models.CharField(
        max_length=500, blank=True, help_text="For example EIN, UEI or company registration numbers."
    )
    primary_contact_name = models.CharField(max_length=200, blank=True)
    primary_contact_email = models.EmailField(blank=True)
    primary_contact_phone = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.ACTIVE)
    designated_at = models.DateTimeField(null=True, blank=True)
    designated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    designation_legal_basis = models.TextField(blank=True)
    notify_customer_security_contacts = models.BooleanField(
        "tell partner customers' security contacts",
        default=True,
        help_text="When a grant is suspended or revoked, the partner customer's security contact is "
        "sent a plain notice (without case details) that its access has ended or is paused.",
    )
    members_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="vendor_members")
    editors_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="vendor_editors")
    admins_group = models.OneToOneField(Group, on_delete=models.PROTECT, related_name="vendor_admins")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["normalised_name"], condition=~models.Q(normalised_name=""), name="vendor_unique_name"
            ),
        ]
        permissions = [
            ("contribute_vendor", "Register models, partner customers and evidence for the vendor"),
            ("manage_team_vendor", "Manage the vendor's team"),
        ]

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        self.normalised_name = normalise_name(self.legal_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "legal_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "normalised_name"}
        super().save(*args, **kwargs)

    @property
    def is_supply_chain_risk(self):
        return self.status == self.Status.SUPPLY_CHAIN_RISK


class VendorUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Vendor, on_delete=models.CASCADE)


class VendorGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Vendor, on_delete=models.CASCADE)


class FrontierModel(models.Model):
    """A model a vendor built, with what is known about its capability and evaluation."""

    class ReleasePhase(models.TextChoices):
        REGISTERED = "registered", "Registered"
        IN_REVIEW = "in_review", "In pre-release review"
        LIMITED_PREVIEW = "limited_preview", "Limited preview"
        GENERAL_AVAILABILITY = "general_availability", "General availability"
        SUSPENDED = "suspended", "Suspended (pulled offline)"
        WITHDRAWN = "withdrawn", "Withdrawn by the vendor"

    PHASE_EXPLANATIONS = {
        ReleasePhase.REGISTERED: "Registered with the portal. Submit it for pre-release review before "
        "any partner customer can be cleared for it.",
        ReleasePhase.IN_REVIEW: "Under pre-release cybersecurity review by the agencies.",
        ReleasePhase.LIMITED_PREVIEW: "Cleared for limited preview: each partner customer needs its own "
        "access request and grant.",
        ReleasePhase.GENERAL_AVAILABILITY: "Cleared for general availability.",
        ReleasePhase.SUSPENDED: "Pulled offline by an enforcement action; every grant for it is suspended.",
        ReleasePhase.WITHDRAWN: "Withdrawn by the vendor; no new requests can be filed for it.",
    }

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="frontier_models")
    name = models.CharField(max_length=200)
    version = models.CharField(max_length=50)
    description = models.TextField(blank=True)
    training_compute_flop = models.FloatField(
        "training compute (FLOP)", help_text="Total training compute, for example 3.2e26."
    )
    capability_summary = models.TextField(blank=True)
    cyber_evaluation_summary = models.TextField("cyber-evaluation summary", blank=True)
    intended_release = models.TextField(
        blank=True,
        help_text="How and to whom the vendor intends to release the model: API or weights, regions, dates.",
    )
    release_phase = models.CharField(
        max_length=30, choices=ReleasePhase.choices, default=ReleasePhase.REGISTERED
    )
    designated_frontier = models.BooleanField(
        default=False, help_text="Designated frontier by an agency regardless of its training compute."
    )
    preview_customer_cap = models.PositiveIntegerField(
        null=True, blank=True, help_text="Most partner customers that may be cleared in limited preview."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["name", "version"]
        constraints = [
            models.UniqueConstraint(
                "vendor", Lower("name"), Lower("version"), name="frontier_model_unique_version"
            ),
            models.CheckConstraint(
                condition=models.Q(training_compute_flop__gte=0), name="frontier_model_compute_gte_0"
            ),
        ]

    def __str__(self):
        return f"{self.name} {self.version}"

    @property
    def compute_threshold(self):
        return settings.FRONTIER_COMPUTE_THRESHOLD_FLOP

    @property
    def is_frontier(self):
        return self.designated_frontier or self.training_compute_flop >= self.compute_threshold

    @property
    def frontier_reason(self):
        """Why the portal treats the model as frontier or not, in a sentence."""
        compute = format_flop(self.training_compute_flop)
        threshold = format_flop(self.compute_threshold)
        if self.training_compute_flop >= self.compute_threshold:
            return (
                f"Frontier: its training compute of {compute} FLOP reaches the threshold of {threshold} FLOP."
            )
        if self.designated_frontier:
            return (
                f"Frontier: designated so by an agency, although its training compute of {compute} FLOP "
                f"is below the threshold of {threshold} FLOP."
            )
        return f"Not frontier: training compute of {compute} FLOP is under the {threshold} FLOP threshold."

    @property
    def phase_explanation(self):
        return self.PHASE_EXPLANATIONS[self.ReleasePhase(self.release_phase)]


class FrontierModelUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(FrontierModel, on_delete=models.CASCADE)


class FrontierModelGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(FrontierModel, on_delete=models.CASCADE)


def normalise_name(name):
    """Case, accents, punctuation, spacing and common legal suffixes do not make a new customer."""
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    # "L.L.C." is "llc" and "O'Neil" is "oneil": dots and apostrophes join, other punctuation separates.
    text = re.sub(r"[.'\u2019]", "", text)
    text = re.sub(r"[^\w\s]", " ", text)
    words = text.split()
    suffixes = {
        "inc",
        "incorporated",
        "llc",
        "ltd",
        "limited",
        "corp",
        "corporation",
        "co",
        "gmbh",
        "plc",
        "sa",
        "ag",
    }
    while words and words[-1] in suffixes:
        words.pop()
    return " ".join(words)


class PartnerCustomer(models.Model):
    """An organisation a vendor wants to give preview access to one of its models."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="partner_customers")
    legal_name = models.CharField(max_length=200)
    normalised_name = models.CharField(max_length=200, editable=False)
    country = models.CharField(max_length=2, choices=COUNTRY_CHOICES, help_text="ISO 3166-1 country.")
    sector = models.CharField(max_length=40, choices=Sector.choices)
    registration_id = models.CharField(max_length=100, blank=True)
    intended_use = models.TextField()
    ownership = models.TextField(
        blank=True,
        help_text="Who owns or controls the customer: parent company, major shareholders, any government "
        "ownership.",
    )
    security_contact_name = models.CharField(max_length=200)
    security_contact_email = models.EmailField()
    attestation = models.BooleanField(
        default=False,
        help_text="The vendor attests that the customer is who it says it is and that the intended use is "
        "accurately described.",
    )
    attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    attested_at = models.DateTimeField(null=True, blank=True)
    identity_frozen_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the customer first appears in a submitted request."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["legal_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "normalised_name", "country"], name="partner_customer_unique_per_vendor"
            ),
        ]
        # the country filters probe it once per country (``portal.admin.values_filter``), issue 18
        indexes = [
            models.Index(fields=["country"], name="partner_customer_country"),
            # the entitlement check finds a customer by id or by the vendor's registration id: with
            # this PostgreSQL ORs two index probes instead of reading all the vendor's customers
            models.Index(fields=["vendor", "registration_id"], name="partner_customer_registration"),
        ]

    def __str__(self):
        return self.legal_name

    def save(self, *args, **kwargs):
        self.normalised_name = normalise_name(self.legal_name)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "legal_name" in update_fields:
            kwargs["update_fields"] = {*update_fields, "normalised_name"}
        super().save(*args, **kwargs)

    @property
    def country_name(self):
        return COUNTRY_NAMES.get(self.country, self.country)

    @property
    def is_critical_infrastructure(self):
        return self.sector in CRITICAL_INFRASTRUCTURE_SECTORS

    @property
    def identity_frozen(self):
        return self.identity_frozen_at is not None


class PartnerCustomerUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(PartnerCustomer, on_delete=models.CASCADE)


class PartnerCustomerGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(PartnerCustomer, on_delete=models.CASCADE)


class EvidenceDocument(models.Model):
    """A model card, evaluation or red-team report, or other evidence, attached to a model or a
    customer. Stored outside the web root; served only through a permission-checking view."""

    class Kind(models.TextChoices):
        MODEL_CARD = "model_card", "Model card"
        EVALUATION_REPORT = "evaluation_report", "Evaluation report"
        RED_TEAM_REPORT = "red_team_report", "Red-team report"
        CUSTOMER_ATTESTATION = "customer_attestation", "Customer attestation"
        OTHER = "other", "Other"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="evidence_documents")
    frontier_model = models.ForeignKey(
        FrontierModel, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_documents"
    )
    partner_customer = models.ForeignKey(
        PartnerCustomer, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence_documents"
    )
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="evidence/%Y/%m/", max_length=300)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size_bytes = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(default=timezone.now)
    objects = RestrictedQuerySet.as_manager()
    history = ChainedHistory()

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(frontier_model__isnull=False, partner_customer__isnull=True)
                    | models.Q(frontier_model__isnull=True, partner_customer__isnull=False)
                ),
                name="evidence_attached_to_exactly_one",
            ),
        ]

    def __str__(self):
        return self.title


class EvidenceDocumentUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(EvidenceDocument, on_delete=models.CASCADE)


class EvidenceDocumentGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(EvidenceDocument, on_delete=models.CASCADE)


class CustomerImport(models.Model):
    """One CSV upload of partner customers: previewed first, then imported all at once or not at all.

    The uploaded file is kept (outside the web root) between the preview and the confirmation, so
    the confirmation re-reads and re-checks exactly what was previewed.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", "Checked, waiting for confirmation"
        IMPORTED = "imported", "Imported"
        REJECTED = "rejected", "Rejected"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="customer_imports")
    file = models.FileField(upload_to="imports/%Y/%m/", max_length=300)
    original_filename = models.CharField(max_length=255)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PREVIEWED)
    total_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True, help_text="[row number, message] for each bad row.")
    imported_count = models.PositiveIntegerField(default=0)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    imported_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.original_filename} ({self.get_status_display()})"


class CustomerImportUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(CustomerImport, on_delete=models.CASCADE)


class CustomerImportGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(CustomerImport, on_delete=models.CASCADE)


_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_TIMES = r"(?:[x×*·⋅]|\\times|\\cdot)"
_EXPONENT = r"(?:\^|\*\*)\s*[({]?\s*(?P<e>[+-]?[0-9]+)\s*[)}]?"
_FLOP_PATTERNS = [
    re.compile(r"^(?P<s>[+-]?)\s*(?P<m>[0-9]*\.?[0-9]+)\s*e\s*(?P<e>[+-]?[0-9]+)$", re.IGNORECASE),
    re.compile(rf"^(?P<s>[+-]?)\s*(?P<m>[0-9]*\.?[0-9]+)\s*{_TIMES}\s*10\s*{_EXPONENT}$", re.IGNORECASE),
    re.compile(r"^(?P<s>[+-]?)\s*10\s*(?:\^|\*\*)\s*[({]?\s*(?P<e>[+-]?[0-9]+)\s*[)}]?$"),
    re.compile(r"^(?P<s>[+-]?)\s*(?P<m>[0-9]+(?:\.[0-9]+)?)$"),
]
# Thousands grouped by plain spaces ("1 000 000"); other spaces are left for the patterns.
_SPACE_GROUPED = re.compile(r"^([+-]?[0-9]{1,3})((?: [0-9]{3})+)((?:\.[0-9]+)?)$")
# A run of digits and commas; a comma is read only as a thousands separator ("1,000,000").
_COMMA_RUN = re.compile(r"(?P<before>\.?)(?P<run>[0-9,]*,[0-9,]*)")
_COMMA_GROUPED = re.compile(r"^[0-9]{1,3}(?:,[0-9]{3})+$")


def parse_flop(text):
    """Read training compute the way people write it: ``3.2e26``, ``3.2E+26``, ``3.2 × 10^26``,
    ``3.2 X 10^26``, ``3.2·10²⁶``, ``3.2 * 10**26``, ``10^26`` or plain digits with separators,
    with or without a trailing ``FLOP``. Zero and negative amounts are refused. Raises
    ``ValueError`` with a message for the user."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError("Enter the training compute in FLOP, for example 3.2e26 or 3.2 × 10^26.")
    cleaned = raw.replace("\u2212", "-").replace("\u2013", "-")  # minus sign and en dash
    for comma_run in _COMMA_RUN.finditer(cleaned):
        if comma_run.group("before") or not _COMMA_GROUPED.match(comma_run.group("run")):
            # "4,0e26" is a decimal comma: dropping it would read 40e26, ten times too much.
            raise ValueError(
                f"“{raw[:40]}”: write the decimal point as “.” (4.0e26, not 4,0e26). A comma may only "
                "separate groups of three digits, as in 1,000,000."
            )
    for separator in (",", "_", "\u202f", "\u2009", "\u00a0"):
        cleaned = cleaned.replace(separator, "")
    cleaned = re.sub(r"\s*FLOPs?$", "", cleaned, flags=re.IGNORECASE)
    cleaned = re.sub(r"10([⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺]+)", lambda m: "10^" + m.group(1).translate(_SUPERSCRIPTS), cleaned)
    cleaned = _SPACE_GROUPED.sub(lambda m: m.group(1) + m.group(2).replace(" ", "") + m.group(3), cleaned)
    for pattern in _FLOP_PATTERNS:
        match = pattern.match(cleaned)
        if not match:
            continue
        groups = match.groupdict()
        mantissa = float(groups.get("m") or 1)
        exponent = int(groups.get("e") or 0)
        if abs(exponent) > 60:
            break
        value = mantissa * 10.0**exponent
        if not math.isfinite(value):
            break
        if groups.get("s") == "-" and value != 0:
            raise ValueError(
                "Training compute cannot be negative: enter the total FLOP used to train the model."
            )
        if value <= 0:
            raise ValueError(
                "Training compute must be more than zero: enter the total FLOP used to train the model."
            )
        return value
    raise ValueError(
        f"“{raw[:40]}” is not a number of FLOP the portal can read. Write it like 3.2e26 or 3.2 × 10^26."
    )


def format_flop(value):
    """Show compute back the way it is written: ``3.2 × 10^26``."""
    if value is None:
        return ""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    mantissa = value / 10**exponent
    if round(mantissa, 3) >= 10:
        mantissa /= 10
        exponent += 1
    mantissa_text = f"{mantissa:.3f}".rstrip("0").rstrip(".")
    if exponent < 4:
        return f"{value:,.0f}"
    return f"{mantissa_text} × 10^{exponent}"


# Onboarding's rows (issue 13) live in their own module; imported here so that Django finds them.
from vendors.onboarding.models import VendorApplication, VendorNameChange  # noqa: E402, F401
