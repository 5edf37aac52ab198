"""CSV import of partner customers: reading, preview, rejection, all-or-nothing, 5,000 rows; export."""

import csv
import io
import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from portal.errors import PortalError
from portal.permissions import has_object_permission
from vendors import imports, services
from vendors.models import CustomerImport, PartnerCustomer
from vendors.tests.factories import PartnerCustomerFactory

pytestmark = pytest.mark.django_db

HEADER = imports.COLUMN_NAMES


def row(n, **overrides):
    values = {
        "legal_name": f"Customer {n} Holdings",
        "country": "US",
        "sector": "energy",
        "registration_id": f"REG-{n}",
        "intended_use": "SOC alert triage",
        "security_contact_name": "Sam Sec",
        "security_contact_email": f"sec{n}@c{n}.example",
        "attestation": "yes",
    }
    values.update(overrides)
    return [values[c] for c in HEADER]


def csv_file(rows, *, header=HEADER, name="customers.csv", encoding="utf-8"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return SimpleUploadedFile(name, out.getvalue().encode(encoding), content_type="text/csv")


def test_template_reads_back_as_one_good_row():
    rows = imports.read_customer_csv(SimpleUploadedFile("t.csv", imports.template_csv().encode()))
    assert len(rows) == 1
    assert rows[0]["row"] == 2
    assert rows[0]["attestation"] is True
    assert rows[0]["problems"] == []


def test_countries_and_sectors_are_read_the_way_people_write_them():
    rows = imports.read_customer_csv(
        csv_file(
            [
                row(1, country="Germany", sector="Energy"),
                row(2, country="gbr", sector="Healthcare and public health"),
                row(3, country="us", attestation="No"),
            ]
        )
    )
    assert [(r["country"], r["sector"]) for r in rows] == [
        ("DE", "energy"),
        ("GB", "healthcare"),
        ("US", "energy"),
    ]
    assert rows[2]["attestation"] is False


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("c.csv", b""), "empty"),
        (SimpleUploadedFile("c.csv", "legal_name,pays\nÉlan,FR\n".encode("cp1252")), "not in UTF-8"),
        (SimpleUploadedFile("c.csv", "legal_name\n".encode("utf-16")), "UTF-16"),
        (SimpleUploadedFile("c.xlsx.csv", b"PK\x03\x04\x14\x00\x06\x00"), "spreadsheet workbook"),
        (SimpleUploadedFile("c.csv", b"%PDF-1.4 not a csv"), "not a CSV file"),
        (SimpleUploadedFile("c.csv", b"name,country\nAcme,US\n"), "missing: legal_name, sector"),
        (SimpleUploadedFile("c.csv", (",".join(HEADER) + "\n").encode()), "no customers"),
        (SimpleUploadedFile("c.csv", b"x" * (imports.MAX_IMPORT_BYTES + 1)), "at most 5 MB"),
    ],
)
def test_files_that_cannot_be_used_are_refused_with_a_clear_message(upload, message):
    with pytest.raises(PortalError, match=message) as exc:
        imports.read_customer_csv(upload)
    assert exc.value.field == "file"


def test_preview_lists_every_bad_row_with_its_number_and_reason_and_imports_nothing(world):
    # given a file with good rows and four kinds of bad row (the header is row 1)
    existing = PartnerCustomerFactory(vendor=world.vendor, legal_name="Already Here Inc.", country="US")
    upload = csv_file(
        [
            row(1),  # row 2: good
            row(2, country="Atlantis"),  # row 3
            row(3, security_contact_email="nobody"),  # row 4
            row(4, legal_name="ALREADY HERE"),  # row 5: duplicate of the registry
            row(1, legal_name="Customer 1 Holdings, Inc."),  # row 6: duplicate of row 2
            row(6, attestation="maybe", sector=""),  # row 7: two problems
        ]
    )
    # when it is previewed
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=upload, actor=world.officer
    )
    # then every problem is listed by row, the file is rejected and nothing was imported
    assert customer_import.status == CustomerImport.Status.REJECTED
    assert customer_import.total_rows == 6
    assert customer_import.error_count == 5
    by_row = {}
    for number, message in customer_import.errors:
        by_row.setdefault(number, []).append(message)
    assert sorted(by_row) == [3, 4, 5, 6, 7]
    assert by_row[3][0] == "Column country (“Atlantis”): “Atlantis” is not an ISO 3166-1 country."
    assert by_row[4][0].startswith("Column security_contact_email (“nobody”): Enter a valid e-mail")
    assert f"/vendor/customers/{existing.pk}/" in by_row[5][0]
    assert "row 2" in by_row[6][0]
    assert sorted(by_row[7]) == [
        "Column attestation (“maybe”): must be yes or no.",
        "Column sector (empty): Enter the sector.",
    ]
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 1
    assert not customer_import.file


def test_a_clean_file_is_imported_all_at_once_with_history_and_permissions(world):
    upload = csv_file([row(n) for n in range(1, 4)])
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=upload, actor=world.officer
    )
    assert customer_import.status == CustomerImport.Status.PREVIEWED
    assert PartnerCustomer.objects.count() == 0

    customer_import, _ = services.confirm_customer_import(
        customer_import=customer_import, actor=world.officer
    )
    assert customer_import.status == CustomerImport.Status.IMPORTED
    assert customer_import.imported_count == 3
    customers = list(PartnerCustomer.objects.filter(vendor=world.vendor).order_by("legal_name"))
    assert [c.legal_name for c in customers] == [
        "Customer 1 Holdings",
        "Customer 2 Holdings",
        "Customer 3 Holdings",
    ]
    assert customers[0].normalised_name == "customer 1 holdings"
    assert customers[0].attested_by == world.officer
    history = PartnerCustomer.history.filter(id=customers[0].pk).get()
    assert history.history_user == world.officer
    assert history.history_change_reason == "Imported from customers.csv"
    assert has_object_permission(world.viewer, customers[0], "view")
    assert has_object_permission(world.officer, customers[0], "change")
    assert not has_object_permission(world.other_admin, customers[0], "view")
    with pytest.raises(PortalError, match="already imported"):
        services.confirm_customer_import(customer_import=customer_import, actor=world.officer)


def test_confirmation_rechecks_and_imports_nothing_if_the_registry_changed_meanwhile(world):
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=csv_file([row(1), row(2)]), actor=world.officer
    )
    services.register_partner_customer(
        vendor=world.vendor,
        actor=world.admin,
        legal_name="Customer 2 Holdings",
        country="US",
        sector="energy",
        intended_use="x",
        security_contact_name="y",
        security_contact_email="z@z.example",
    )
    with pytest.raises(PortalError, match="Nothing was imported") as exc:
        services.confirm_customer_import(customer_import=customer_import, actor=world.officer)
    assert any(m.startswith("Row 3:") for m in exc.value.messages)
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 1
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.PREVIEWED


def test_only_the_uploader_confirms_and_viewers_cannot_upload(world):
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=csv_file([row(1)]), actor=world.officer
    )
    with pytest.raises(PortalError):
        services.confirm_customer_import(customer_import=customer_import, actor=world.admin)
    with pytest.raises(PortalError, match="Viewers"):
        services.preview_customer_import(
            vendor=world.vendor, uploaded_file=csv_file([row(1)]), actor=world.viewer
        )
    assert PartnerCustomer.objects.count() == 0


def test_five_thousand_rows_preview_and_import_quickly_with_few_queries(world, django_assert_max_num_queries):
    # given a 5,000-row file, with 300 customers already registered
    for n in range(300):
        PartnerCustomerFactory(vendor=world.vendor, legal_name=f"Existing {n} Ltd")
    upload = csv_file([row(n, country=["US", "CA", "DE", "JP"][n % 4]) for n in range(5000)])
    # when it is previewed: one query for the existing names, not one per row
    started = time.perf_counter()
    with django_assert_max_num_queries(25):
        customer_import = services.preview_customer_import(
            vendor=world.vendor, uploaded_file=upload, actor=world.officer
        )
    preview_seconds = time.perf_counter() - started
    assert customer_import.error_count == 0
    # then the import creates all 5,000 with history and permissions in bounded queries
    started = time.perf_counter()
    # (SQLite caps a statement at 999 parameters, so its batches are ~60 rows; PostgreSQL's are 500.)
    with django_assert_max_num_queries(300):
        _, created = services.confirm_customer_import(customer_import=customer_import, actor=world.officer)
    import_seconds = time.perf_counter() - started
    assert len(created) == 5000
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 5300
    assert PartnerCustomer.history.filter(history_change_reason="Imported from customers.csv").count() == 5000
    last = PartnerCustomer.objects.get(vendor=world.vendor, legal_name="Customer 4999 Holdings")
    assert has_object_permission(world.viewer, last, "view")
    print(f"5,000 rows: preview {preview_seconds:.2f}s, import {import_seconds:.2f}s")
    assert preview_seconds < 10
    assert import_seconds < 30


def test_a_bad_row_among_five_thousand_refuses_the_whole_file(world):
    rows = [row(n) for n in range(5000)]
    rows[4321] = row(4321, legal_name="")
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=csv_file(rows), actor=world.officer
    )
    assert customer_import.status == CustomerImport.Status.REJECTED
    assert customer_import.errors == [[4323, "Column legal_name (empty): Enter the legal name."]]
    assert PartnerCustomer.objects.count() == 0


def test_export_neutralises_formula_cells_and_reads_back_in_the_same_columns(world):
    PartnerCustomerFactory(
        vendor=world.vendor,
        legal_name="=cmd|' /C calc'!A0",
        intended_use="+SUM(1,2)",
        registration_id="@import",
        security_contact_name="-2+3",
    )
    PartnerCustomerFactory(vendor=world.vendor, legal_name="Plain Corp", intended_use="\tTabbed")
    text = imports.export_csv(PartnerCustomer.objects.order_by("legal_name"))
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == HEADER
    cells = [cell for r in rows[1:] for cell in r]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells)
    assert "'=cmd|' /C calc'!A0" in cells
    assert "'\tTabbed" in cells


@pytest.mark.parametrize("value", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_neutralise_prefixes_every_formula_start(value):
    assert imports.neutralise(value) == "'" + value


def test_neutralise_leaves_ordinary_values_alone():
    assert imports.neutralise("Acme = good") == "Acme = good"
    assert imports.neutralise(None) == ""
