"""Template filters of the vendor pages."""

from django import template

from vendors.models import format_flop

register = template.Library()


@register.filter
def flop(value):
    """Training compute shown the way it is written: ``3.2 × 10^26``."""
    return format_flop(value)
