"""Partner customers: field cleaning, duplicates, registration and edits."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from portal.audit.versions import require_current
from portal.errors import PortalError
from vendors import amendments
from vendors.choices import COUNTRY_NAMES
from vendors.models import (
    PartnerCustomer,
    Vendor,
    normalise_name,
)
from vendors.services._common import (
    CUSTOMER_FIELDS,
    CUSTOMER_IDENTITY_FIELDS,
    _reason,
    _require_change,
    _require_editor,
    _save,
    share_with_vendor,
)


def duplicate_customer_message(existing):
    """The refusal for a second customer with the same normalised name and country."""
    return format_html(
        '{} ({}) is already one of your partner customers: <a class="usa-link" href="{}">open it</a>.',
        existing.legal_name,
        existing.country_name,
        reverse("vendors:customer_detail", args=[existing.pk]),
    )


def clean_customer_fields(data):
    """Normalise and check one customer's fields; return ``(cleaned, [(field, message), ...])``.

    Shared by the form services and the CSV import, so both refuse the same things the same way.
    """
    from django.core.validators import validate_email

    from vendors.choices import Sector

    cleaned = {}
    problems = []
    limits = {f: PartnerCustomer._meta.get_field(f).max_length for f in CUSTOMER_FIELDS}
    for field in CUSTOMER_FIELDS:
        value = data.get(field, "")
        value = "" if value is None else str(value)
        value = value.strip() if field in ("intended_use", "ownership") else " ".join(value.split())
        cleaned[field] = value
    labels = {
        "legal_name": "legal name",
        "country": "country",
        "sector": "sector",
        "intended_use": "intended use",
        "security_contact_name": "security contact's name",
        "security_contact_email": "security contact's e-mail address",
    }
    for field, label in labels.items():
        if not cleaned[field]:
            problems.append((field, f"Enter the {label}."))
    for field, limit in limits.items():
        if field in {"country", "sector"}:
            continue
        if limit and len(cleaned[field]) > limit:
            problems.append(
                (field, f"The {field.replace('_', ' ')} is too long: at most {limit} characters.")
            )
    if len(cleaned["ownership"]) > 2000:
        problems.append(("ownership", "The ownership is too long: at most 2,000 characters."))
    if len(cleaned["intended_use"]) > 5000:
        problems.append(("intended_use", "The intended use is too long: at most 5,000 characters."))
    if cleaned["legal_name"] and not normalise_name(cleaned["legal_name"]):
        problems.append(("legal_name", "The legal name needs at least one letter or digit."))
    if cleaned["country"]:
        typed = cleaned["country"]
        cleaned["country"] = typed.upper()
        if cleaned["country"] not in COUNTRY_NAMES:
            problems.append(("country", f"“{typed[:40]}” is not an ISO 3166-1 country."))
    if cleaned["sector"] and cleaned["sector"] not in Sector.values:
        problems.append(("sector", f"“{cleaned['sector'][:40]}” is not one of the sectors."))
    if cleaned["security_contact_email"]:
        cleaned["security_contact_email"] = cleaned["security_contact_email"].lower()
        try:
            validate_email(cleaned["security_contact_email"])
        except ValidationError:
            problems.append(
                ("security_contact_email", "Enter a valid e-mail address, like name@example.com.")
            )
    return cleaned, problems


def _in_cell(column, value, message):
    """An import error names its column and what was typed there: the row is named beside it."""
    typed = " ".join(str(value if value is not None else "").split())
    shown = f"“{typed[:40]}{'…' if len(typed) > 40 else ''}”" if typed else "empty"
    return f"Column {column} ({shown}): {message}"


def _raise_problems(problems):
    if problems:
        raise PortalError(problems[0][1], field=problems[0][0], messages=[m for _, m in problems[:1]])


def _customer_duplicate(vendor, legal_name, country, exclude_pk=None):
    existing = PartnerCustomer.objects.filter(
        vendor=vendor, normalised_name=normalise_name(legal_name), country=country
    )
    if exclude_pk:
        existing = existing.exclude(pk=exclude_pk)
    existing = existing.first()
    if existing is not None:
        raise PortalError(duplicate_customer_message(existing), field="legal_name")


@transaction.atomic
def register_partner_customer(*, vendor, actor, attestation=False, reason="", **fields):
    """Register a partner customer of ``vendor``; unique by normalised name and country."""
    vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
    _require_editor(actor, vendor)
    unknown = set(fields) - set(CUSTOMER_FIELDS)
    if unknown:
        raise PortalError(f"Unknown fields: {', '.join(sorted(unknown))}.")
    cleaned, problems = clean_customer_fields(fields)
    _raise_problems(problems)
    _customer_duplicate(vendor, cleaned["legal_name"], cleaned["country"])
    now = timezone.now()
    customer = PartnerCustomer(vendor=vendor, created_by=actor, created_at=now, updated_at=now, **cleaned)
    if attestation:
        customer.attestation = True
        customer.attested_by = actor
        customer.attested_at = now
    try:
        with transaction.atomic():
            _save(customer, actor=actor, reason=_reason(reason, "Registered by the vendor"))
    except IntegrityError:
        raise PortalError(
            "This customer is already registered for your vendor.", field="legal_name"
        ) from None
    share_with_vendor(customer, vendor)
    return customer


@transaction.atomic
def update_partner_customer(
    *, partner_customer, actor, reason="", attestation=None, expected_version=None, **changes
):
    """Edit a customer; its legal name and country are fixed once it is in a submitted request.

    A change to a material fact while the customer is held by a request under review or an active
    grant is an amendment (``vendors.amendments``)."""
    Vendor.objects.select_for_update(no_key=True).filter(pk=partner_customer.vendor_id).first()
    amendments.holders(partner_customer, lock=True)
    customer = (
        PartnerCustomer.objects.select_for_update().select_related("vendor").get(pk=partner_customer.pk)
    )
    vendor = customer.vendor
    _require_change(actor, customer, vendor)
    require_current(customer, expected_version)
    unknown = set(changes) - set(CUSTOMER_FIELDS)
    if unknown:
        raise PortalError(f"These cannot be changed here: {', '.join(sorted(unknown))}.")
    merged = {f: getattr(customer, f) for f in CUSTOMER_FIELDS}
    merged.update(changes)
    cleaned, problems = clean_customer_fields(merged)
    _raise_problems(problems)
    changed = [f for f in CUSTOMER_FIELDS if getattr(customer, f) != cleaned[f]]
    if attestation is not None and bool(attestation) != customer.attestation:
        changed += ["attestation", "attested_by", "attested_at"]
    if not changed:
        raise PortalError("Nothing was changed.")
    if customer.identity_frozen:
        frozen = [f for f in changed if f in CUSTOMER_IDENTITY_FIELDS]
        if frozen:
            raise PortalError(
                f"The {frozen[0].replace('_', ' ')} cannot change: this customer is in a submitted access "
                "request, and the agencies review the customer as it was submitted.",
                field=frozen[0],
            )
    if {"legal_name", "country"} & set(changed):
        _customer_duplicate(vendor, cleaned["legal_name"], cleaned["country"], exclude_pk=customer.pk)
    before = {f: getattr(customer, f) for f in CUSTOMER_FIELDS}
    for field in CUSTOMER_FIELDS:
        setattr(customer, field, cleaned[field])
    if "attestation" in changed:
        customer.attestation = bool(attestation)
        customer.attested_by = actor if attestation else None
        customer.attested_at = timezone.now() if attestation else None
    customer.updated_at = timezone.now()
    try:
        with transaction.atomic():
            _save(
                customer,
                actor=actor,
                reason=_reason(reason, "Edited by the vendor"),
                update_fields=[*changed, "updated_at"],
            )
    except IntegrityError:
        raise PortalError("Another customer already has this name and country.", field="legal_name") from None
    amendments.announce(customer, actor=actor, reason=reason, before=before)
    return customer
