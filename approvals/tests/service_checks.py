"""Small checks the service tests share."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django.conf import settings

from portal.notifications.models import Notification


def noon(day):
    """Midday in the portal's time zone on ``day``, so that the local date is ``day``."""
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def notified(event, user=None):
    rows = Notification.objects.filter(event=event)
    if user is not None:
        rows = rows.filter(recipient=user)
    return rows


def last_history(obj):
    return obj.history.order_by("-history_id").first()
