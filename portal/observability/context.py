"""The request id, user and organisation of the work in progress, for logs and history rows.

A web request gets its id from a trusted header (``REQUEST_ID_HEADER``, set by the load
balancer) or a new one; the id is returned in the response's ``X-Request-ID`` header,
travels to Celery tasks in their message headers, is written on every log line and on
every history row the request or its tasks write. Context variables keep it per thread
and per task.
"""

import contextvars
import re
import uuid

request_id_var = contextvars.ContextVar("portal_request_id", default="")
user_id_var = contextvars.ContextVar("portal_user_id", default=None)
organisation_var = contextvars.ContextVar("portal_organisation", default="")

VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")


def new_request_id():
    return uuid.uuid4().hex


def current_request_id():
    return request_id_var.get()


def clean_request_id(value):
    """``value`` if it is safe to log and store (≤ 64 plain characters), else ``""``."""
    value = (value or "").strip()
    return value if VALID_REQUEST_ID.match(value) else ""


def bind(*, request_id=None, user_id=None, organisation=None):
    """Set the given values; returns tokens for ``unbind`` to put the previous ones back."""
    tokens = []
    if request_id is not None:
        tokens.append((request_id_var, request_id_var.set(request_id)))
    if user_id is not None:
        tokens.append((user_id_var, user_id_var.set(user_id)))
    if organisation is not None:
        tokens.append((organisation_var, organisation_var.set(organisation)))
    return tokens


def unbind(tokens):
    for var, token in reversed(tokens):
        var.reset(token)


def snapshot():
    return {
        "request_id": request_id_var.get(),
        "user_id": user_id_var.get(),
        "organisation": organisation_var.get(),
    }
