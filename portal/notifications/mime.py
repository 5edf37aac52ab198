"""The bytes of a built mail, as Django's SMTP backend would send them, without its slow parts.

Django's ``EmailMessage.message()`` builds the MIME tree; its ``as_bytes`` then runs the
standard library's ``BytesGenerator`` under the ``compat32`` policy, which folds *every* header
through ``email.header.Header`` (about half of the time a mail takes to build) and compiles a
fresh regular expression for every random multipart boundary. ``as_bytes`` here writes the
same bytes faster:

* a header whose line fits (printable ASCII, single spaces, within the policy's 78 characters with
  its name) is written as ``Name: value``, which is what ``Header`` folding produces for it;
  any other header goes through ``compat32``'s own folding;
* the boundary is drawn exactly as the standard library draws it; only when its text occurs
  in the body at all is the standard library's regular-expression search run.

``portal/notifications/tests/test_mime.py`` checks byte for byte, with the same random
boundary, that the output equals Django's for plain, HTML, non-ASCII, long-line, long-header
and attachment mails. ``sanitize_address`` (an address parser run twice per mail) is cached
for the same reason: it is a pure function of its arguments.
"""

import functools
import random
import re
import sys
from email import generator
from email._policybase import Compat32
from email.utils import formatdate
from io import BytesIO

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.mail.message import RFC5322_EMAIL_LINE_LENGTH_LIMIT, sanitize_address

_BOUNDARY_WIDTH = len(repr(sys.maxsize - 1))  # as email.generator formats it


class _Policy(Compat32):
    """``compat32`` (what Django's messages use) with a shortcut for headers that need no folding."""

    def _fold(self, name, value, sanitize):
        if (
            isinstance(value, str)
            and len(name) + len(value) + 2 <= (self.max_line_length or 0)
            and value.isascii()
            and value.isprintable()
            and "  " not in value
            and value == value.strip()
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)


_POLICY = _Policy(linesep="\r\n")


class _Generator(generator.BytesGenerator):
    @classmethod
    def _make_boundary(cls, text=None):
        token = random.randrange(sys.maxsize)  # as the standard library draws it
        boundary = "=" * 15 + f"{token:0{_BOUNDARY_WIDTH}d}" + "=="
        if text is None or ("--" + boundary).encode("ascii") not in text:
            return boundary
        # the boundary's text occurs in the body: the standard library's own search for a free one
        candidate, counter = boundary, 0
        while cls._compile_re("^--" + re.escape(candidate) + "(--)?$", re.MULTILINE).search(text):
            candidate = f"{boundary}.{counter}"
            counter += 1
        return candidate


def as_bytes(mime_message):
    """``mime_message`` (from ``EmailMessage.message()``) as Django's SMTP backend sends it:
    the same bytes as ``mime_message.as_bytes(linesep="\\r\\n")``."""
    buffer = BytesIO()
    _Generator(buffer, mangle_from_=False, policy=_POLICY).flatten(mime_message, linesep="\r\n")
    return buffer.getvalue()


_NEWLINES = re.compile(r"\r\n|\r|\n")
_HANDLED = {"from", "to", "cc", "reply-to", "date", "subject", "content-type", "mime-version"}


def message_bytes(message):
    """The bytes Django's SMTP backend sends for ``message`` (``mime.as_bytes(message.message())``).

    A notification's usual shape (``sending.build_message``: a text body and one HTML
    alternative, one recipient, ASCII headers, a Message-ID, no attachment, no line beyond
    998 bytes) is written directly, in the layout the standard library gives it: the
    multipart's headers, then each part's three headers and its lines with CRLF ends, between
    boundaries drawn as it draws them. Django's ``message()`` builds the same tree through the
    ``email`` package's objects and charset machinery, about half of what a mail costs the
    worker. Anything else goes through ``message()``. ``test_mime.py`` compares both byte for
    byte on mails of both kinds.
    """
    written = _usual_shape(message)
    return written if written is not None else as_bytes(message.message())


def _usual_shape(message):
    if (
        type(message) is not EmailMultiAlternatives
        or message.attachments
        or message.cc
        or message.reply_to
        or len(message.to) != 1
        or len(message.alternatives) != 1
        or not message.body
        or message.content_subtype != "plain"
        or (message.encoding or settings.DEFAULT_CHARSET) != "utf-8"
    ):
        return None
    html, mimetype = message.alternatives[0]
    extra = message.extra_headers
    if mimetype != "text/html" or not isinstance(html, str) or not html:
        return None
    if "message-id" not in {n.lower() for n in extra} or _HANDLED & {n.lower() for n in extra}:
        return None
    subject = str(message.subject)
    # Django passes an ASCII subject through email.header.Header: unchanged when it fits a line
    if not (
        subject.isascii() and subject.isprintable() and "  " not in subject and subject == subject.strip()
    ):
        return None
    if len("Subject: ") + len(subject) > _POLICY.max_line_length:
        return None
    headers = [
        ("Subject", subject),
        ("From", str(message.from_email)),
        ("To", str(message.to[0])),
        ("Date", formatdate(localtime=settings.EMAIL_USE_LOCALTIME)),
        *((name, str(value)) for name, value in extra.items()),
    ]
    if not all(value.isascii() and "\n" not in value and "\r" not in value for _, value in headers):
        return None
    parts = [_text_part("plain", str(message.body)), _text_part("html", html)]
    if None in parts:
        return None
    boundary = _Generator._make_boundary(b"\r\n".join(parts))
    fold = _POLICY.fold_binary
    return b"".join(
        [
            fold("Content-Type", f'multipart/alternative; boundary="{boundary}"'),
            fold("MIME-Version", "1.0"),
            *(fold(name, value) for name, value in headers),
            b"\r\n",
            f"--{boundary}\r\n".encode(),
            parts[0],
            f"\r\n--{boundary}\r\n".encode(),
            parts[1],
            f"\r\n--{boundary}--\r\n".encode(),
        ]
    )


def _text_part(subtype, text):
    """One ``SafeMIMEText(text, subtype, "utf-8")`` as the generator writes it; ``None`` when a line
    is too long (Django then encodes it quoted-printable)."""
    if any(
        len(line.encode(errors="surrogateescape")) > RFC5322_EMAIL_LINE_LENGTH_LIMIT
        for line in text.splitlines()
    ):
        return None
    encoding = "7bit" if text.isascii() else "8bit"
    body = "\r\n".join(_NEWLINES.split(text))
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\r\nMIME-Version: 1.0\r\n'
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode() + body.encode("utf-8", "surrogateescape")


@functools.lru_cache(maxsize=4096)
def sanitized_address(address, encoding):
    """``django.core.mail.message.sanitize_address``, remembered (the sender is the same for
    every mail; recipients repeat)."""
    return sanitize_address(address, encoding)
