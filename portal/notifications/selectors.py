"""Reads shared by the notification pages and the admin.

A notification belongs to its recipient alone, so the in-app list is scoped by recipient
(nobody else, not even an administrator, reads someone's inbox through these pages);
no object permission is granted per notification.
"""

from portal.notifications.models import DIGEST_EVENT, Notification, NotificationPreference


def notifications_for(user):
    """The signed-in person's notifications, newest first (the digest mails themselves left out)."""
    if user is None or not user.is_authenticated or not user.is_active:
        return Notification.objects.none()
    return (
        Notification.objects.filter(recipient=user)
        .exclude(event=DIGEST_EVENT)
        .only("pk", "event", "subject", "link", "object_label", "created_at", "read_at", "recipient_id")
        .order_by("-created_at", "-id")
    )


def unread_count(user):
    return notifications_for(user).filter(read_at__isnull=True).count()


def preference_version(user):
    """The version of the person's settings the preferences page shows (0 before any choice)."""
    from portal.audit.versions import version_of

    return version_of(NotificationPreference.objects.filter(user=user).first())


def delivery_preference(user):
    """The person's choice, immediate when they have not made one."""
    preference = NotificationPreference.objects.filter(user=user).first()
    return preference.delivery if preference else NotificationPreference.Delivery.IMMEDIATE
