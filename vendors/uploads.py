"""Checking uploaded documents and serving them back.

Evidence files are PDF or plain text only. The type is decided from the content, never from
the name or the browser's claimed type: a PDF has a PDF's structure (the ``%PDF-1.x`` header,
numbered objects, and a ``startxref`` and ``%%EOF`` trailer at its end); text is valid UTF-8
without NUL or other binary control bytes, and is not markup or a script (no HTML, SVG or XML
document, no ``<script>``, no ``#!`` line), whatever it is named. Files are stored with Django's
default storage under ``MEDIA_ROOT``, which no URL serves; they leave only through :func:`document_response`,
called by views that have already checked permission with ``get_visible_or_404``.
"""

import codecs
import hashlib
import os
import re

from django.http import FileResponse, Http404

from portal.errors import PortalError

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
PDF = "application/pdf"
TEXT = "text/plain"
_TEXT_SNIFF_BYTES = 1024 * 1024
# Control characters that never appear in a text document (tab, newlines and form feed do).
_BINARY_BYTES = bytes(set(range(32)) - {9, 10, 12, 13})


_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_PDF_OBJECT = re.compile(rb"[0-9]+\s+[0-9]+\s+obj\b")
_PDF_TRAILER = re.compile(rb"startxref\s+[0-9]+\s+%%EOF\s*$")
_TAIL_BYTES = 2048
# What makes "text" a web page, an image that runs script, or a program.
_MARKUP_START = re.compile(r"^\s*(<[a-z!?/]|#!)")
_MARKUP_ANYWHERE = ("<script", "<svg", "<html", "<iframe", "<object", "<embed", "<body", "javascript:")
_OVERLAP = max(len(m) for m in _MARKUP_ANYWHERE)


def _is_pdf(head, tail):
    return bool(_PDF_HEADER.match(head) and _PDF_OBJECT.search(head) and _PDF_TRAILER.search(tail))


def _megabytes(size):
    return f"{size / (1024 * 1024):.1f} MB"


def validate_document(uploaded_file, *, field="file"):
    """Check an uploaded document; return ``(content_type, sha256, size)``.

    Raises ``PortalError`` (on ``field``) for an empty file, one over the size limit, or one
    whose content is neither a PDF nor UTF-8 text, whatever its name says.
    """
    if uploaded_file is None:
        raise PortalError("Choose a file to upload.", field=field)
    size = uploaded_file.size or 0
    if size == 0:
        raise PortalError("The file is empty. Choose a PDF or a plain-text file.", field=field)
    if size > MAX_DOCUMENT_BYTES:
        raise PortalError(
            f"The file is {_megabytes(size)}; documents can be at most {_megabytes(MAX_DOCUMENT_BYTES)}. "
            "Split it or compress it and try again.",
            field=field,
        )
    digest = hashlib.sha256()
    head, tail, text_seen = b"", b"", ""
    text_ok, markup = True, False
    decoder = codecs.getincrementaldecoder("utf-8")()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
        if len(head) < _TEXT_SNIFF_BYTES:
            head += chunk[: _TEXT_SNIFF_BYTES - len(head)]
        tail = (tail + chunk)[-_TAIL_BYTES:]
        if text_ok:
            if len(chunk.translate(None, _BINARY_BYTES)) != len(chunk):
                text_ok = False
            else:
                try:
                    decoded = decoder.decode(chunk)
                except UnicodeDecodeError:
                    text_ok = False
                else:
                    window = (text_seen + decoded).lower()
                    if not text_seen and _MARKUP_START.match(window.lstrip("\ufeff")):
                        markup = True
                    markup = markup or any(marker in window for marker in _MARKUP_ANYWHERE)
                    text_seen = window[-_OVERLAP:] or text_seen or " "
    if text_ok:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            text_ok = False
    uploaded_file.seek(0)
    if head.startswith(b"%PDF-"):
        if not _is_pdf(head, tail):
            raise PortalError(
                f"{_name(uploaded_file)} starts like a PDF but is not a whole PDF document (no objects, or "
                "no trailer at its end). Save or export it again as PDF and upload that.",
                field=field,
            )
        content_type = PDF
    elif text_ok and markup:
        raise PortalError(
            f"{_name(uploaded_file)} is a web page, an SVG image or a script, not plain text. "
            "Upload the document as a PDF or as plain text.",
            field=field,
        )
    elif text_ok:
        content_type = TEXT
    else:
        raise PortalError(
            f"{_name(uploaded_file)} is not a PDF or a plain-text (UTF-8) file, whatever its name says. "
            "Upload the document as a PDF or as plain text.",
            field=field,
        )
    return content_type, digest.hexdigest(), size


def _name(uploaded_file):
    return os.path.basename(getattr(uploaded_file, "name", "") or "") or "The file"


def safe_download_name(name, content_type):
    """A file name for Content-Disposition: no path, no control characters, the right extension."""
    base = os.path.basename(name or "document").replace('"', "").strip() or "document"
    base = "".join(ch for ch in base if ch.isprintable())
    stem, _ = os.path.splitext(base)
    return f"{stem or 'document'}{'.pdf' if content_type == PDF else '.txt'}"


def document_response(file_field, *, filename, content_type):
    """Send a stored document as a download, never rendered inline by the browser."""
    try:
        handle = file_field.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("The document's file is missing.") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=safe_download_name(filename, content_type),
        content_type=content_type if content_type in {PDF, TEXT} else "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
