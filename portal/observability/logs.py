"""Log lines an operator can use: one JSON object per event in production, text in development.

Every line carries the time, level, logger, message, and the request id, user id and
organisation of the work in progress (see ``context``). ``LOG_FORMAT=json`` or ``text``
chooses; production defaults to JSON.
"""

import json
import logging
from datetime import UTC, datetime

from portal.observability import context

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_CONTEXT = ("request_id", "user_id", "organisation")


class ContextFilter(logging.Filter):
    """Puts the request id, user id and organisation on every record (never filters out)."""

    def filter(self, record):
        values = context.snapshot()
        for name in _CONTEXT:
            if not getattr(record, name, None):
                setattr(record, name, values[name])
        if record.user_id is None:
            record.user_id = ""
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "") or None,
            "user_id": getattr(record, "user_id", "") or None,
            "organisation": getattr(record, "organisation", "") or None,
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and key not in entry and not key.startswith("_"):
                entry[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


TEXT_FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(request_id)s] %(message)s"


def logging_config(*, fmt, level, eager):
    """The ``LOGGING`` setting: one console handler, JSON or text."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": "portal.observability.logs.ContextFilter"}},
        "formatters": {
            "json": {"()": "portal.observability.logs.JsonFormatter"},
            "text": {"format": TEXT_FORMAT},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "filters": ["context"],
                "formatter": "json" if fmt == "json" else "text",
            }
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # One line per request with its id, status and timing; in development the
            # runserver's own line is enough.
            "portal.request": {"level": "INFO" if fmt == "json" else "WARNING"},
            # Django's own "Not Found: /x" lines add nothing to portal.request's.
            "django.request": {"level": "ERROR"},
            # gunicorn's access log goes through the same handler (see gunicorn.conf.py).
            "gunicorn.error": {"handlers": ["console"], "level": level, "propagate": False},
            "gunicorn.access": {"handlers": ["console"], "level": level, "propagate": False},
            # In-process tasks would otherwise log a line for every e-mail they send.
            "celery.app.trace": {"level": "WARNING" if eager else "INFO"},
            "kombu.connection": {"level": "ERROR" if eager else "WARNING"},
            # WeasyPrint narrates every step of every letter at INFO ("Step 4 - Creating ...").
            "weasyprint": {"level": "WARNING"},
            "fontTools": {"level": "WARNING"},
        },
    }
