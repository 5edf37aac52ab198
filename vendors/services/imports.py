"""Bulk import of partner customers: check, preview, confirm."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from portal.audit.history import stamp
from portal.errors import PortalError
from portal.permissions import grant, has_object_permission
from vendors.choices import COUNTRY_NAMES
from vendors.models import (
    PartnerCustomer,
    Vendor,
    normalise_name,
)
from vendors.services._common import _reason, _require_editor, _require_member_of, _share_many_with_vendor
from vendors.services.customers import _in_cell, clean_customer_fields

WRITE_BATCH = 500


def import_partner_customers(*, vendor, rows, actor, reason="", progress=None):
    """Create every customer in ``rows`` (dicts of CUSTOMER_FIELDS plus ``attestation``), or none.

    Every row is checked first, against the database and against the other rows; any defect
    refuses the whole import with one message per bad row (``row`` numbers as in the file).
    ``progress(done, total, phase)``, if given, hears how far the writing is (a background job's
    progress bar). Returns the created customers.
    """
    from simple_history.utils import bulk_create_with_history

    with transaction.atomic():
        vendor = Vendor.objects.select_for_update().get(pk=vendor.pk)
        _require_editor(actor, vendor)
        if progress:
            progress(0, len(rows), "Checking every row")
        checked, errors = check_customer_rows(vendor, rows)
        if errors:
            raise PortalError(
                f"Nothing was imported: {len(errors)} row{'s' if len(errors) != 1 else ''} need fixing.",
                messages=[f"Row {row}: {message}" for row, message in errors],
            )
        if not checked:
            raise PortalError("The file has no customers to import.")
        now = timezone.now()
        reason = _reason(reason, "Imported by the vendor from a CSV file")
        customers = []
        for cleaned, attestation in checked:
            customer = PartnerCustomer(
                vendor=vendor,
                normalised_name=normalise_name(cleaned["legal_name"]),
                created_by=actor,
                created_at=now,
                updated_at=now,
                attestation=attestation,
                attested_by=actor if attestation else None,
                attested_at=now if attestation else None,
                **cleaned,
            )
            stamp(customer, actor=actor, reason=reason)
            customers.append(customer)
        if progress:
            progress(0, len(customers), "Writing the customers")
        created = []
        try:
            with transaction.atomic():
                # Written a batch at a time only so that the progress can be told; all in one
                # transaction, so a failure leaves none of them.
                for start in range(0, len(customers), WRITE_BATCH):
                    created += bulk_create_with_history(
                        customers[start : start + WRITE_BATCH],
                        PartnerCustomer,
                        batch_size=WRITE_BATCH,
                        default_user=actor,
                        default_change_reason=reason,
                    )
                    if progress:
                        progress(len(created), len(customers))
        except IntegrityError:
            raise PortalError(
                "Nothing was imported: some of these customers were registered while you were importing. "
                "Upload the file again to see which."
            ) from None
        if any(c.pk is None for c in created):
            created = list(
                PartnerCustomer.objects.filter(vendor=vendor, created_at=now, created_by=actor).order_by("pk")
            )
        if progress:
            progress(len(created), len(created), "Sharing them with your team")
        _share_many_with_vendor(created, vendor)
        return created


def check_customer_rows(vendor, rows):
    """Check import rows without writing: ``([(cleaned, attestation), ...], [(row, message), ...])``.

    One query loads the vendor's existing names; duplicates inside the file are found too.
    """
    existing = {
        (normalised, country): pk
        for normalised, country, pk in PartnerCustomer.objects.filter(vendor=vendor).values_list(
            "normalised_name", "country", "pk"
        )
    }
    seen = {}
    checked = []
    errors = []
    for row in rows:
        number = row.get("row")
        cleaned, problems = clean_customer_fields(row)
        if row.get("problems") or problems:
            errors.extend((number, message) for message in row.get("problems", []))
            errors.extend((number, _in_cell(field, row.get(field), message)) for field, message in problems)
            continue
        key = (normalise_name(cleaned["legal_name"]), cleaned["country"])
        if key in existing:
            errors.append(
                (
                    number,
                    f"{cleaned['legal_name']} ({COUNTRY_NAMES[cleaned['country']]}) is already one of your "
                    f"partner customers (/vendor/customers/{existing[key]}/).",
                )
            )
            continue
        if key in seen:
            errors.append(
                (number, f"{cleaned['legal_name']} ({cleaned['country']}) is also on row {seen[key]}.")
            )
            continue
        seen[key] = number
        checked.append((cleaned, bool(row.get("attestation"))))
    return checked, errors


MAX_LISTED_IMPORT_ERRORS = 2000


@transaction.atomic
def preview_customer_import(*, vendor, uploaded_file, actor):
    """Read and check an uploaded CSV without importing; keep the file for the confirmation.

    A file that cannot be read at all raises ``PortalError`` and leaves nothing behind; a
    readable file gives a ``CustomerImport`` listing every bad row (none means it can be imported).
    """
    import hashlib

    from vendors.imports import read_customer_csv
    from vendors.models import CustomerImport

    vendor = Vendor.objects.get(pk=vendor.pk)
    _require_editor(actor, vendor)
    rows = read_customer_csv(uploaded_file)
    _, errors = check_customer_rows(vendor, rows)
    uploaded_file.seek(0)
    digest = hashlib.sha256()
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    customer_import = CustomerImport(
        vendor=vendor,
        original_filename=(getattr(uploaded_file, "name", "") or "customers.csv").rsplit("/", 1)[-1][:255],
        sha256=digest.hexdigest(),
        total_rows=len(rows),
        error_count=len({row for row, _ in errors}),
        errors=[[row, message] for row, message in errors[:MAX_LISTED_IMPORT_ERRORS]],
        uploaded_by=actor,
        status=CustomerImport.Status.PREVIEWED if not errors else CustomerImport.Status.REJECTED,
    )
    if not errors:
        customer_import.file.save(f"{customer_import.sha256[:16]}.csv", uploaded_file, save=False)
    customer_import.save()
    grant("view", actor, customer_import)
    if not errors:
        grant("change", actor, customer_import)
    return customer_import


def confirm_customer_import(*, customer_import, actor, progress=None):
    """Import a previewed file, all rows or none, re-checking it against the registry as it is now.

    Run in the request for a small file; a large one runs in a background job
    (``start_customer_import_job``), which passes its ``progress``."""
    from vendors.imports import read_customer_csv
    from vendors.models import CustomerImport

    with transaction.atomic():
        locked = (
            CustomerImport.objects.select_for_update().select_related("vendor").get(pk=customer_import.pk)
        )
        _require_importable(locked, actor)
        try:
            locked.file.open("rb")
        except (FileNotFoundError, OSError, ValueError):
            raise PortalError("The uploaded file is no longer available; upload it again.") from None
        try:
            rows = read_customer_csv(locked.file)
        finally:
            locked.file.close()
        created = import_partner_customers(
            vendor=locked.vendor,
            rows=rows,
            actor=actor,
            reason=f"Imported from {locked.original_filename}",
            progress=progress,
        )
        locked.status = CustomerImport.Status.IMPORTED
        locked.imported_count = len(created)
        locked.imported_at = timezone.now()
        locked.save(update_fields=["status", "imported_count", "imported_at"])
        return locked, created


def _require_importable(customer_import, actor):
    from vendors.models import CustomerImport

    # The uploader hears about the file's state first: a file with row errors is never given
    # the "change" permission, and being told someone else uploaded it would be untrue.
    if customer_import.uploaded_by_id != actor.pk or not has_object_permission(
        actor, customer_import, "view"
    ):
        raise PortalError("Only the person who uploaded this file may import it.")
    if customer_import.status == CustomerImport.Status.IMPORTED:
        raise PortalError(f"This file was already imported ({customer_import.imported_count} customers).")
    if customer_import.status != CustomerImport.Status.PREVIEWED:
        raise PortalError("This file has rows that need fixing; fix them and upload it again.")
    if not has_object_permission(actor, customer_import, "change"):
        raise PortalError("You can no longer import this file; upload it again.")


def background_import_rows():
    """Files with more rows than this are imported by a background job, not in the request."""
    from django.conf import settings

    return getattr(settings, "CUSTOMER_IMPORT_BACKGROUND_ROWS", 300)


@transaction.atomic
def start_customer_import_job(*, customer_import, actor):
    """Import a previewed file in the background: refused at once for what would refuse the
    import itself; the job re-checks everything when it runs. Asking twice gives the same job."""
    from portal.jobs.models import Job
    from portal.jobs.selectors import active_job_for
    from portal.jobs.services import start_job
    from vendors.models import CustomerImport

    locked = CustomerImport.objects.select_for_update().select_related("vendor").get(pk=customer_import.pk)
    _require_editor(actor, locked.vendor)
    _require_importable(locked, actor)
    running = active_job_for(actor, kind=Job.Kind.CUSTOMER_IMPORT, customer_import_id=locked.pk)
    if running is not None:
        return running
    return start_job(
        kind=Job.Kind.CUSTOMER_IMPORT,
        title=f"Import of {locked.original_filename}",
        owner=actor,
        params={"customer_import_id": locked.pk},
        total=locked.total_rows,
        viewers=[locked.vendor.members_group],
    )


def background_export_rows():
    """Exports of more customers than this are written by a background job."""
    from django.conf import settings

    return getattr(settings, "CUSTOMER_EXPORT_BACKGROUND_ROWS", 5000)


def start_customer_export_job(*, vendor, actor, filters, count):
    """Write the customer list (as filtered) to a CSV file in the background."""
    from portal.jobs.models import Job
    from portal.jobs.services import start_job

    _require_member_of(actor, vendor)
    return start_job(
        kind=Job.Kind.CUSTOMER_EXPORT,
        title=f"Export of {count:,} partner customers",
        owner=actor,
        params={"vendor_id": vendor.pk, "filters": {k: v for k, v in filters.items() if v}},
        total=count,
        viewers=[vendor.members_group],
    )
