"""Parsing what arrives in a URL or a form safely: ids and whole numbers, and date windows.

A query parameter is text anyone can type. ``"99999999999999999999".isdigit()`` is true and
the database refuses the number; ``"²".isdigit()`` is true and ``int()`` refuses it. These
helpers answer ``None`` (the view then ignores the filter) or a message, never an exception.
"""

import re
from datetime import date, timedelta

from django.utils import timezone

# The largest primary key a bigint column holds.
MAX_ID = 2**63 - 1
_DIGITS = re.compile(r"[0-9]{1,19}")

# The earliest day any date in the portal may name (detection dates, audit exports).
EARLIEST_DAY = date(2000, 1, 1)
# How far ahead a deadline or an end date may be set.
MAX_DAYS_AHEAD = 365


def int_param(value, *, low=1, high=MAX_ID):
    """``value`` as an int if it is plain ASCII digits within ``low``..``high``, else ``None``."""
    text = str(value or "").strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if low <= number <= high else None


def latest_deadline(today=None):
    """The last day a deadline may be set to: a year from today."""
    return (today or timezone.localdate()) + timedelta(days=MAX_DAYS_AHEAD)


def deadline_problem(day, *, today=None, what="The deadline"):
    """A message if ``day`` is not after today or more than a year ahead; ``None`` if it is fine."""
    today = today or timezone.localdate()
    if day <= today:
        return f"{what} must be after today."
    if day > latest_deadline(today):
        return f"{what} can be at most a year ahead (by {latest_deadline(today):%d %B %Y})."
    return None


def past_day_problem(day, *, today=None, what="The day"):
    """A message if ``day`` is in the future or before 2000; ``None`` if it is fine."""
    today = today or timezone.localdate()
    if day > today:
        return f"{what} cannot be in the future."
    if day < EARLIEST_DAY:
        return f"{what} cannot be before {EARLIEST_DAY:%d %B %Y}."
    return None
