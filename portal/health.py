"""Health checks.

* ``/healthz`` — for load balancers: is the database, the cache and the broker reachable?
  Says only ``ok`` (200) or ``down`` (503), never which host or why.
* ``/healthz/ready`` — for the container's health check: as above, and a page can be
  rendered (templates and the static files manifest are there). An image whose pages all
  answer 500 is not healthy even when its database is.
* ``/healthz/details`` — which dependency is down, the error and how long each check
  took; for signed-in portal administrators and the metrics networks (or token) only.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import Http404, JsonResponse
from django.template.loader import render_to_string
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from portal.observability.metrics import client_allowed

logger = logging.getLogger(__name__)


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"ok": True, "engine": connection.vendor}


def _check_cache():
    key = "healthz:probe"
    token = str(time.monotonic())
    cache.set(key, token, timeout=10)
    if cache.get(key) != token:
        raise RuntimeError("the cache did not return what was written")
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]
    return {"ok": True, "backend": backend}


def _check_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "in-process"}
    from portal.celery import app

    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return {"ok": True, "mode": "redis"}


def _check_pages():
    """Render the page layouts the way every page does: templates, static tags, manifest."""
    html = render_to_string("base.html", {}) + render_to_string(
        "errors/page.html", {"status": 200, "title": "ready", "home_url": "/"}
    )
    if "/static/" not in html:
        raise RuntimeError("the layout rendered without its assets")
    return {"ok": True}


CHECKS = {"database": _check_database, "cache": _check_cache, "broker": _check_broker}
READINESS_CHECKS = {**CHECKS, "pages": _check_pages}


def run_checks(checks):
    report = {}
    for name, check in checks.items():
        started = time.perf_counter()
        try:
            report[name] = check()
        except Exception as exc:  # noqa: BLE001 - any failure means "down", reported by name
            report[name] = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
        report[name]["ms"] = round((time.perf_counter() - started) * 1000, 1)
    down = [name for name, item in report.items() if not item["ok"]]
    if down:
        # One line, no traceback: an outage is expected, and the details view says more.
        logger.warning("Health check: %s down", ", ".join(down), extra={"down": ",".join(down)})
    return report, down


def _answer(down):
    return JsonResponse({"status": "down" if down else "ok"}, status=503 if down else 200)


@never_cache
@require_GET
def healthz(request):
    _, down = run_checks(CHECKS)
    return _answer(down)


@never_cache
@require_GET
def readiness(request):
    _, down = run_checks(READINESS_CHECKS)
    return _answer(down)


@never_cache
@require_GET
def healthz_details(request):
    user = getattr(request, "user", None)
    is_admin = bool(user is not None and user.is_authenticated and getattr(user, "is_portal_admin", False))
    if not (is_admin or client_allowed(request)):
        raise Http404("No such page.")
    report, down = run_checks(READINESS_CHECKS)
    body = {"status": "down" if down else "ok", "down": down, "checks": report}
    return JsonResponse(body, status=503 if down else 200)
