"""Values every template needs: the portal's name and the signed-in user's standing."""

from django.conf import settings


def portal(request):
    """``second_factor_pending``: the person has given the password but not yet the second factor
    (the pages then show only how to finish signing in or sign out: not their name, menu or
    unread count, which the password alone must not reveal).

    Worked out once per request: a page that renders panels of its own with the request (the
    vendor dashboard) runs the context processors again for each, and each asked the database for
    the unread count again."""
    known = getattr(request, "_portal_context", None)
    if known is not None:
        return known
    user = getattr(request, "user", None)
    unread, pending = 0, False
    if user is not None and user.is_authenticated:
        from portal.accounts.mfa import second_factor_pending
        from portal.notifications.models import Notification

        pending = second_factor_pending(user)
        if not pending:
            unread = Notification.objects.filter(recipient=user, read_at__isnull=True).count()
    context = {
        "PORTAL_NAME": "Frontier Access Portal",
        "PORTAL_ENV": settings.PORTAL_ENV,
        "unread_notifications": unread,
        "second_factor_pending": pending,
    }
    if request is not None:
        request._portal_context = context
    return context
