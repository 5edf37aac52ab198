"""Building outbox rows directly, as notify() leaves them, without queueing anything."""

from datetime import UTC, datetime

from portal.notifications.models import Notification

NOW = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)


def make_row(recipient, **kwargs):
    defaults = {
        "recipient": recipient,
        "event": "example_event",
        "subject": "[FAR-2026-000001] Something happened",
        "body": "Hello\n",
        "html_body": "<p>Hello</p>",
        "link": "/vendor/",
        "idempotency_key": f"example_event:k:{recipient.pk}:{Notification.objects.count()}",
    }
    defaults.update(kwargs)
    return Notification.objects.create(**defaults)
