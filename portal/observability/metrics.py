"""Prometheus metrics at ``/metrics``, readable from an allowed network or with a token.

Two kinds:

* per process, kept by prometheus-client: request latency and database queries by view.
  Under gunicorn set ``PROMETHEUS_MULTIPROC_DIR`` (the image does) so that the workers'
  numbers are added up;
* read at scrape time from the database and the cache, so the same for every process and
  every replica: the outbox by status and the age of its oldest due row, open referrals by
  clock status, what is overdue, and Celery task outcomes (counted in the cache by the
  workers, so that the web process can report them).
"""

import ipaddress
import logging
import os
from contextlib import contextmanager
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Count, Min, Q
from django.http import HttpResponse, HttpResponseForbidden
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

logger = logging.getLogger(__name__)

REQUEST_LATENCY = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by view.",
    ["view", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
REQUESTS = Counter(
    "portal_requests_total", "Requests answered, by view and status class.", ["view", "status"]
)
QUERIES = Histogram(
    "portal_request_db_queries",
    "Database queries made by one request, by view.",
    ["view"],
    buckets=(1, 2, 5, 10, 20, 50, 100, 200, 500),
)

CELERY_OUTCOMES = ("succeeded", "failed", "retried")
CELERY_KEY = "metrics:celery:{task}:{outcome}"


class _QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


@contextmanager
def count_queries():
    counter = _QueryCounter()
    with connection.execute_wrapper(counter):
        yield counter


def view_label(request):
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "static" if request.path.startswith(settings.STATIC_URL) else "unresolved"
    return match.view_name or match._func_path


def observe_request(request, response, seconds, queries):
    try:
        view = view_label(request)
        REQUEST_LATENCY.labels(view=view, method=request.method).observe(seconds)
        REQUESTS.labels(view=view, status=f"{response.status_code // 100}xx").inc()
        QUERIES.labels(view=view).observe(queries)
    except Exception:  # metrics must never break a page
        logger.warning("Could not record request metrics", exc_info=True)


def record_task_outcome(task_name, outcome):
    """Count one Celery task outcome in the cache (shared by every process with Redis)."""
    key = CELERY_KEY.format(task=task_name, outcome=outcome)
    try:
        try:
            cache.incr(key)
        except ValueError:
            cache.add(key, 0, timeout=None)
            cache.incr(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not fail the task
        logger.warning("Could not count a task outcome (%s %s): %s", task_name, outcome, exc)


class PortalCollector:
    """Numbers read from the database and the cache at each scrape."""

    def collect(self):
        now = timezone.now()
        yield from self._outbox(now)
        yield from self._referrals(timezone.localdate(now))
        yield from self._overdue(timezone.localdate(now))
        yield from self._celery()

    def _outbox(self, now):
        from portal.notifications.models import Notification

        depth = GaugeMetricFamily("portal_outbox_notifications", "Outbox rows by status.", labels=["status"])
        counts = dict(
            Notification.objects.values_list("status").annotate(n=Count("pk")).values_list("status", "n")
        )
        for status in Notification.Status.values:
            if status == Notification.Status.SENT:
                continue  # grows without bound until pruned; not a queue
            depth.add_metric([status], counts.get(status, 0))
        yield depth
        oldest = Notification.objects.filter(
            status__in=[Notification.Status.PENDING, Notification.Status.SENDING], available_at__lte=now
        ).aggregate(oldest=Min("available_at"))["oldest"]
        yield GaugeMetricFamily(
            "portal_outbox_oldest_due_seconds",
            "Age of the oldest notification due to be sent (0 when none waits).",
            value=(now - oldest).total_seconds() if oldest else 0,
        )

    def _referrals(self, today):
        if not apps.is_installed("approvals"):
            return
        Referral = apps.get_model("approvals", "Referral")
        running = Q(clock_stopped_at__isnull=True)
        soon = today + timedelta(days=5)
        buckets = {
            "overdue": running & Q(due_date__lt=today),
            "soon": running & Q(due_date__gte=today, due_date__lte=soon),
            "running": running & Q(due_date__gt=soon),
            "stopped": Q(clock_stopped_at__isnull=False),
        }
        counts = Referral.objects.filter(
            status__in=["open", "drafted"],
            access_request__status__in=["submitted", "in_review", "info_requested", "escalated"],
        ).aggregate(**{name: Count("pk", filter=q) for name, q in buckets.items()})
        family = GaugeMetricFamily(
            "portal_open_referrals", "Referrals awaiting a signed position, by clock.", labels=["clock"]
        )
        for name in buckets:
            family.add_metric([name], counts[name] or 0)
        yield family

    def _overdue(self, today):
        if not apps.is_installed("approvals"):
            return
        family = GaugeMetricFamily("portal_overdue", "Things past their deadline, by kind.", labels=["kind"])
        Referral = apps.get_model("approvals", "Referral")
        InformationRequest = apps.get_model("approvals", "InformationRequest")
        IncidentReport = apps.get_model("approvals", "IncidentReport")
        family.add_metric(
            ["referral"],
            Referral.objects.filter(
                status__in=["open", "drafted"],
                clock_stopped_at__isnull=True,
                due_date__lt=today,
                access_request__status__in=["submitted", "in_review", "escalated"],
            ).count(),
        )
        family.add_metric(
            ["information_request"],
            InformationRequest.objects.filter(status="open", deadline__lt=today).count(),
        )
        family.add_metric(
            ["incident_report"], IncidentReport.objects.filter(status="initial", due_on__lt=today).count()
        )
        yield family

    def _celery(self):
        from portal.celery import app

        app.loader.import_default_modules()  # the web process has not imported every task module
        names = sorted(name for name in app.tasks if not name.startswith("celery."))
        keys = {
            CELERY_KEY.format(task=name, outcome=outcome): (name, outcome)
            for name in names
            for outcome in CELERY_OUTCOMES
        }
        try:
            values = cache.get_many(list(keys))
        except Exception as exc:  # noqa: BLE001 - the cache being down is reported elsewhere
            logger.warning("Task outcome counters unavailable: %s", exc)
            return
        family = CounterMetricFamily(
            "portal_celery_tasks", "Celery task outcomes, by task.", labels=["task", "outcome"]
        )
        for key, (name, outcome) in keys.items():
            family.add_metric([name, outcome], int(values.get(key) or 0))
        yield family


def registry():
    reg = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(reg)
    else:
        from prometheus_client import REGISTRY

        for metric in (REQUEST_LATENCY, REQUESTS, QUERIES):
            reg.register(_Forward(REGISTRY, metric))
    reg.register(PortalCollector())
    return reg


class _Forward:
    """Re-expose one metric of the process's default registry in a scrape registry."""

    def __init__(self, source, metric):
        self.metric = metric

    def collect(self):
        return self.metric.collect()


def client_allowed(request):
    """From an address in ``METRICS_ALLOWED_NETWORKS``, or with ``Bearer <METRICS_TOKEN>``."""
    token = getattr(settings, "METRICS_TOKEN", "")
    given = request.headers.get("Authorization", "")
    if token and given.startswith("Bearer ") and constant_time_compare(given[7:].strip(), token):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    networks = getattr(settings, "METRICS_ALLOWED_NETWORKS", [])
    return any(address in ipaddress.ip_network(network, strict=False) for network in networks)


@never_cache
def metrics_view(request):
    if not client_allowed(request):
        return HttpResponseForbidden("Metrics are readable from an allowed network or with a token.\n")
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
