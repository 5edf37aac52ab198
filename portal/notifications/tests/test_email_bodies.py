"""One body per e-mail event: the HTML part carries the same words as the text part.

Every event's words are written once, in ``notifications/email/<event>.txt``; the HTML part
is rendered from the same template (``render_email``) and shown through ``text_to_html``.
The walk below renders every event template that exists, in every app, with a value for
each variable it uses, and compares the two parts.
"""

import re
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.template.utils import get_app_template_dirs

from portal.notifications.email_html import text_to_html
from portal.notifications.services import render_email

LAYOUTS = {"base.txt", "base.html", "generic.txt"}
GIVEN = {"recipient", "subject", "title", "url", "link", "path", "object_label", "tracking_number"}
GIVEN |= {"portal_name", "base_url", "event", "email_layout", "block", "forloop", "content"}


def _email_folders():
    project = Path(settings.BASE_DIR).resolve()
    roots = [Path(d) for d in settings.TEMPLATES[0]["DIRS"]] + [
        Path(d) for d in get_app_template_dirs("templates")
    ]
    for root in roots:
        folder = (root / "notifications" / "email").resolve()
        if folder.is_dir() and project in folder.parents:
            yield folder


def _event_templates():
    return sorted(
        path for folder in _email_folders() for path in folder.glob("*.txt") if path.name not in LAYOUTS
    )


EVENT_TEMPLATES = _event_templates()


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__()
        self.words = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("title", "head")

    def handle_endtag(self, tag):
        self._skip -= tag in ("title", "head")

    def handle_data(self, data):
        if not self._skip:
            self.words.append(data)


def visible_text(html):
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.words).split())


def _variables(source):
    names = re.findall(r"\{\{\s*([A-Za-z_]\w*)", source)
    names += re.findall(r"\{%\s*(?:if|elif)\s+(?:not\s+)?([A-Za-z_]\w*)", source)
    names += re.findall(r"\{%\s*for\s+\w+\s+in\s+([A-Za-z_]\w*)", source)
    return set(names) - GIVEN


def _marker(name):
    """A value that must show raw in the text and escaped in the HTML."""
    return f"<{name}> & {name}'s"


def _context(source):
    context = {name: _marker(name) for name in _variables(source)}
    if "items" in context:  # the digest lists notifications
        context["items"] = [
            SimpleNamespace(
                subject=_marker(f"subject{n}"),
                created_at=datetime(2026, 11, 27, 9, n),
                link=f"/vendor/requests/FAR-2026-00000{n}/",
                absolute_url=f"https://portal.example.gov/vendor/requests/FAR-2026-00000{n}/",
            )
            for n in (1, 2)
        ]
    return {
        **context,
        "recipient": SimpleNamespace(full_name="Vera Officer", email="vera@aurora.example"),
        "subject": "The subject",
        "title": "The subject",
        "url": "",
        "link": "",
        "path": "",
        "object_label": "",
        "tracking_number": "",
    }


def _body_paragraphs(text):
    """The event's words in the text part: between the greeting and the footer's rule."""
    assert text.startswith("Hello Vera Officer,\n\n")
    body = text.removeprefix("Hello Vera Officer,\n\n").split("\n-----", 1)[0]
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip()]
    return [" ".join(re.sub(r"^\s*\* ", "", line) for line in p.splitlines()).split() for p in paragraphs]


def test_the_walk_finds_every_apps_event_templates():
    names = {path.name for path in EVENT_TEMPLATES}
    assert len(names) == len(EVENT_TEMPLATES)  # one template per event, whichever app has it
    assert {"decision_approved.txt", "password_reset.txt", "team_invitation.txt", "digest.txt"} <= names
    assert len(names) >= 30


def test_no_event_has_a_separately_written_html_body():
    html = sorted(
        f"{path.parent.name}/{path.name}"
        for folder in _email_folders()
        for path in folder.glob("*.html")
        if path.name != "base.html"
    )
    assert html == []


@pytest.mark.parametrize("path", EVENT_TEMPLATES, ids=lambda path: path.stem)
def test_text_and_html_carry_the_same_body(path):
    source = path.read_text()
    assert source.startswith("{% extends email_layout %}")
    context = _context(source)

    text, html = render_email(path.stem, context)

    paragraphs = _body_paragraphs(text)
    assert paragraphs, "the event has words of its own"
    shown = visible_text(html)
    for words in paragraphs:
        assert " ".join(words) in shown
    # values are shown as given in the text and escaped in the HTML, never as markup
    for value in context.values():
        if isinstance(value, str) and value.startswith("<") and value in text:
            assert value not in html
            assert value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") in html.replace(
                "&#x27;", "'"
            )


def test_the_action_label_is_written_once_for_both_parts():
    context = _context("")
    context["url"] = "https://portal.example.gov/accounts/reset/abc/"
    text, html = render_email("password_reset", context)
    assert "Set a new password:\nhttps://portal.example.gov/accounts/reset/abc/" in text
    assert ">Set a new password</a>" in html


def test_paragraphs_line_breaks_and_escaping():
    html = text_to_html("R&D <team> asked.\nSecond line.\n\n  \nNext paragraph.")
    assert html.count("<p ") == 2
    assert ">R&amp;D &lt;team&gt; asked.<br>Second line.</p>" in html
    assert ">Next paragraph.</p>" in html


def test_lists_keep_their_items_together_and_continuation_lines_quiet():
    html = text_to_html("Here:\n\n* One\n  Nov 27\n\n* Two\nAfter")
    assert html.count("<ul ") == 1
    assert html.count("<li ") == 2
    assert ">One<br><span style=" in html
    assert ">Nov 27</span>" in html
    assert ">Two<br><span" in html
    assert ">After</span></li></ul>" in html


def test_addresses_become_links_without_their_trailing_punctuation():
    html = text_to_html(
        "Open https://portal.example.gov/vendor/requests/FAR-1/?a=1&b=2. Or not (https://x.example/y)."
    )
    assert '<a href="https://portal.example.gov/vendor/requests/FAR-1/?a=1&amp;b=2" style=' in html
    assert "FAR-1/?a=1&amp;b=2</a>. Or not (" in html
    assert '<a href="https://x.example/y" style="color:#005ea2;">https://x.example/y</a>).' in html


def test_markup_in_the_text_cannot_become_markup_in_the_html():
    html = text_to_html('<script>alert(1)</script> "javascript:x" https://a.example/"onmouseover=x')
    assert "<script>" not in html
    assert '"onmouseover' not in html
    assert "&lt;script&gt;" in html
