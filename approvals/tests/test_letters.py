"""Letters as documents: issued with the act, kept as issued, a page and a PDF, attached to the mail."""

import hashlib
import io
import re

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from approvals import services
from approvals.models import Letter
from approvals.tests.enforcement_helpers import BASIS
from approvals.tests.factories import all_concur, refresh, sign, submitted
from portal.notifications import sending
from portal.notifications.models import Notification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("letters_pdf")]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def pdf_text(data):
    """The PDF's text, with its whitespace collapsed (WeasyPrint breaks lines where it must)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def stored_pdf(letter):
    with letter.pdf.open("rb") as handle:
        return handle.read()


def approved_with_conditions(world):
    access_request = submitted(world)
    sign(
        world, access_request, "DOC", "concur_with_conditions", conditions=[{"text": "Logs kept for a year."}]
    )
    sign(world, access_request, "ONCD", "concur_with_conditions", conditions=[{"text": "U.S. data only."}])
    sign(world, access_request, "OSTP")
    decision = services.record_decision(
        access_request=refresh(access_request), actor=world["doc_approver"], rationale="All concur."
    )
    return refresh(access_request), decision


def denied(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD", "non_concur", rationale="Untested controls.")
    sign(world, access_request, "OSTP")  # the last signature escalates the case by itself
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="The customer's controls were never tested.",
    )
    services.respond_to_intent_to_deny(
        access_request=refresh(access_request), actor=world["officer"], response="We disagree."
    )
    decision = services.finalise_denial(
        access_request=refresh(access_request),
        actor=world["doc_approver"],
        rationale="Controls untested; the response adds no evidence.",
    )
    return refresh(access_request), decision


def test_an_approval_issues_its_letter_as_a_pdf_with_letterhead_conditions_signatory_and_hash(world):
    access_request, decision = approved_with_conditions(world)

    letter = decision.letter
    assert letter.kind == Letter.Kind.DECISION
    assert letter.reference == f"{access_request.tracking_number}-DEC"
    assert letter.record_sha256 == decision.snapshot_sha256
    data = stored_pdf(letter)
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == letter.pdf_sha256
    assert len(data) == letter.pdf_size_bytes
    text = pdf_text(data)
    doc, oncd = world.agency("DOC"), world.agency("ONCD")
    assert doc.name in text  # the letterhead
    assert letter.reference in text
    assert access_request.tracking_number in text
    assert "approved" in text
    assert f"Logs kept for a year. {doc.name} ({doc.code})" in text
    assert f"U.S. data only. {oncd.name} ({oncd.code})" in text
    assert world["doc_approver"].full_name in text
    assert "Agency approver, DOC" in text
    assert decision.snapshot_sha256 in text.replace(" ", "")
    # the page says what the PDF says: the same rendering
    assert "Logs kept for a year." in letter.body_html
    assert decision.snapshot_sha256 in letter.body_html
    history = letter.history.get()
    assert history.history_user == world["doc_approver"]
    assert letter.reference in history.history_change_reason


def test_the_letter_never_changes_when_the_request_or_customer_changes_later(world):
    access_request, decision = approved_with_conditions(world)
    letter = decision.letter
    before = (letter.body_html, stored_pdf(letter), letter.pdf_sha256)
    customer = access_request.partner_customer
    old_name = customer.legal_name
    customer.legal_name = "Renamed Later Inc."
    customer.save()

    letter = Letter.objects.get(pk=letter.pk)
    assert (letter.body_html, stored_pdf(letter), letter.pdf_sha256) == before
    assert old_name in letter.body_html
    assert "Renamed Later" not in letter.body_html


def test_the_decision_mail_carries_the_pdf_letter(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        access_request, decision = approved_with_conditions(world)

    officer_mail = [m for m in mail.outbox if m.to == [world["officer"].email] and "approved" in m.subject]
    assert len(officer_mail) == 1
    (attachment,) = officer_mail[0].attachments
    filename, content, mimetype = attachment
    assert (filename, mimetype) == (f"{access_request.tracking_number}-DEC.pdf", "application/pdf")
    assert hashlib.sha256(content).hexdigest() == decision.letter.pdf_sha256
    assert "attached as a PDF" in officer_mail[0].body


def test_a_denial_mail_gives_the_reasons_and_both_letters_are_kept(world):
    access_request, decision = denied(world)

    row = Notification.objects.get(event="decision_denied", recipient=world["officer"])
    assert "Controls untested; the response adds no evidence." in row.body
    assert row.attachment_path == decision.letter.pdf.name
    message = sending.build_message(row)
    assert message.attachments[0][0] == f"{access_request.tracking_number}-DEC.pdf"

    intent_letter = access_request.intent_to_deny.letter
    assert intent_letter.reference == f"{access_request.tracking_number}-ITD"
    text = pdf_text(stored_pdf(intent_letter))
    assert "The customer's controls were never tested." in text
    assert "You may respond in writing until" in text
    intent_row = Notification.objects.get(event="intent_to_deny", recipient=world["officer"])
    assert intent_row.attachment_path == intent_letter.pdf.name
    assert "denied" in pdf_text(stored_pdf(decision.letter))


def test_enforcement_actions_issue_notices_attached_to_their_mail(world):
    access_request = all_concur(world, submitted(world))
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    suspension = services.suspend_model(
        frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS
    )
    services.follow_through_suspension(suspension.pk)  # (runs when the suspension commits)
    suspension.refresh_from_db()
    designation = services.designate_supply_chain_risk(
        vendor=world.vendor, actor=world["doc_approver"], **BASIS
    )

    notice = suspension.letter
    assert notice.kind == Letter.Kind.ENFORCEMENT_NOTICE
    assert re.fullmatch(r"ENF-\d{4}-\d{6}", notice.reference)
    text = pdf_text(stored_pdf(notice))
    assert BASIS["legal_basis"] in text
    assert BASIS["findings"] in text
    assert "Grants for the model suspended: 1." in text
    assert Notification.objects.get(event="model_suspended", recipient=world["officer"]).attachment_path == (
        notice.pdf.name
    )
    designation_notice = designation.letter
    assert designation_notice.kind == Letter.Kind.DESIGNATION_NOTICE
    assert "You may answer in writing until" in pdf_text(stored_pdf(designation_notice))
    row = Notification.objects.get(event="vendor_designated", recipient=world["officer"])
    assert row.attachment_filename == f"{designation_notice.reference}.pdf"


# -- pages -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "expected"),
    [("officer", 200), ("viewer", 200), ("vendor_admin", 200), ("other_officer", 404), ("doc_approver", 404)],
)
def test_vendor_letter_page_and_pdf_by_role(client, world, who, expected):
    _, decision = approved_with_conditions(world)
    reference = decision.letter.reference
    client.force_login(world[who])

    page = client.get(reverse("enforcement:letter", args=[reference]))
    pdf = client.get(reverse("enforcement:letter_pdf", args=[reference]))
    old_address = client.get(reverse("approvals:letter", args=[decision.access_request.tracking_number]))

    assert (page.status_code, pdf.status_code, old_address.status_code) == (expected, expected, expected)
    if expected == 200:
        assert decision.letter.body_html in page.content.decode()
        assert b"approvals/letter.css" in page.content
        assert b"portal/print.css" in page.content
        assert pdf["Content-Type"] == "application/pdf"
        assert b"".join(pdf.streaming_content) == stored_pdf(decision.letter)
        assert decision.letter.body_html in old_address.content.decode()


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("doc_approver", 200),
        ("oncd_reviewer", 200),
        ("auditor", 200),
        ("cisa_approver", 404),
        ("officer", 404),
    ],
)
def test_agency_letter_pages_by_role(client, world, who, expected):
    access_request, decision = approved_with_conditions(world)
    reference = decision.letter.reference
    client.force_login(world[who])

    by_reference = client.get(reverse("admin:approvals_accessrequest_letter_ref", args=[reference]))
    pdf = client.get(reverse("admin:approvals_accessrequest_letter_pdf", args=[reference]))

    # a vendor is sent to the sign-in page of the admin, which is not a 200 either
    assert by_reference.status_code == expected or (expected == 404 and by_reference.status_code == 302)
    assert pdf.status_code == expected or (expected == 404 and pdf.status_code == 302)
    if expected == 200:
        assert decision.letter.body_html in by_reference.content.decode()
        case = client.get(reverse("admin:approvals_accessrequest_change", args=[access_request.pk]))
        assert reverse("admin:approvals_accessrequest_letter_pdf", args=[reference]) in case.content.decode()


def test_an_unknown_letter_is_404(client, world):
    client.force_login(world["officer"])
    assert client.get(reverse("enforcement:letter", args=["FAR-2026-999999-DEC"])).status_code == 404
    assert client.get("/vendor/letters/..%2F..%2Fetc%2Fpasswd/pdf/").status_code == 404


def test_a_mail_whose_pdf_is_missing_is_still_sent_without_it(world, caplog):
    _, decision = approved_with_conditions(world)
    row = Notification.objects.get(event="decision_approved", recipient=world["officer"])
    decision.letter.pdf.delete(save=False)

    message = sending.build_message(row)

    assert message.attachments == []
    assert "could not be read; sent without it" in caplog.text


def test_a_server_without_pdfs_keeps_the_page_and_makes_the_pdf_from_it_on_download(client, world, settings):
    # given a server that makes no PDFs (LETTERS_PDF off, as without WeasyPrint's libraries)
    settings.LETTERS_PDF = False
    _, decision = approved_with_conditions(world)
    # then the decision stands and its letter is kept as its page, without a stored PDF
    letter = decision.letter
    assert not letter.pdf
    assert (letter.pdf_sha256, letter.pdf_size_bytes) == ("", 0)
    assert "Logs kept for a year." in letter.body_html
    client.force_login(world["officer"])
    page = client.get(reverse("enforcement:letter", args=[letter.reference]))
    assert page.status_code == 200
    # and downloading the PDF makes it from the stored page, with the same words
    response = client.get(reverse("enforcement:letter_pdf", args=[letter.reference]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = pdf_text(response.content)
    assert letter.reference in text
    assert "Logs kept for a year." in text
