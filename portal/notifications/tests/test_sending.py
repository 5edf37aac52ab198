"""Claim → send → mark: idempotent sending, retries with backoff, failure."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from celery.exceptions import Retry
from django.core import mail

from portal.notifications import sending
from portal.notifications.models import Notification
from portal.notifications.tasks import send_notification
from portal.notifications.tests.helpers import NOW
from portal.notifications.tests.helpers import make_row as _row

pytestmark = pytest.mark.django_db


def test_send_claims_sends_once_and_marks_sent(officer):
    row = _row(officer)
    assert sending.send_notification(notification_id=row.pk) == (sending.SendResult.SENT, None)
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
    claimed, token = sending.claim(row.pk)
    assert claimed.status == Notification.Status.SENDING
    assert token
    # when a duplicate task runs
    result = sending.send_notification(notification_id=row.pk)
    # then it sends nothing
    assert result == (sending.SendResult.SKIPPED, None)
    assert mail.outbox == []
    assert sending.claim(row.pk) == (None, None)


@pytest.mark.parametrize("status", ["sent", "failed", "digest", "sending"])
def test_only_pending_rows_are_sent(officer, status):
    row = _row(officer, status=status)
    assert sending.send_notification(notification_id=row.pk)[0] == sending.SendResult.SKIPPED
    assert mail.outbox == []


def test_a_missing_row_is_skipped(db):
    assert sending.send_notification(notification_id=987654)[0] == sending.SendResult.SKIPPED


@time_machine.travel(NOW, tick=False)
def test_a_refusing_mail_server_backs_off_exponentially_then_fails(officer, failing_smtp, settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 10
    settings.NOTIFICATIONS_RETRY_BACKOFF_MAX = 35
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 4
    row = _row(officer)
    outcomes = [sending.send_notification(notification_id=row.pk) for _ in range(4)]
    assert outcomes == [
        (sending.SendResult.RETRY, 10),
        (sending.SendResult.RETRY, 20),
        (sending.SendResult.RETRY, 35),  # 40, capped
        (sending.SendResult.FAILED, None),
    ]
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert row.attempts == 4
    assert "SMTPDataError: (451" in row.last_error


@time_machine.travel(NOW, tick=False)
def test_a_failed_attempt_waits_until_its_next_attempt_time(officer, failing_smtp, settings):
    settings.NOTIFICATIONS_RETRY_BACKOFF_BASE = 30
    row = _row(officer)
    sending.send_notification(notification_id=row.pk)
    sending.send_notification(notification_id=row.pk)
    row.refresh_from_db()
    assert row.status == Notification.Status.PENDING
    assert row.available_at == NOW + timedelta(seconds=60)


def test_a_permanent_rejection_fails_at_once(officer, rejecting_smtp):
    row = _row(officer)
    assert sending.send_notification(notification_id=row.pk) == (sending.SendResult.FAILED, None)
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
    sending.send_notification(notification_id=digest.pk)
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
    assert sending.backoff_seconds(attempt) == seconds


@pytest.mark.parametrize(
    ("error", "permanent"),
    [
        (sending.smtplib.SMTPDataError(451, b"later"), False),
        (sending.smtplib.SMTPDataError(554, b"no"), True),
        (sending.smtplib.SMTPRecipientsRefused({"a@b": (550, b"no")}), True),
        (sending.smtplib.SMTPRecipientsRefused({"a@b": (450, b"busy"), "c@d": (550, b"no")}), False),
        (ConnectionRefusedError(111, "refused"), False),
        (sending.smtplib.SMTPServerDisconnected("gone"), False),
    ],
)
def test_which_errors_are_permanent(error, permanent):
    assert sending.is_permanent_error(error) is permanent


@pytest.fixture
def counting_backend(settings):
    from portal.notifications.tests.backends import CountingBackend

    settings.EMAIL_BACKEND = "portal.notifications.tests.backends.CountingBackend"
    CountingBackend.sessions = 0
    CountingBackend.delivered = []
    return CountingBackend


def test_a_batch_goes_over_one_smtp_session(officer, counting_backend):
    from portal.tests.factories import vendor_user

    people = [vendor_user(organisation=officer.organisation, email=f"p{n}@aurora.example") for n in range(30)]
    rows = [_row(person) for person in people]
    outcomes = sending.send_batch(notification_ids=[row.pk for row in rows])
    assert set(outcomes.values()) == {(sending.SendResult.SENT, None)}
    assert counting_backend.sessions == 1
    assert sorted(counting_backend.delivered) == sorted(p.email for p in people)
    assert set(Notification.objects.values_list("status", flat=True)) == {"sent"}


def test_a_batch_records_each_rows_own_failure_and_sends_the_rest(officer, counting_backend):
    from portal.tests.factories import vendor_user

    org = officer.organisation
    ok, bounce, busy, last = (
        _row(vendor_user(organisation=org, email=email))
        for email in ("ok@a.example", "bounce@a.example", "busy@a.example", "last@a.example")
    )
    outcomes = sending.send_batch(notification_ids=[ok.pk, bounce.pk, busy.pk, last.pk])
    assert outcomes[ok.pk] == (sending.SendResult.SENT, None)
    assert outcomes[bounce.pk] == (sending.SendResult.FAILED, None)
    assert outcomes[busy.pk][0] == sending.SendResult.RETRY
    assert outcomes[last.pk] == (sending.SendResult.SENT, None)
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {ok.pk: "sent", bounce.pk: "failed", busy.pk: "pending", last.pk: "sent"}
    # one session throughout: a refusal from the server leaves the session usable
    assert counting_backend.sessions == 1
    # and a second delivery of the same batch sends nothing again
    assert sending.send_batch(notification_ids=[ok.pk, bounce.pk, last.pk]) == {}
    assert counting_backend.delivered == ["ok@a.example", "last@a.example"]


def test_enqueue_publishes_one_task_per_batch(officer, settings):
    from portal.notifications.tasks import send_batch

    settings.NOTIFICATIONS_BATCH_SIZE = 2
    rows = [_row(officer) for _ in range(5)]
    with mock.patch.object(send_batch, "apply_async") as apply_async:
        assert sending.enqueue([row.pk for row in rows]) == 5
    assert [call.args[0][0] for call in apply_async.call_args_list] == [
        [rows[0].pk, rows[1].pk],
        [rows[2].pk, rows[3].pk],
        [rows[4].pk],
    ]
