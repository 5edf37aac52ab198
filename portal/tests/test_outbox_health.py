"""Mail survives a long outage; a stuck outbox reaches the portal administrators."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from portal.accounts.models import Organisation, Role
from portal.notifications import outbox_health, sending
from portal.notifications.models import Notification
from portal.tests.factories import OrganisationFactory, UserFactory, vendor_user

pytestmark = pytest.mark.django_db


def portal_admin(**kwargs):
    return UserFactory(
        organisation=OrganisationFactory(kind=Organisation.Kind.OPERATOR),
        role=Role.PORTAL_ADMIN,
        is_staff=True,
        is_superuser=True,
        **kwargs,
    )


def row(status="pending", due=None, **kwargs):
    n = Notification.objects.count()
    return Notification.objects.create(
        recipient=kwargs.pop("recipient", None) or vendor_user(),
        event="x",
        subject="s",
        body="b",
        idempotency_key=f"key-{n}",
        status=status,
        available_at=due or timezone.now(),
        **kwargs,
    )


def test_the_default_retries_span_at_least_a_day():
    # the waits between the attempts a row gets before it is marked failed
    attempts = settings.NOTIFICATIONS_MAX_ATTEMPTS
    span = sum(sending.backoff_seconds(attempt) for attempt in range(1, attempts))
    assert span >= 24 * 3600, f"{attempts} attempts span only {span / 3600:.1f} hours"
    assert sending.max_attempts() == attempts


def test_nothing_to_say_when_the_outbox_moves():
    portal_admin()
    row(due=timezone.now() - timedelta(minutes=5))
    assert outbox_health.alert_if_stuck() == 0
    assert mail.outbox == []


def test_a_long_overdue_row_mails_the_administrators_once(caplog):
    admin = portal_admin(email="ops@portal.example")
    row(due=timezone.now() - timedelta(hours=2), last_error="SMTPServerDisconnected: refused")
    # when the check runs twice
    assert outbox_health.alert_if_stuck() == 1
    assert outbox_health.alert_if_stuck() == 0
    # then one mail, sent directly (no outbox row written for it)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [admin.email]
    assert "outbox is stuck" in mail.outbox[0].subject
    assert "SMTPServerDisconnected" in mail.outbox[0].body
    assert Notification.objects.count() == 1
    assert any("Outbox stuck" in r.getMessage() and r.levelname == "ERROR" for r in caplog.records)


def test_failed_rows_count_as_stuck():
    portal_admin()
    row(status="failed")
    assert outbox_health.alert_if_stuck() == 1


def test_alert_goes_through_the_second_mail_server_when_configured(settings):
    settings.ALERT_EMAIL_URL = "smtp://127.0.0.1:1"  # nothing listens: the failure is reported, not raised
    portal_admin()
    row(status="failed")
    assert outbox_health.alert_if_stuck() == 0
    settings.ALERT_EMAIL_URL = ""
    assert outbox_health.alert_if_stuck() == 1  # not marked as alerted when the mail did not go


def test_the_dashboard_shows_the_panel_to_portal_administrators_only(client):
    row(due=timezone.now() - timedelta(hours=2))
    admin = portal_admin()
    client.force_login(admin)
    html = client.get("/admin/").content.decode()
    assert "The outbox is stuck" in html
    assert "/admin/notifications/notification/?status__exact=pending" in html
    from portal.tests.factories import agency_user

    client.force_login(agency_user())
    assert "The outbox is stuck" not in client.get("/admin/").content.decode()


def test_no_panel_when_all_is_well(client):
    row(due=timezone.now() - timedelta(minutes=1))
    client.force_login(portal_admin())
    assert "The outbox is stuck" not in client.get("/admin/").content.decode()


def test_a_refusing_mail_server_is_one_warning_line_without_a_traceback(settings, caplog):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
    notification = row()
    caplog.clear()
    result, countdown = sending.send_notification(notification_id=notification.pk)
    assert result == sending.SendResult.RETRY
    assert countdown == 30
    lines = [r for r in caplog.records if r.levelno >= 30]
    assert len(lines) == 1
    assert lines[0].levelname == "WARNING"
    assert lines[0].exc_info is None
    assert "ConnectionRefusedError" in lines[0].getMessage()


def test_a_broker_that_is_down_is_one_warning_line_without_a_traceback(caplog):
    from portal.celery import app

    notification = row()
    previous = (app.conf.task_always_eager, app.conf.broker_url)
    app.conf.task_always_eager, app.conf.broker_url = False, "redis://127.0.0.1:1/0"
    caplog.clear()
    try:
        assert sending.enqueue([notification.pk]) == 0
    finally:
        app.conf.task_always_eager, app.conf.broker_url = previous
    lines = [r for r in caplog.records if r.levelno >= 30]
    assert len(lines) == 1
    assert lines[0].levelname == "WARNING"
    assert lines[0].exc_info is None
