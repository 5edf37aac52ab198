"""HTML to PDF with WeasyPrint, for documents the portal issues (letters).

WeasyPrint needs Pango (and HarfBuzz) from the operating system: on Debian or Ubuntu
``apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core``
(the Dockerfile and ``.ci/run`` install them). It is imported on first use, so the rest of
the portal runs on a machine without them; issuing a letter there fails with a message
naming what to install.

Nothing is fetched while rendering: stylesheets are read from the project's static files
and passed in, images are inline SVG. (A letter carries users' text, escaped; a renderer
that fetched addresses would still be a server-side request forgery waiting to happen.)
"""

from pathlib import Path

from django.contrib.staticfiles import finders

from portal.errors import PortalError

WEASYPRINT_MISSING = (
    "PDF documents cannot be made on this server: WeasyPrint or its system libraries are missing "
    "(install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0, see the README)."
)


def _static_text(name):
    found = finders.find(name)
    if not found:
        raise PortalError(f"The document's stylesheet {name} is missing.")
    return Path(found).read_text(encoding="utf-8")


def _refusing_fetcher(weasyprint_urls):
    class RefuseEverything(weasyprint_urls.URLFetcher):
        """Stylesheets are passed in and images are inline SVG: nothing is ever fetched."""

        def fetch(self, url, headers=None):
            raise ValueError(f"Refused to load {url[:80]!r} while rendering a document.")

    return RefuseEverything()


def html_to_pdf(html, *, stylesheets=()):
    """The PDF bytes of ``html`` (a whole document), styled by ``stylesheets`` (static file names)."""
    try:
        from weasyprint import CSS, HTML
        from weasyprint import urls as weasyprint_urls
    except (ImportError, OSError) as exc:  # OSError: Pango or HarfBuzz not found
        raise PortalError(WEASYPRINT_MISSING) from exc
    fetcher = _refusing_fetcher(weasyprint_urls)
    styles = [CSS(string=_static_text(name), url_fetcher=fetcher) for name in stylesheets]
    return HTML(string=html, base_url="about:blank", url_fetcher=fetcher).write_pdf(stylesheets=styles)
