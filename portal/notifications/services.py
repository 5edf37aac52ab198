"""Writing notifications. Callers are services, inside their own transaction."""

from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string

from portal.notifications.models import Notification


def notify(*, event, recipients, subject, context=None, link="", key, object_label="", immediate=True):
    """Write one outbox row per recipient for ``event`` and queue sending after commit.

    ``key`` identifies the event occurrence (for example ``decision:42``); with the recipient
    it forms the idempotency key, so calling twice for the same occurrence writes nothing new.
    Templates: ``notifications/email/<event>.txt`` (and ``.html``), given ``context``,
    ``recipient`` and ``link``.
    """
    context = dict(context or {})
    created = []
    for recipient in {r.pk: r for r in recipients if r is not None and r.is_active}.values():
        idempotency_key = f"{event}:{key}:{recipient.pk}"
        body = _render_body(event, {**context, "recipient": recipient, "link": link})
        notification, was_created = Notification.objects.get_or_create(
            idempotency_key=idempotency_key,
            defaults={
                "recipient": recipient,
                "event": event,
                "subject": subject[:250],
                "body": body,
                "link": link,
                "context": {
                    k: v for k, v in context.items() if isinstance(v, (str, int, float, bool, type(None)))
                },
                "object_label": object_label,
                "immediate": immediate,
            },
        )
        if was_created:
            created.append(notification)
    if created:
        from portal.notifications.tasks import send_notification

        ids = [n.pk for n in created]
        transaction.on_commit(lambda: [send_notification.delay(pk) for pk in ids])
    return created


def _render_body(event, context):
    try:
        return render_to_string(f"notifications/email/{event}.txt", context)
    except TemplateDoesNotExist:
        return render_to_string("notifications/email/generic.txt", context)
