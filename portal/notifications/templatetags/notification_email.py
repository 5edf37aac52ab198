"""``{% load notification_email %}``: the e-mail layout's filter for bodies written as plain text."""

from django import template

from portal.notifications.email_html import text_to_html

register = template.Library()


@register.filter
def email_html(text):
    """A plain-text body as e-mail HTML (paragraphs, lists, links; everything escaped)."""
    return text_to_html(text)
