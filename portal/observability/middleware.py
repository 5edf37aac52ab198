"""Gives every request an id (``X-Request-ID``) and names its user for the log lines."""

import logging
import time

from django.conf import settings

from portal.observability import context, metrics

RESPONSE_HEADER = "X-Request-ID"
logger = logging.getLogger("portal.request")


def _header_key(name):
    return "HTTP_" + name.upper().replace("-", "_")


class RequestIdMiddleware:
    """First in the chain: everything after it logs with the request's id.

    The id comes from ``REQUEST_ID_HEADER`` (default ``X-Request-ID``) when the proxy in
    front sets one that is safe to store, else a new one is made. Set the setting to an
    empty value when nothing in front of the portal can be trusted to set it.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        header = getattr(settings, "REQUEST_ID_HEADER", "X-Request-ID")
        self.meta_key = _header_key(header) if header else None

    def __call__(self, request):
        incoming = context.clean_request_id(request.META.get(self.meta_key, "")) if self.meta_key else ""
        request_id = incoming or context.new_request_id()
        request.request_id = request_id
        tokens = [
            (context.request_id_var, context.request_id_var.set(request_id)),
            (context.user_id_var, context.user_id_var.set(None)),
            (context.organisation_var, context.organisation_var.set("")),
        ]
        started = time.perf_counter()
        try:
            with metrics.count_queries() as queries:
                response = self.get_response(request)
            response[RESPONSE_HEADER] = request_id
            seconds = time.perf_counter() - started
            metrics.observe_request(request, response, seconds, queries.count)
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round(seconds * 1000, 1),
                    "queries": queries.count,
                    "view": metrics.view_label(request),
                },
            )
            return response
        finally:
            context.unbind(tokens)

    def process_view(self, request, view_func, view_args, view_kwargs):
        """By now the session and the user are known: name them for the log lines."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            organisation = getattr(user, "organisation", None)
            context.user_id_var.set(user.pk)
            context.organisation_var.set(getattr(organisation, "name", "") or "")
        return None
