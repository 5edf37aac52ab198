"""The vendor pages: who gets which page, what they cost in queries, and what bad input does."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from portal.accounts.models import Role, User
from vendors import imports
from vendors.demo import demo_pdf
from vendors.models import CustomerImport, EvidenceDocument, FrontierModel, PartnerCustomer
from vendors.tests.factories import (
    EvidenceDocumentFactory,
    FrontierModelFactory,
    PartnerCustomerFactory,
    member_of,
)

pytestmark = pytest.mark.django_db

ROLES = ["admin", "officer", "viewer", "other_admin", "agency", "anonymous"]
READ = "read"  # every member of the vendor
EDIT = "edit"  # compliance admins and officers
TEAM = "team"  # compliance admins only

# (url name, needs which object, who may open it)
PAGES = [
    ("vendors:dashboard", None, READ),
    ("vendors:model_list", None, READ),
    ("vendors:model_detail", "frontier_model", READ),
    ("vendors:customer_list", None, READ),
    ("vendors:customer_detail", "customer", READ),
    ("vendors:customer_export", None, READ),
    ("vendors:customer_import_template", None, READ),
    ("vendors:evidence_download", "document", READ),
    ("vendors:team", None, READ),
    ("vendors:profile", None, READ),
    ("vendors:model_create", None, EDIT),
    ("vendors:model_edit", "frontier_model", EDIT),
    ("vendors:model_withdraw", "frontier_model", EDIT),
    ("vendors:model_evidence_new", "frontier_model", EDIT),
    ("vendors:customer_create", None, EDIT),
    ("vendors:customer_edit", "customer", EDIT),
    ("vendors:customer_evidence_new", "customer", EDIT),
    ("vendors:customer_import", None, EDIT),
    ("vendors:team_invite", None, TEAM),
    ("vendors:team_member", "member", TEAM),
    ("vendors:profile_edit", None, TEAM),
]


def expected_status(role, needs, who):
    if role == "anonymous":
        return 302
    if role == "agency":
        return 404
    if role == "other_admin":
        # another vendor's admin has these pages for their own vendor, never for our records
        return 404 if needs else 200
    allowed = {READ: {"admin", "officer", "viewer"}, EDIT: {"admin", "officer"}, TEAM: {"admin"}}[who]
    return 200 if role in allowed else 404


@pytest.fixture
def records(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    return {
        "frontier_model": frontier_model,
        "customer": PartnerCustomerFactory(vendor=world.vendor),
        "document": EvidenceDocumentFactory(frontier_model=frontier_model),
        "member": world.viewer,
    }


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("name", "needs", "who"), PAGES, ids=[p[0].split(":")[1] for p in PAGES])
def test_role_matrix(client, world, records, role, name, needs, who):
    user = world.user(role)
    if user is not None:
        client.force_login(user)
    url = reverse(name, args=[records[needs].pk] if needs else [])
    response = client.get(url)
    expected = expected_status(role, needs, who)
    assert response.status_code == expected, f"{role} on {url}"
    if expected == 302:
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("role", ["viewer", "other_admin", "agency"])
def test_change_posts_answer_404_and_change_nothing_for_those_who_may_not(client, world, records, role):
    client.force_login(world.user(role))
    frontier_model, customer = records["frontier_model"], records["customer"]
    posts = [
        (reverse("vendors:model_edit", args=[frontier_model.pk]), {"description": "hacked"}),
        (reverse("vendors:model_withdraw", args=[frontier_model.pk]), {"reason": "hacked"}),
        (reverse("vendors:customer_edit", args=[customer.pk]), {"intended_use": "hacked"}),
        (reverse("vendors:team_member", args=[world.officer.pk]), {"action": "deactivate"}),
    ]
    if role == "viewer":
        posts += [
            (reverse("vendors:model_create"), {"name": "X", "version": "1", "training_compute_flop": "1e26"}),
            (reverse("vendors:profile_edit"), {"legal_name": "hacked"}),
        ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    frontier_model.refresh_from_db()
    customer.refresh_from_db()
    world.officer.refresh_from_db()
    assert frontier_model.release_phase == FrontierModel.ReleasePhase.REGISTERED
    assert frontier_model.description != "hacked"
    assert customer.intended_use != "hacked"
    assert world.officer.is_active
    assert FrontierModel.objects.filter(name="X").count() == 0


def test_another_vendors_lists_do_not_show_our_records(client, world, records):
    client.force_login(world.other_admin)
    assert records["frontier_model"].name not in client.get(reverse("vendors:model_list")).content.decode()
    assert records["customer"].legal_name not in client.get(reverse("vendors:customer_list")).content.decode()
    export = client.get(reverse("vendors:customer_export")).content.decode()
    assert records["customer"].legal_name not in export


# ---------------------------------------------------------------------------------------------
# Query counts: the same bound at 5 and 50 rows


@pytest.mark.parametrize("size", [5, 50])
@pytest.mark.parametrize(
    "name",
    [
        "vendors:dashboard",
        "vendors:model_list",
        "vendors:customer_list",
        "vendors:team",
        "vendors:customer_export",
    ],
)
def test_query_count_does_not_grow_with_the_list(
    client, world, settings, django_assert_max_num_queries, size, name
):
    settings.VENDOR_DASHBOARD_PANELS = []  # the registry's own cost; the review app measures its panel
    for _ in range(size):
        FrontierModelFactory(vendor=world.vendor)
        PartnerCustomerFactory(vendor=world.vendor)
        member_of(world.vendor, Role.VENDOR_VIEWER)
    client.force_login(world.officer)
    client.get(reverse(name))  # warm the content-type cache, which a cold process fills once
    with django_assert_max_num_queries(16):
        response = client.get(reverse(name))
    assert response.status_code == 200


@pytest.mark.parametrize("size", [5, 50])
def test_detail_query_count_does_not_grow_with_evidence(
    client, world, settings, django_assert_max_num_queries, size
):
    settings.VENDOR_MODEL_PANELS = []  # the registry's own cost; the review app measures its panel
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    for _ in range(size):
        EvidenceDocumentFactory(frontier_model=frontier_model)
    client.force_login(world.viewer)
    with django_assert_max_num_queries(16):
        response = client.get(reverse("vendors:model_detail", args=[frontier_model.pk]))
    assert response.content.decode().count("/download/") == size


def test_the_unread_count_is_asked_once_however_many_panels_a_page_renders(client, world, settings):
    """The dashboard renders each panel with the request, which runs the context processors again:
    the unread count is worked out once per request, not once per panel."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert len(settings.VENDOR_DASHBOARD_PANELS) >= 1
    client.force_login(world.officer)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("vendors:dashboard"))
    assert response.status_code == 200
    sql = [q["sql"] for q in queries]
    counts = [q for q in sql if '"notifications_notification"' in q and "COUNT(" in q]
    assert len(counts) == 1, counts


# ---------------------------------------------------------------------------------------------
# Models


def test_register_a_model_with_compute_written_with_a_times_sign(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:model_create"),
        {"name": "Atlas", "version": "2.0", "training_compute_flop": "3.2 × 10^26", "description": "Big"},
    )
    frontier_model = FrontierModel.objects.get(name="Atlas")
    assert response.status_code == 302
    assert response["Location"] == reverse("vendors:model_detail", args=[frontier_model.pk])
    assert frontier_model.training_compute_flop == pytest.approx(3.2e26)
    page = client.get(response["Location"]).content.decode()
    assert "3.2 × 10^26" in page
    assert "Frontier: its training compute of 3.2 × 10^26 FLOP reaches the threshold" in page
    assert "Registered by the vendor" in page  # the history row's reason
    assert world.officer.full_name in page


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "name", "This field is required."),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"training_compute_flop": "a lot"}, "training_compute_flop", "is not a number of FLOP"),
        ({"training_compute_flop": "1e999"}, "training_compute_flop", "is not a number of FLOP"),
    ],
)
def test_bad_model_input_is_shown_next_to_the_field_and_the_rest_is_kept(client, world, data, field, message):
    client.force_login(world.officer)
    post = {"name": "Atlas", "version": "2.0", "training_compute_flop": "3e26", "description": "Kept text"}
    post.update(data)
    if not data:
        post.pop("name")
    response = client.post(reverse("vendors:model_create"), post)
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    page = response.content.decode()
    assert f'id="id_{field}-error"' in page
    assert "Kept text" in page
    assert FrontierModel.objects.count() == 0


def test_duplicate_model_links_to_the_existing_one(client, world):
    existing = FrontierModelFactory(vendor=world.vendor, name="Atlas", version="2.0")
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:model_create"), {"name": "atlas", "version": "2.0", "training_compute_flop": "3e26"}
    )
    assert response.status_code == 200
    assert f'href="/vendor/models/{existing.pk}/"' in response.content.decode()


def test_edit_in_review_model_shows_reviewed_fields_fixed_and_saves_the_rest(client, world):
    frontier_model = FrontierModelFactory(
        vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.IN_REVIEW
    )
    client.force_login(world.officer)
    url = reverse("vendors:model_edit", args=[frontier_model.pk])
    page = client.get(url).content.decode()
    assert "Fixed once the model has gone to review" in page
    response = client.post(
        url,
        {
            "name": "Renamed",
            "version": "9",
            "training_compute_flop": "1e20",
            "description": "Clearer",
            "reason": "Why",
        },
    )
    assert response.status_code == 302
    frontier_model.refresh_from_db()
    assert frontier_model.description == "Clearer"
    assert frontier_model.name != "Renamed"  # disabled fields ignore what was posted
    assert FrontierModel.history.filter(id=frontier_model.pk, history_change_reason="Why").exists()


def test_withdraw_through_the_page(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    client.force_login(world.admin)
    url = reverse("vendors:model_withdraw", args=[frontier_model.pk])
    response = client.post(url, {"reason": ""})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    response = client.post(url, {"reason": "Superseded by 3.0"})
    assert response.status_code == 302
    frontier_model.refresh_from_db()
    assert frontier_model.release_phase == FrontierModel.ReleasePhase.WITHDRAWN
    page = client.get(reverse("vendors:model_detail", args=[frontier_model.pk])).content.decode()
    assert "Withdrawn by the vendor: Superseded by 3.0" in page
    assert reverse("vendors:model_withdraw", args=[frontier_model.pk]) not in page


# ---------------------------------------------------------------------------------------------
# Customers


def customer_post(**overrides):
    data = {
        "legal_name": "Great Lakes Grid Operations LLC",
        "country": "US",
        "sector": "energy",
        "registration_id": "",
        "intended_use": "Alert triage",
        "security_contact_name": "Dana",
        "security_contact_email": "dana@grid.example",
        "attestation": "on",
    }
    data.update(overrides)
    return data


def test_register_a_customer_and_see_it_in_the_list_and_history(client, world):
    client.force_login(world.officer)
    response = client.post(reverse("vendors:customer_create"), customer_post())
    customer = PartnerCustomer.objects.get()
    assert response["Location"] == reverse("vendors:customer_detail", args=[customer.pk])
    assert customer.attestation
    assert customer.attested_by == world.officer
    assert "Great Lakes Grid" in client.get(reverse("vendors:customer_list") + "?q=lakes").content.decode()
    assert (
        "Great Lakes Grid"
        not in client.get(reverse("vendors:customer_list") + "?country=CA").content.decode()
    )


def test_duplicate_customer_message_links_to_the_existing_record_and_keeps_the_input(client, world):
    existing = PartnerCustomerFactory(
        vendor=world.vendor, legal_name="Great Lakes Grid Operations", country="US"
    )
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:customer_create"), customer_post(legal_name="GREAT LAKES GRID OPERATIONS, L.L.C.")
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert f'<a class="usa-link" href="/vendor/customers/{existing.pk}/">open it</a>' in page
    assert 'id="id_legal_name-error"' in page
    assert "dana@grid.example" in page
    assert PartnerCustomer.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"legal_name": ""}, "legal_name"),
        ({"country": "XX"}, "country"),
        ({"sector": "<script>"}, "sector"),
        ({"security_contact_email": "nope"}, "security_contact_email"),
        ({"intended_use": "x" * 5001}, "intended_use"),
    ],
)
def test_bad_customer_input_is_refused_next_to_the_field(client, world, overrides, field):
    client.force_login(world.officer)
    response = client.post(reverse("vendors:customer_create"), customer_post(**overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert PartnerCustomer.objects.count() == 0


def test_frozen_customer_edit_page_fixes_name_and_country(client, world):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    customer.identity_frozen_at = customer.created_at
    customer.save()
    client.force_login(world.officer)
    url = reverse("vendors:customer_edit", args=[customer.pk])
    response = client.post(
        url, customer_post(legal_name="Renamed Corp", country="CA", intended_use="Updated use")
    )
    assert response.status_code == 302
    customer.refresh_from_db()
    assert customer.legal_name != "Renamed Corp"
    assert customer.country == "US"
    assert customer.intended_use == "Updated use"
    detail = client.get(reverse("vendors:customer_detail", args=[customer.pk]))
    page = " ".join(detail.content.decode().split())
    assert "its legal name and country are fixed. While a request for it is under review" in page
    assert "a change of its sector, intended use, ownership or security contact is an amendment" in page


# ---------------------------------------------------------------------------------------------
# Evidence


def test_attach_a_pdf_and_download_it_as_an_attachment(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    client.force_login(world.officer)
    data = demo_pdf("Card", ["line"])
    response = client.post(
        reverse("vendors:model_evidence_new", args=[frontier_model.pk]),
        {"kind": "model_card", "title": "Model card", "file": SimpleUploadedFile("card.pdf", data)},
    )
    assert response.status_code == 302
    document = EvidenceDocument.objects.get()
    client.force_login(world.viewer)
    download = client.get(reverse("vendors:evidence_download", args=[document.pk]))
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'attachment; filename="card.pdf"'
    assert download["X-Content-Type-Options"] == "nosniff"
    assert download["Content-Type"] == "application/pdf"
    assert b"".join(download.streaming_content) == data


def test_a_renamed_file_is_refused_next_to_the_file_field_and_the_title_is_kept(client, world):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:customer_evidence_new", args=[customer.pk]),
        {
            "kind": "other",
            "title": "My attestation",
            "file": SimpleUploadedFile("a.pdf", b"\x7fELF\x02\x01binary"),
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "is not a PDF or a plain-text" in page
    assert 'id="id_file-error"' in page
    assert 'value="My attestation"' in page
    assert EvidenceDocument.objects.count() == 0


def test_a_50_mb_upload_is_refused_with_a_clear_message(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    client.force_login(world.officer)
    big = SimpleUploadedFile("huge.pdf", b"%PDF-1.4\n" + b"0" * (50 * 1024 * 1024))
    response = client.post(
        reverse("vendors:model_evidence_new", args=[frontier_model.pk]),
        {"kind": "model_card", "title": "Huge", "file": big},
    )
    assert response.status_code == 200
    assert "documents can be at most 20.0 MB" in response.content.decode()
    assert EvidenceDocument.objects.count() == 0


def test_no_url_serves_the_media_directory(client, world):
    document = EvidenceDocumentFactory(frontier_model=FrontierModelFactory(vendor=world.vendor))
    client.force_login(world.admin)
    assert client.get("/media/" + document.file.name).status_code == 404


# ---------------------------------------------------------------------------------------------
# CSV import and export


def csv_upload(rows, name="customers.csv"):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(imports.COLUMN_NAMES)
    for n, overrides in enumerate(rows):
        values = {
            "legal_name": f"Imported {n} Ltd",
            "country": "DE",
            "sector": "energy",
            "registration_id": "",
            "intended_use": "SOC",
            "security_contact_name": "S",
            "security_contact_email": f"s{n}@x.example",
            "attestation": "yes",
        }
        values.update(overrides)
        writer.writerow([values[c] for c in imports.COLUMN_NAMES])
    return SimpleUploadedFile(name, out.getvalue().encode(), content_type="text/csv")


def test_import_flow_upload_preview_confirm(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:customer_import"),
        {"file": csv_upload([{}] * 1 + [{"legal_name": f"N{i}"} for i in range(49)])},
    )
    customer_import = CustomerImport.objects.get()
    assert response["Location"] == reverse("vendors:customer_import_preview", args=[customer_import.pk])
    preview = client.get(response["Location"]).content.decode()
    assert "<strong>50</strong> customer rows read" in preview
    assert "Import 50 customers" in preview
    response = client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    assert response.status_code == 302
    listing = client.get(response["Location"]).content.decode()
    assert "50 partner customers imported from customers.csv" in listing
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 50


def test_import_preview_lists_bad_rows_and_offers_no_import(client, world):
    client.force_login(world.officer)
    response = client.post(
        reverse("vendors:customer_import"),
        {"file": csv_upload([{}, {"country": "Narnia"}, {"legal_name": ""}])},
    )
    preview = client.get(response["Location"]).content.decode()
    assert "Narnia" in preview
    assert '<th scope="row">3</th>' in preview
    assert '<th scope="row">4</th>' in preview
    assert "Import 3 customers" not in preview
    customer_import = CustomerImport.objects.get()
    client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    assert PartnerCustomer.objects.count() == 0


@pytest.mark.parametrize(
    ("upload", "message"),
    [
        (SimpleUploadedFile("c.csv", "legal_name;pays\nÉlan;FR\n".encode("cp1252")), "not in UTF-8"),
        (SimpleUploadedFile("c.xlsx", b"PK\x03\x04\x14\x00"), "spreadsheet workbook"),
        (SimpleUploadedFile("c.csv", b"x" * (imports.MAX_IMPORT_BYTES + 10)), "at most 5 MB"),
    ],
)
def test_unusable_import_files_get_a_message_next_to_the_file_field(client, world, upload, message):
    client.force_login(world.officer)
    response = client.post(reverse("vendors:customer_import"), {"file": upload})
    assert response.status_code == 200
    assert message in " ".join(response.context["form"].errors["file"])
    assert CustomerImport.objects.count() == 0


def test_someone_elses_import_preview_answers_404(client, world):
    client.force_login(world.officer)
    client.post(reverse("vendors:customer_import"), {"file": csv_upload([{}])})
    customer_import = CustomerImport.objects.get()
    url = reverse("vendors:customer_import_preview", args=[customer_import.pk])
    for user in (world.admin, world.viewer, world.other_admin):
        client.force_login(user)
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    assert PartnerCustomer.objects.count() == 0


def test_export_is_a_csv_download_with_formulas_neutralised(client, world):
    PartnerCustomerFactory(vendor=world.vendor, legal_name="=cmd|' /C calc'!A0")
    client.force_login(world.viewer)
    response = client.get(reverse("vendors:customer_export"))
    assert response["Content-Disposition"] == 'attachment; filename="partner-customers.csv"'
    text = response.content.decode("utf-8-sig")
    assert "\n'=cmd|' /C calc'!A0," in text.replace('"', "")


def test_template_download_is_the_import_header(client, world):
    client.force_login(world.viewer)
    text = client.get(reverse("vendors:customer_import_template")).content.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(imports.COLUMN_NAMES)


# ---------------------------------------------------------------------------------------------
# Team and profile


def test_invite_through_the_page(client, world, mailoutbox, django_capture_on_commit_callbacks):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("vendors:team_invite"),
            {"full_name": "Nia New", "email": "nia@vendor.example", "role": "vendor_viewer"},
        )
    assert response.status_code == 302
    assert User.objects.get(email="nia@vendor.example").role == Role.VENDOR_VIEWER
    assert mailoutbox[0].to == ["nia@vendor.example"]
    assert "Invited" in client.get(reverse("vendors:team")).content.decode()


def test_invite_an_existing_address_reveals_nothing_and_adds_nobody(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("vendors:team_invite"),
        {"full_name": "Dup", "email": world.viewer.email, "role": "vendor_admin"},
    )
    assert response.status_code == 302
    world.viewer.refresh_from_db()
    assert world.viewer.role == Role.VENDOR_VIEWER


def test_the_last_admin_is_told_why_they_cannot_step_down(client, world):
    client.force_login(world.admin)
    url = reverse("vendors:team_member", args=[world.admin.pk])
    response = client.post(url, {"action": "role", "role": "vendor_viewer"})
    assert response.status_code == 200
    assert "only compliance admin" in response.content.decode()
    response = client.post(url, {"action": "deactivate"})
    assert "only compliance admin" in response.content.decode()
    world.admin.refresh_from_db()
    assert world.admin.is_active


def test_change_role_and_deactivate_through_the_page(client, world):
    client.force_login(world.admin)
    url = reverse("vendors:team_member", args=[world.viewer.pk])
    assert (
        client.post(url, {"action": "role", "role": "vendor_officer", "reason": "Promoted"}).status_code
        == 302
    )
    world.viewer.refresh_from_db()
    assert world.viewer.role == Role.VENDOR_OFFICER
    assert client.post(url, {"action": "deactivate", "deactivate-reason": "Left"}).status_code == 302
    world.viewer.refresh_from_db()
    assert not world.viewer.is_active


def test_profile_edit_keeps_history(client, world):
    client.force_login(world.admin)
    response = client.post(
        reverse("vendors:profile_edit"),
        {"legal_name": "Renamed Vendor Inc.", "primary_contact_email": "bad", "reason": "Rename"},
    )
    assert response.status_code == 200
    assert "primary_contact_email" in response.context["form"].errors
    response = client.post(
        reverse("vendors:profile_edit"), {"legal_name": "Renamed Vendor Inc.", "reason": "Rename"}
    )
    assert response.status_code == 302
    page = client.get(reverse("vendors:profile")).content.decode()
    assert "Renamed Vendor Inc." in page
    assert "Rename" in page


# ---------------------------------------------------------------------------------------------
# Dashboard panels


def sample_panel(request):
    return {"template": "vendors/_test_panel.html", "context": {"who": request.user.email}}


def empty_panel(request):
    return None


def test_dashboard_renders_panels_from_settings(client, world, settings, tmp_path):
    panel_dir = tmp_path / "templates" / "vendors"
    panel_dir.mkdir(parents=True)
    (panel_dir / "_test_panel.html").write_text('<section id="test-panel">Panel for {{ who }}</section>')
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path / "templates", *settings.TEMPLATES[0]["DIRS"]]}
    ]
    settings.VENDOR_DASHBOARD_PANELS = [f"{__name__}.sample_panel", f"{__name__}.empty_panel"]
    client.force_login(world.viewer)
    page = client.get(reverse("vendors:dashboard")).content.decode()
    assert f'<section id="test-panel">Panel for {world.viewer.email}</section>' in page


def test_a_member_of_an_unregistered_vendor_organisation_sees_why_and_nothing_else(client):
    from portal.tests.factories import vendor_user

    client.force_login(vendor_user(Role.VENDOR_ADMIN))
    response = client.get(reverse("vendors:dashboard"))
    assert response.status_code == 200
    assert "Not registered as a vendor yet" in response.content.decode()
    assert client.get(reverse("vendors:model_list")).status_code == 404
