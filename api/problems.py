"""Errors as RFC 9457 problem details (``application/problem+json``), with field names.

``{"type", "title", "status", "detail", "errors": [{"field", "message"}]}``: a service's
``PortalError`` becomes a 422 naming its field, a validation error a 400 naming each field, a
missing or foreign object a 404 that says nothing more.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from portal.errors import PortalError

TYPE_BASE = "https://portal.example/problems/"
PROBLEM_JSON = "application/problem+json"


def _flatten(detail, prefix=""):
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = key if key != "non_field_errors" else ""
            yield from _flatten(value, f"{prefix}.{name}" if prefix and name else (name or prefix))
    elif isinstance(detail, list):
        if all(not isinstance(item, dict | list) for item in detail):
            for item in detail:
                yield {"field": prefix or None, "message": str(item)}
        else:
            for index, item in enumerate(detail):
                yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield {"field": prefix or None, "message": str(detail)}


def problem(status_code, title, detail="", *, kind, errors=None, headers=None):
    body = {"type": TYPE_BASE + kind, "title": title, "status": status_code, "detail": detail or title}
    if errors:
        body["errors"] = errors
    response = Response(body, status=status_code, headers=headers, content_type=PROBLEM_JSON)
    return response


def exception_handler(exc, context):
    if isinstance(exc, PortalError):
        errors = [{"field": exc.field, "message": m} for m in exc.messages]
        return problem(422, "The request was refused.", exc.message, kind="refused", errors=errors)
    if isinstance(exc, Http404 | exceptions.NotFound):
        return problem(404, "Not found.", "No such record.", kind="not-found")
    if isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        errors = list(_flatten(exc.detail))
        return problem(
            400,
            "The request is not valid.",
            errors[0]["message"] if errors else "",
            kind="validation",
            errors=errors,
        )
    detail = exc.detail if isinstance(getattr(exc, "detail", None), str) else str(getattr(exc, "detail", ""))
    kinds = {
        status.HTTP_401_UNAUTHORIZED: "unauthenticated",
        status.HTTP_403_FORBIDDEN: "forbidden",
        status.HTTP_405_METHOD_NOT_ALLOWED: "method-not-allowed",
        status.HTTP_406_NOT_ACCEPTABLE: "not-acceptable",
        status.HTTP_415_UNSUPPORTED_MEDIA_TYPE: "unsupported-media-type",
        status.HTTP_429_TOO_MANY_REQUESTS: "rate-limited",
    }
    headers = {k: v for k, v in response.items() if k in ("WWW-Authenticate", "Retry-After", "Allow")}
    return problem(
        response.status_code,
        detail or "The request failed.",
        detail,
        kind=kinds.get(response.status_code, "error"),
        headers=headers,
    )
