"""Is the outbox stuck? Portal administrators are told by a path that does not need it.

The outbox is *stuck* when a notification has been due for longer than
``NOTIFICATIONS_STUCK_AFTER`` seconds (default 30 minutes) without being sent, or when
notifications were marked failed in the last day. Then:

* the agency dashboard of every portal administrator shows a panel saying so, with links
  to the outbox (``outbox_panel``, in ``ADMIN_DASHBOARD_PANELS``);
* the scheduled job ``notifications-outbox-alert`` (``alert_if_stuck``) logs an error line
  and e-mails the portal administrators directly — not through the outbox, and through
  ``ALERT_EMAIL_URL`` when one is configured (a second mail server), so that the alert
  does not wait in the queue it is about — at most once per ``NOTIFICATIONS_ALERT_EVERY``
  seconds (default 6 hours) while the outbox stays stuck.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from portal.notifications.models import Notification

logger = logging.getLogger(__name__)
ALERTED_KEY = "notifications:outbox-alerted"


def stuck_after():
    return int(getattr(settings, "NOTIFICATIONS_STUCK_AFTER", 1800))


def is_stuck(*, now=None):
    """Two cheap queries: is anything long overdue, or failed in the last day?"""
    now = now or timezone.now()
    overdue = Notification.objects.filter(
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING],
        available_at__lt=now - timedelta(seconds=stuck_after()),
    ).exists()
    return (
        overdue
        or Notification.objects.filter(
            status=Notification.Status.FAILED, created_at__gte=now - timedelta(days=1)
        ).exists()
    )


def outbox_state(*, now=None):
    """What an operator needs to know: waiting rows, the oldest due, failures in the last day."""
    now = now or timezone.now()
    waiting = Notification.objects.filter(
        status__in=[Notification.Status.PENDING, Notification.Status.SENDING], available_at__lte=now
    )
    oldest = waiting.order_by("available_at").values_list("available_at", flat=True).first()
    overdue = waiting.filter(available_at__lt=now - timedelta(seconds=stuck_after())).count()
    failed_recently = Notification.objects.filter(
        status=Notification.Status.FAILED, created_at__gte=now - timedelta(days=1)
    ).count()
    return {
        "waiting": waiting.count(),
        "overdue": overdue,
        "oldest_due_minutes": int((now - oldest).total_seconds() // 60) if oldest else 0,
        "failed_recently": failed_recently,
        "stuck": bool(overdue or failed_recently),
        "last_error": Notification.objects.exclude(last_error="")
        .order_by("-available_at")
        .values_list("last_error", flat=True)
        .first()
        or "",
    }


def portal_administrators():
    from portal.accounts.models import Role, User

    return list(User.objects.filter(role=Role.PORTAL_ADMIN, is_active=True).exclude(email=""))


def alert_if_stuck(*, now=None):
    """The scheduled check. Returns the number of administrators mailed (0 when all is well)."""
    if not is_stuck(now=now):
        cache.delete(ALERTED_KEY)
        return 0
    state = outbox_state(now=now)
    logger.error(
        "Outbox stuck: %s overdue for more than %s min, oldest due %s min ago, %s failed in the last day",
        state["overdue"],
        stuck_after() // 60,
        state["oldest_due_minutes"],
        state["failed_recently"],
        extra={"alert": "outbox_stuck"},
    )
    every = int(getattr(settings, "NOTIFICATIONS_ALERT_EVERY", 6 * 3600))
    if not cache.add(ALERTED_KEY, timezone.now().isoformat(), timeout=every):
        return 0
    recipients = [user.email for user in portal_administrators()]
    if not recipients:
        return 0
    body = (
        "The Frontier Access Portal's outbox is not sending.\n\n"
        f"Due and waiting:                 {state['waiting']}\n"
        f"Waiting longer than {stuck_after() // 60} minutes:   {state['overdue']}\n"
        f"Oldest due:                      {state['oldest_due_minutes']} minutes ago\n"
        f"Marked failed in the last day:   {state['failed_recently']}\n"
        f"Last error:                      {state['last_error'][:300] or '-'}\n\n"
        f"Open {settings.PORTAL_BASE_URL}/admin/notifications/notification/ to see and retry them.\n"
    )
    try:
        connection = _alert_connection()
        EmailMessage(
            subject="[Frontier Access Portal] The outbox is stuck",
            body=body,
            to=recipients,
            connection=connection,
        ).send()
    except Exception as exc:  # noqa: BLE001 - the mail server may be the very thing that is down
        cache.delete(ALERTED_KEY)
        logger.warning("Could not e-mail the outbox alert: %s", exc)
        return 0
    return len(recipients)


def _alert_connection():
    url = getattr(settings, "ALERT_EMAIL_URL", "")
    if not url:
        return get_connection(fail_silently=False)
    import environ

    config = environ.Env.email_url_config(url)
    return get_connection(
        backend=config["EMAIL_BACKEND"],
        host=config.get("EMAIL_HOST"),
        port=config.get("EMAIL_PORT"),
        username=config.get("EMAIL_HOST_USER"),
        password=config.get("EMAIL_HOST_PASSWORD"),
        use_tls=config.get("EMAIL_USE_TLS", False),
        use_ssl=config.get("EMAIL_USE_SSL", False),
        timeout=getattr(settings, "EMAIL_TIMEOUT", 10),
        fail_silently=False,
    )


def outbox_panel(request):
    """The agency dashboard panel for portal administrators, shown while the outbox is stuck."""
    user = request.user
    if not getattr(user, "is_portal_admin", False):
        return None
    if not is_stuck():
        return None
    return {"template": "admin/notifications/outbox_stuck_panel.html", "context": outbox_state()}
