"""``/metrics``: Prometheus text, readable from an allowed network or with a token."""

from datetime import timedelta

import pytest
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from portal.notifications.models import Notification
from portal.observability.metrics import record_task_outcome
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.django_db
OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def samples(response):
    out = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def test_refused_from_outside_without_the_token(client, settings):
    settings.METRICS_TOKEN = "scrape-token"
    assert client.get("/metrics", **OUTSIDE).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope", **OUTSIDE).status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-token", **OUTSIDE).status_code == 200


def test_no_token_configured_means_no_token_accepted(client, settings):
    settings.METRICS_TOKEN = ""
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer ", **OUTSIDE).status_code == 403


def test_allowed_network(client, settings):
    settings.METRICS_ALLOWED_NETWORKS = ["203.0.113.0/24"]
    assert client.get("/metrics", **OUTSIDE).status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="198.51.100.1").status_code == 403


def test_outbox_requests_and_task_outcomes(client):
    # given two pending notifications, one due for ten minutes, and one failed
    user = vendor_user()
    now = timezone.now()
    for i, (status, due) in enumerate(
        [("pending", now - timedelta(minutes=10)), ("pending", now + timedelta(hours=1)), ("failed", now)]
    ):
        Notification.objects.create(
            recipient=user,
            event="x",
            subject="s",
            body="b",
            idempotency_key=f"k{i}",
            status=status,
            available_at=due,
        )
    record_task_outcome("notifications.sweep_outbox", "succeeded")
    record_task_outcome("notifications.sweep_outbox", "succeeded")
    record_task_outcome("notifications.send_notification", "failed")
    client.get("/accounts/login/")
    # when Prometheus scrapes
    values = samples(client.get("/metrics"))
    # then
    assert values[("portal_outbox_notifications", (("status", "pending"),))] == 2
    assert values[("portal_outbox_notifications", (("status", "failed"),))] == 1
    assert 590 <= values[("portal_outbox_oldest_due_seconds", ())] <= 700
    assert (
        values[
            ("portal_celery_tasks_total", (("outcome", "succeeded"), ("task", "notifications.sweep_outbox")))
        ]
        == 2
    )
    assert (
        values[
            (
                "portal_celery_tasks_total",
                (("outcome", "failed"), ("task", "notifications.send_notification")),
            )
        ]
        == 1
    )
    login = (("method", "GET"), ("view", "accounts:login"))
    assert values[("portal_request_duration_seconds_count", login)] >= 1
    assert values[("portal_request_db_queries_count", (("view", "accounts:login"),))] >= 1
    assert ("portal_open_referrals", (("clock", "overdue"),)) in values
    assert ("portal_overdue", (("kind", "referral"),)) in values


def test_open_referrals_by_clock_on_the_demo_world(client):
    from django.apps import apps
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    Referral = apps.get_model("approvals", "Referral")
    open_referrals = Referral.objects.filter(
        status__in=["open", "drafted"],
        access_request__status__in=["submitted", "in_review", "info_requested", "escalated"],
    ).count()
    values = samples(client.get("/metrics"))
    total = sum(
        values[("portal_open_referrals", (("clock", c),))] for c in ("overdue", "soon", "running", "stopped")
    )
    assert open_referrals > 0
    assert total == open_referrals
