"""Pruning what need not be kept forever: sent notifications and sign-in events.

Rows older than ``RETENTION_NOTIFICATIONS_DAYS`` / ``RETENTION_SIGN_IN_EVENTS_DAYS``
(default 365 each; 0 keeps them for ever) are deleted by the daily job
``portal-prune-retention``. Only *sent* notifications go (a failed or waiting one is still
work to do, and one held for a digest is not yet delivered). History rows, decisions and
everything else of the record are never pruned.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)
BATCH = 1000


def _delete_in_batches(queryset):
    total = 0
    while True:
        ids = list(queryset.values_list("pk", flat=True)[:BATCH])
        if not ids:
            return total
        total += queryset.model.objects.filter(pk__in=ids).delete()[1].get(queryset.model._meta.label, 0)


def prune(*, now=None):
    """Delete what is past its retention. Returns ``{"notifications": n, "sign_in_events": m}``."""
    from portal.accounts.models import SignInEvent
    from portal.notifications.models import Notification

    now = now or timezone.now()
    counts = {"notifications": 0, "sign_in_events": 0}
    days = int(getattr(settings, "RETENTION_NOTIFICATIONS_DAYS", 365))
    if days > 0:
        cutoff = now - timedelta(days=days)
        counts["notifications"] = _delete_in_batches(
            Notification.objects.filter(status=Notification.Status.SENT, sent_at__lt=cutoff)
        )
    days = int(getattr(settings, "RETENTION_SIGN_IN_EVENTS_DAYS", 365))
    if days > 0:
        counts["sign_in_events"] = _delete_in_batches(
            SignInEvent.objects.filter(at__lt=now - timedelta(days=days))
        )
    logger.info("Retention: pruned %s", counts, extra=counts)
    return counts
