"""The HTML of an e-mail body, derived from its plain text.

Each notification event has one body, written once as plain text in
``notifications/email/<event>.txt``. The plain-text part shows it as written; the HTML part
shows it through :func:`text_to_html`: paragraphs (separated by a blank line), line breaks,
lists (lines starting with ``* ``, indented lines continuing an item) and links (every
``http(s)://`` address). Everything is escaped, so a body cannot inject markup.

The styles are inline on purpose: mail clients ignore style sheets, and a page's
Content-Security-Policy does not apply to mail.
"""

import re

from django.utils.html import escape
from django.utils.safestring import mark_safe

PARAGRAPH_STYLE = "margin:0 0 16px 0;font-size:16px;line-height:1.5;"
LIST_STYLE = "margin:0 0 16px 0;padding-left:20px;font-size:16px;line-height:1.5;"
ITEM_STYLE = "margin-bottom:8px;"
QUIET_STYLE = "font-size:14px;color:#565c65;"
LINK_STYLE = "color:#005ea2;"

_ADDRESS = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)'\""
_BULLET = "* "


def text_to_html(text):
    """``text`` (plain, unescaped) as e-mail HTML: ``<p>`` and ``<ul>`` blocks with inline styles."""
    parts = []  # ("p", lines) or ("ul", lines); list items separated by blank lines stay one list
    for block in re.split(r"\n[ \t]*\n", str(text).replace("\r\n", "\n").strip()):
        lines = [line.rstrip() for line in block.split("\n") if line.strip()]
        first_item = next((i for i, line in enumerate(lines) if line.startswith(_BULLET)), len(lines))
        if first_item:
            parts.append(("p", lines[:first_item]))
        if first_item < len(lines):
            if parts and parts[-1][0] == "ul":
                parts[-1][1].extend(lines[first_item:])
            else:
                parts.append(("ul", lines[first_item:]))
    html = [_paragraph(lines) if kind == "p" else _list(lines) for kind, lines in parts]
    return mark_safe("\n".join(html))  # noqa: S308 - every piece of text is escaped by _line


def _paragraph(lines):
    return f'<p style="{PARAGRAPH_STYLE}">' + "<br>".join(_line(line.strip()) for line in lines) + "</p>"


def _list(lines):
    items = []
    for line in lines:
        if line.startswith(_BULLET):
            items.append([line[len(_BULLET) :].strip()])
        else:
            items[-1].append(line.strip())
    rendered = "".join(
        f'<li style="{ITEM_STYLE}">{_line(first)}'
        + "".join(f'<br><span style="{QUIET_STYLE}">{_line(more)}</span>' for more in rest)
        + "</li>"
        for first, *rest in items
    )
    return f'<ul style="{LIST_STYLE}">{rendered}</ul>'


def _line(line):
    """One line, escaped, with each web address made a link (trailing punctuation left out)."""
    pieces, position = [], 0
    for match in _ADDRESS.finditer(line):
        address = match.group(0).rstrip(_TRAILING)
        end = match.start() + len(address)
        pieces.append(escape(line[position : match.start()]))
        pieces.append(f'<a href="{escape(address)}" style="{LINK_STYLE}">{escape(address)}</a>')
        position = end
    pieces.append(escape(line[position:]))
    return "".join(pieces)
