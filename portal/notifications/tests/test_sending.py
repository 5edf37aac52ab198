"""Claim → send → mark: idempotent sending, retries with backoff, failure."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail

from portal.notifications import services
from portal.notifications.models import Notification
from portal.notifications.tasks import send_notification
from portal.notifications.tests.helpers import NOW
from portal.notifications.tests.helpers import make_row as _row

pytestmark = pytest.mark.django_db


def test_send_claims_sends_once_and_marks_sent(officer):
    row = _row(officer)
    assert services.send_notification(notification_id=row.pk) == (services.SendResult.SENT, None)
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert (row.attempts, row.last_error) == (1, "")
    (message,) = mail.outbox
    assert message.to == [officer.email]
    assert message.alternatives == [("<p>Hello</p>", "text/html")]


def test_the_same_task_delivered_twice_sends_one_mail(officer):
    row = _row(officer)
    first = send_notification.apply(args=[row.pk]).get()
    second = send_notification.apply(args=[row.pk]).get()
    assert (first, second) == ("sent", "skipped")
    assert len(mail.outbox) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_row_claimed_by_another_worker_is_not_sent_again(officer):
    # given a row another worker has claimed and is sending
    row = _row(officer)
    claimed, token = services.claim(row.pk)
    assert claimed.status == Notification.Status.SENDING
    assert token
    # when a duplicate task runs
    result = services.send_notification(notification_id=row.pk)
    # then it sends nothing
    assert result == (services.SendResult.SKIPPED, None)
    assert mail.outbox == []
    assert services.claim(row.pk) == (None, None)


@pytest.mark.parametrize("status", ["sent", "failed", "digest", "sending"])
def test_only_pending_rows_are_sent(officer, status):
    row = _row(officer, status=status)
    assert services.send_notification(notification_id=row.pk)[0] == services.SendResult.SKIPPED
    assert mail.outbox == []


def test_a_missing_row_is_skipped(db):
    assert services.send_notification(notification_id=987654)[0] == services.SendResult.SKIPPED


@time_machine.travel(NOW, tick=False)
def test_a_refusing_mail_server_backs_off_exponentially_then_fails(officer, failing_smtp, settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 10
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 35
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    row = _row(officer)
    outcomes = [services.send_notification(notification_id=row.pk) for _ in range(4)]
    assert outcomes == [
        (services.SendResult.RETRY, 10),
        (services.SendResult.RETRY, 20),
        (services.SendResult.RETRY, 35),  # 40, capped
        (services.SendResult.FAILED, None),
    ]
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.attempts == 4
    assert "SMTPDataError: (451" in row.last_error


@time_machine.travel(NOW, tick=False)
def test_a_failed_attempt_waits_until_its_next_attempt_time(officer, failing_smtp, settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 30
    row = _row(officer)
    services.send_notification(notification_id=row.pk)
    services.send_notification(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING
    assert row.available_at == NOW + timedelta(seconds=60)


def test_a_permanent_rejection_fails_at_once(officer, rejecting_smtp):
    row = _row(officer)
    assert services.send_notification(notification_id=row.pk) == (services.SendResult.FAILED, None)
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.attempts == 1
    assert "550" in row.last_error


def test_the_worker_task_retries_with_the_backoff_countdown(officer, failing_smtp, settings):
    # given a task run by a worker (not in-process), against a refusing server
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 0.5
    row = _row(officer)
    # when it runs
    with (
        mock.patch.object(send_notification, "retry", side_effect=Retry("retry")) as retry,
        pytest.raises(Retry),
    ):
        send_notification.run(row.pk)
    # then Celery is asked to retry after the backoff
    retry.assert_called_once_with(countdown=0.5)
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING


def test_in_process_the_task_does_not_retry_on_the_spot(officer, failing_smtp):
    row = _row(officer)
    with mock.patch.object(send_notification, "retry") as retry:
        assert send_notification.apply(args=[row.pk]).get() == "retry"
    retry.assert_not_called()


def test_a_digest_mail_marks_the_rows_it_carries_sent(officer):
    digest = _row(officer, event="digest", idempotency_key="digest:x")
    held = [_row(officer, status=Notification.Status.DIGEST, digest=digest) for _ in range(2)]
    waiting = _row(officer, status=Notification.Status.DIGEST)
    services.send_notification(notification_id=digest.pk)
    for row in held:
        row.refresh_from_db()
        assert row.status == Notification.Status.SENT
        assert row.sent_at is not None
    waiting.refresh_from_db()
    assert waiting.status == Notification.Status.DIGEST


@pytest.mark.parametrize(
    ("attempt", "seconds"),
    [(1, 30), (2, 60), (3, 120), (4, 240), (7, 1920), (8, 3600), (20, 3600)],
)
def test_backoff_doubles_from_the_base_up_to_the_cap(settings, attempt, seconds):
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 30
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 3600
    assert services.backoff_seconds(attempt) == seconds


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (services.smtplib.SMTPDataError(451, b"later"), False),
        (services.smtplib.SMTPDataError(554, b"no"), True),
        (services.smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), True),
        (services.smtplib.SMTPRecipientsRefused({"a@b": (450, b"busy"), "c@d": (550, b"no")}), False),
        (ConnectionRefusedError(111, "refused"), False),
        (services.smtplib.SMTPServerDisconnected("gone"), False),
    ],
)
def test_which_errors_are_permanent(error, permanent):
    assert services.is_permanent_error(error) is permanent
