"""Values every template needs: the portal's name and the signed-in user's standing."""

from django.conf import settings


def portal(request):
    user = getattr(request, "user", None)
    unread = 0
    if user is not None and user.is_authenticated:
        from portal.notifications.models import Notification

        unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    return {
        "PORTAL_NAME": "Frontier Access Portal",
        "PORTAL_ENV": settings.PORTAL_ENV,
        "unread_notifications": unread,
    }
