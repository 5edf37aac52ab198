"""The registry's long work, run by background jobs (``portal.jobs``): large imports and exports.

Each runner looks its objects up by id, calls the service that does the work, and says what
came of it; registered with ``portal.jobs`` when the app is ready.
"""

from django.urls import reverse

from portal.errors import PortalError
from portal.jobs.models import Job
from portal.jobs.services import JobResult, register_runner


def run_customer_import(job, progress):
    from vendors import services
    from vendors.models import CustomerImport

    customer_import = CustomerImport.objects.filter(
        pk=job.params.get("customer_import_id"), vendor__organisation_id=job.organisation_id
    ).first()
    if customer_import is None:
        raise PortalError("The uploaded file is no longer available; upload it again.")
    customer_import, created = services.confirm_customer_import(
        customer_import=customer_import, actor=job.owner, progress=progress
    )
    return JobResult(
        summary=f"{len(created):,} partner customers imported from {customer_import.original_filename}.",
        link=reverse("vendors:customer_list"),
    )


def run_customer_export(job, progress):
    from vendors import imports, selectors
    from vendors.models import Vendor

    vendor = Vendor.objects.filter(
        pk=job.params.get("vendor_id"), organisation_id=job.organisation_id
    ).first()
    if vendor is None or not job.owner.is_active:
        raise PortalError("You may no longer export this vendor's customers.")
    customers = selectors.partner_customers_for(job.owner, vendor=vendor, **job.params.get("filters", {}))
    total = customers.count()
    progress(0, total, "Writing the file")

    def counted():
        for number, customer in enumerate(customers.iterator(chunk_size=1000), start=1):
            yield customer
            if number % 500 == 0:
                progress(number, total)

    content = imports.export_csv(counted()).encode("utf-8")
    return JobResult(
        summary=f"{total:,} partner customers written to partner-customers.csv.",
        content=content,
        filename="partner-customers.csv",
        content_type="text/csv; charset=utf-8",
    )


register_runner(Job.Kind.CUSTOMER_IMPORT, run_customer_import)
register_runner(Job.Kind.CUSTOMER_EXPORT, run_customer_export)
