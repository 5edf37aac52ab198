"""Branded error pages (400, 403, 404, 500) with a way back, and never a stack trace.

They render ``templates/errors/page.html`` with a small explicit context and no context
processors, so that the 500 page still renders when the database is what failed. The way
back is the signed-in person's dashboard (the vendor's or the agency's), else the sign-in.
"""

import logging

from django.http import HttpResponse
from django.template import loader

from portal.observability.context import current_request_id

logger = logging.getLogger(__name__)

PAGES = {
    400: ("The request could not be understood", "Something in the address or the form was not valid."),
    403: (
        "You may not do that",
        "Your account does not allow this, or the form had expired. Go back and try again.",
    ),
    404: (
        "Page not found",
        "There is no page at this address, or it is not one your account may see.",
    ),
    500: (
        "Something went wrong on our side",
        "The portal could not finish this. Nothing you submitted was half-saved; try again in a few minutes.",
    ),
}


def way_back(request):
    """``(url, label)`` of the place to go from an error page."""
    try:
        user = request.user if request is not None else None
        if user is not None and user.is_authenticated:
            if getattr(user, "is_vendor_member", False):
                return "/vendor/", "Go to your vendor dashboard"
            return "/admin/", "Go to the agency dashboard"
    except Exception:
        logger.warning("Could not tell who saw an error page", exc_info=True)
    return "/accounts/login/", "Go to sign-in"


def render_error(request, status):
    title, message = PAGES[status]
    home_url, home_label = way_back(request)
    context = {
        "status": status,
        "title": title,
        "message": message,
        "home_url": home_url,
        "home_label": home_label,
        "request_id": getattr(request, "request_id", "") or current_request_id(),
    }
    body = loader.get_template("errors/page.html").render(context)
    return HttpResponse(body, status=status)


def bad_request(request, exception=None):
    return render_error(request, 400)


def permission_denied(request, exception=None):
    return render_error(request, 403)


def page_not_found(request, exception=None):
    return render_error(request, 404)


def server_error(request):
    return render_error(request, 500)


def csrf_failure(request, reason=""):
    return render_error(request, 403)
