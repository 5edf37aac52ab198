"""Values every template needs: the portal's name and the signed-in user's standing."""

from django.conf import settings


def portal(request):
    return {
        "PORTAL_NAME": "Frontier Access Portal",
        "PORTAL_ENV": settings.PORTAL_ENV,
    }
