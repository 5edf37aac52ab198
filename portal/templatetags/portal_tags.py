"""Status words, clocks and tracking numbers look the same on both sides of the portal."""

from django import template
from django.utils import timezone
from django.utils.html import format_html

from portal import text

register = template.Library()


@register.filter
def days_phrase(days):
    """``4`` → "due in 4 days"; ``0`` → "due today"; ``-2`` → "2 days overdue"."""
    if days is None:
        return ""
    days = int(days)
    if days > 1:
        return f"due in {days} days"
    if days == 1:
        return "due tomorrow"
    if days == 0:
        return "due today"
    if days == -1:
        return "1 day overdue"
    return f"{-days} days overdue"


@register.simple_tag
def clock(days, stopped=False):
    """A referral's or deadline's clock in words, marked up for both sides."""
    if stopped:
        return format_html(
            '<span class="portal-clock portal-clock--{}">{}</span>', "stopped", "clock stopped"
        )
    css = "overdue" if days is not None and days < 0 else ("soon" if days is not None and days <= 5 else "ok")
    return format_html('<span class="portal-clock portal-clock--{}">{}</span>', css, days_phrase(days))


@register.filter
def days_until(value):
    """Calendar days from today to a date (negative when past)."""
    if value is None:
        return None
    if hasattr(value, "date") and callable(value.date):
        value = timezone.localtime(value).date()
    return (value - timezone.localdate()).days


@register.simple_tag
def status_tag(obj, field="status"):
    """The status of any record as a USWDS tag with its plain-words label."""
    value = getattr(obj, field)
    label = getattr(obj, f"get_{field}_display")()
    return format_html('<span class="usa-tag portal-status portal-status--{}">{}</span>', value, label)


register.filter("end_sentence", text.end_sentence, is_safe=True)
