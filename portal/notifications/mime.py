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
from io import BytesIO

from django.core.mail.message import sanitize_address

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


@functools.lru_cache(maxsize=4096)
def sanitized_address(address, encoding):
    """``django.core.mail.message.sanitize_address``, remembered (the sender is the same for
    every mail; recipients repeat)."""
    return sanitize_address(address, encoding)
