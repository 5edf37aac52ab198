"""portal/pdf.py: HTML to PDF that fetches nothing, and says what to install when it cannot run."""

import sys
import urllib.request

import pytest

from portal.errors import PortalError
from portal.pdf import html_to_pdf


def test_a_document_is_rendered_without_fetching_anything(monkeypatch):
    opened = []

    def refuse(self, *args, **kwargs):
        opened.append(args)
        raise AssertionError("the renderer tried to fetch something")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)
    html = (
        '<!DOCTYPE html><html><head><link rel="stylesheet" href="file:///etc/passwd"></head>'
        '<body><p>Decision letter</p><img src="http://198.51.100.7/track.png" alt=""></body></html>'
    )
    pdf = html_to_pdf(html, stylesheets=["approvals/letter.css"])
    assert pdf.startswith(b"%PDF-")
    assert opened == []


def test_without_weasyprint_the_refusal_names_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "weasyprint", None)  # import weasyprint → ImportError
    with pytest.raises(PortalError, match=r"libraries are missing \(install libpango-1\.0-0"):
        html_to_pdf("<p>x</p>")
