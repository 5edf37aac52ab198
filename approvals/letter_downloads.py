"""The download of a letter's PDF, shared by the vendor pages and the agency dashboard."""

from django.http import HttpResponse

from approvals.services.letters import letter_pdf_bytes
from portal.errors import PortalError
from vendors.uploads import PDF, document_response, safe_download_name


def letter_pdf_response(letter):
    """The letter's PDF as a download: the one stored at issue, else made now from the page
    stored then. A server that cannot make PDFs answers with a page that says so (503)."""
    if letter.pdf:
        return document_response(letter.pdf, filename=letter.pdf_filename, content_type=PDF)
    try:
        content = letter_pdf_bytes(letter)
    except (PortalError, OSError) as exc:
        message = str(exc) if isinstance(exc, PortalError) else "The letter's PDF file is missing."
        return HttpResponse(
            f"{message} The letter itself is on its page.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    response = HttpResponse(content, content_type=PDF)
    response["Content-Disposition"] = f'attachment; filename="{safe_download_name(letter.pdf_filename, PDF)}"'
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
