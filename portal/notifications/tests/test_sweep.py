"""The outbox sweep and a portal administrator's retry."""

from datetime import timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.utils import timezone

from portal.errors import PortalError
from portal.notifications import services
from portal.notifications.models import Notification
from portal.notifications.tasks import send_batch, sweep_outbox
from portal.notifications.tests.helpers import NOW
from portal.notifications.tests.helpers import make_row as _row
from portal.tests.factories import agency_user, auditor, portal_admin

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _sweep_settings(settings):
    settings.NOTIFICATIONS_SWEEP_PENDING_AFTER = 300
    settings.NOTIFICATIONS_SENDING_LEASE = 900
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3


@time_machine.travel(NOW, tick=False)
def test_sweep_queues_pending_rows_left_longer_than_the_grace_period(officer):
    # given one row the broker never got five minutes ago, and one just written
    old = _row(officer, available_at=NOW - timedelta(seconds=301))
    new = _row(officer, available_at=NOW - timedelta(seconds=10))
    # when the sweep runs
    counts = services.sweep_outbox()
    # then only the old one is sent
    assert counts == {"reclaimed": 0, "failed": 0, "requeued": 1, "queued": 1}
    old.refresh_from_db()
    new.refresh_from_db()
    assert old.status == Notification.Status.SENT
    assert new.status == Notification.Status.PENDING
    assert len(mail.outbox) == 1


@time_machine.travel(NOW, tick=False)
def test_sweep_moves_the_next_attempt_time_so_the_next_run_does_not_queue_twice(officer):
    row = _row(officer, available_at=NOW - timedelta(hours=1))
    with mock.patch.object(send_batch, "apply_async") as apply_async:
        services.sweep_outbox()
        services.sweep_outbox()
    apply_async.assert_called_once_with(([row.pk],), retry=False)
    row.refresh_from_db()
    assert row.available_at == NOW


@time_machine.travel(NOW, tick=False)
def test_sweep_leaves_rows_waiting_for_their_backoff(officer):
    _row(officer, attempts=1, available_at=NOW + timedelta(seconds=60))
    assert services.sweep_outbox()["requeued"] == 0


@time_machine.travel(NOW, tick=False)
def test_sweep_gives_back_a_row_held_by_a_dead_worker_after_the_lease(officer):
    # given a row claimed 16 minutes ago whose worker never came back
    stuck = _row(
        officer, status="sending", attempts=1, claimed_at=NOW - timedelta(minutes=16), claim_token="t"
    )
    # and one being sent right now
    busy = _row(officer, status="sending", attempts=1, claimed_at=NOW - timedelta(seconds=5), claim_token="u")
    # when the sweep runs
    counts = services.sweep_outbox()
    # then the stuck one is sent again, once, and the busy one is left alone
    assert counts["reclaimed"] == 1
    stuck.refresh_from_db()
    busy.refresh_from_db()
    assert stuck.status == Notification.Status.SENT
    assert stuck.attempts == 2
    assert busy.status == Notification.Status.SENDING
    assert [m.to for m in mail.outbox] == [[officer.email]]


@time_machine.travel(NOW, tick=False)
def test_sweep_fails_a_dead_workers_row_that_has_no_attempts_left(officer):
    row = _row(officer, status="sending", attempts=3, claimed_at=NOW - timedelta(hours=1), claim_token="t")
    assert services.sweep_outbox()["failed"] == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED
    assert "stopped before recording the result" in row.last_error
    assert mail.outbox == []


@time_machine.travel(NOW, tick=False)
def test_sweep_fails_pending_rows_out_of_attempts(officer):
    row = _row(officer, attempts=3, available_at=NOW - timedelta(hours=1))
    assert services.sweep_outbox()["failed"] == 1
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED


@time_machine.travel(NOW, tick=False)
def test_sweep_stops_queueing_at_the_first_broker_failure(officer, settings):
    from kombu.exceptions import OperationalError

    settings.NOTIFICATIONS_BATCH_SIZE = 1
    for _ in range(3):
        _row(officer, available_at=NOW - timedelta(hours=1))
    with mock.patch.object(send_batch, "apply_async", side_effect=OperationalError("down")) as apply:
        counts = services.sweep_outbox()
    assert counts["requeued"] == 3
    assert counts["queued"] == 0
    assert apply.call_count == 1
    assert set(Notification.objects.values_list("status", flat=True)) == {"pending"}


def test_the_beat_task_runs_the_sweep(officer):
    _row(officer, available_at=timezone.now() - timedelta(hours=1))
    assert sweep_outbox.apply().get()["queued"] == 1


def test_the_sweep_command_can_queue_everything_now(officer):
    from io import StringIO

    from django.core.management import call_command

    _row(officer)
    _row(officer, attempts=1, available_at=timezone.now() + timedelta(minutes=5))
    out = StringIO()
    call_command("sweep_outbox", stdout=out)
    assert "queued: 0" in out.getvalue()
    call_command("sweep_outbox", "--now", stdout=out)
    assert "queued: 2" in out.getvalue()
    assert len(mail.outbox) == 2


def test_a_portal_administrator_retries_a_failed_notification(officer, django_capture_on_commit_callbacks):
    admin = portal_admin()
    row = _row(officer, status="failed", attempts=3, last_error="SMTPDataError: 451")
    with django_capture_on_commit_callbacks(execute=True):
        services.retry_notification(notification=row, actor=admin)
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 1
    assert row.retried_by == admin
    assert row.retried_at is not None
    assert len(mail.outbox) == 1


@pytest.mark.parametrize("make_actor", [auditor, agency_user, lambda: None])
def test_only_a_portal_administrator_may_retry(officer, make_actor):
    row = _row(officer, status="failed", attempts=3)
    with pytest.raises(PortalError, match="Only a portal administrator"):
        services.retry_notification(notification=row, actor=make_actor())
    row.refresh_from_db()
    assert row.status == Notification.Status.FAILED


def test_the_recipient_may_not_retry(officer):
    row = _row(officer, status="failed", attempts=3)
    with pytest.raises(PortalError):
        services.retry_notification(notification=row, actor=officer)


@pytest.mark.parametrize("status", ["pending", "sending", "sent", "digest"])
def test_only_failed_notifications_can_be_retried(officer, status):
    row = _row(officer, status=status)
    with pytest.raises(PortalError, match="Only a failed notification"):
        services.retry_notification(notification=row, actor=portal_admin())
    row.refresh_from_db()
    assert row.status == status
