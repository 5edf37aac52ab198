"""Import messages that say what is true: confirming a file with row errors says so (not that
someone else uploaded it), and a cell over the CSV size limit is reported on its own row."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.errors import PortalError
from vendors import imports, services
from vendors.models import CustomerImport, PartnerCustomer
from vendors.tests.test_imports import csv_file, row

pytestmark = pytest.mark.django_db


def test_confirming_a_file_with_row_errors_tells_the_uploader_to_fix_the_rows(world):
    customer_import = services.preview_customer_import(
        vendor=world.vendor,
        uploaded_file=csv_file([row(1), row(2, attestation="maybe")]),
        actor=world.officer,
    )
    assert customer_import.status == CustomerImport.Status.REJECTED
    with pytest.raises(PortalError, match="rows that need fixing"):
        services.confirm_customer_import(customer_import=customer_import, actor=world.officer)
    assert not PartnerCustomer.objects.filter(vendor=world.vendor).exists()


def test_someone_else_still_cannot_confirm_the_uploaders_file(world):
    customer_import = services.preview_customer_import(
        vendor=world.vendor,
        uploaded_file=csv_file([row(1), row(2, attestation="maybe")]),
        actor=world.officer,
    )
    with pytest.raises(PortalError, match="Only the person who uploaded"):
        services.confirm_customer_import(customer_import=customer_import, actor=world.admin)


def test_a_cell_over_the_size_limit_is_reported_on_its_own_row():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMN_NAMES)
    writer.writerow(row(1))  # row 2
    writer.writerow(row(2, intended_use="x" * (csv.field_size_limit() + 10)))  # row 3
    upload = SimpleUploadedFile("c.csv", out.getvalue().encode(), content_type="text/csv")
    with pytest.raises(PortalError, match=r"^Row 3 cannot be read"):
        imports.read_customer_csv(upload)


def test_an_oversize_cell_on_the_first_data_row_is_row_2():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMN_NAMES)
    writer.writerow(row(1, intended_use="x" * (csv.field_size_limit() + 10)))
    upload = SimpleUploadedFile("c.csv", out.getvalue().encode(), content_type="text/csv")
    with pytest.raises(PortalError, match=r"^Row 2 cannot be read"):
        imports.read_customer_csv(upload)
