"""Fault tests: the outbox against a real Redis, real Celery workers and a real SMTP server.

Run on PostgreSQL (``DATABASE_URL=postgres://…``); each test starts its own redis-server and
SMTP server on free ports and its own workers, and stays within a bounded time.
"""

import smtplib
import time
from collections import Counter
from itertools import pairwise

import pytest
from django.conf import settings
from django.db import transaction

from portal.audit.history import save_with_history
from portal.notifications import sending, services
from portal.notifications.models import Notification
from portal.notifications.tests.faults import wait_for
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.integration


def _decide(*, team, key, actor):
    """A stand-in for a decision: one domain change and its notifications, in one transaction."""
    with transaction.atomic():
        actor.full_name = f"Decided {key}"
        save_with_history(actor, actor=actor, reason=f"Decision {key} recorded.", update_fields=["full_name"])
        return services.notify(
            event="decision_approved",
            recipients=team,
            subject="Decision: approved",
            context={"summary": "Your access request was approved."},
            link="/vendor/requests/FAR-2026-000777/",
            key=key,
            tracking_number="FAR-2026-000777",
        )


def _statuses():
    return Counter(Notification.objects.values_list("status", flat=True))


def _team(size):
    first = vendor_user()
    return [first, *(vendor_user(organisation=first.organisation) for _ in range(size - 1))]


def test_redis_stopped_when_a_decision_commits_loses_nothing(fault_stack):
    # given a running worker, and then Redis stopped
    stack = fault_stack
    stack.start_worker()
    team = _team(3)
    stack.redis.stop()
    # when a decision commits while the broker is down
    started = time.monotonic()
    rows = _decide(team=team, key="decision:1", actor=team[0])
    commit_seconds = time.monotonic() - started
    # then the decision stands, its notifications wait in the outbox, and the commit did not hang
    team[0].refresh_from_db()
    assert team[0].full_name == "Decided decision:1"
    assert team[0].history.latest().history_change_reason == "Decision decision:1 recorded."
    assert len(rows) == 3
    assert _statuses() == {"pending": 3}
    assert commit_seconds < 3
    assert stack.smtp.keys() == []
    # when Redis is back and the beat job sweeps the outbox
    stack.redis.start()
    time.sleep(1.2)  # older than NOTIFICATIONS_SWEEP_PENDING_AFTER=1 in the worker

    def swept_and_delivered():
        if len(stack.smtp.keys()) >= 3:
            return True
        stack.send_task("notifications.sweep_outbox")  # what beat does every minute
        time.sleep(0.5)
        return False

    wait_for(swept_and_delivered, timeout=45, interval=0.5, message=f"the sweep to deliver\n{stack.logs()}")
    time.sleep(1.0)  # room for any duplicate to arrive
    # then each member of the team got exactly one mail, with the right link
    assert sorted(item["to"][0] for item in stack.smtp.accepted) == sorted(u.email for u in team)
    assert stack.smtp.duplicates() == {}
    assert _statuses() == {"sent": 3}
    body = stack.smtp.accepted[0]["message"].get_payload(0).get_payload(decode=True).decode()
    assert f"{settings.PORTAL_BASE_URL}/vendor/requests/FAR-2026-000777/" in body
    assert stack.smtp.accepted[0]["subject"] == "[FAR-2026-000777] Decision: approved"


def test_smtp_refusing_retries_with_backoff_then_delivers_each_mail_once(fault_stack):
    # given a mail server that answers 451 for the next 4 seconds
    stack = fault_stack
    stack.start_worker()
    team = _team(5)
    stack.smtp.refuse_until = time.monotonic() + 4
    # when a decision notifies five people
    _decide(team=team, key="decision:2", actor=team[0])
    # then the worker retries with growing pauses until the server recovers
    wait_for(
        lambda: len(stack.smtp.keys()) >= 5,
        timeout=60,
        interval=0.2,
        message=f"delivery after the server recovers\n{stack.logs()}",
    )
    time.sleep(1.5)
    assert stack.smtp.duplicates() == {}
    assert sorted(stack.smtp.keys()) == sorted(Notification.objects.values_list("idempotency_key", flat=True))
    assert _statuses() == {"sent": 5}
    refusals = {}
    for key, at in stack.smtp.refusals:
        refusals.setdefault(key, []).append(at)
    assert len(refusals) == 5, "every mail met the refusing server at least once"
    for times in refusals.values():
        gaps = [later - earlier for earlier, later in pairwise(times)]
        # 0.25 s, 0.5 s, 1 s, 2 s …: no attempt comes before its backoff (a loaded machine
        # only makes the pauses longer, so each is checked against its own lower bound)
        assert len(gaps) >= 2
        for attempt, gap in enumerate(gaps):
            assert gap >= 0.8 * 0.25 * 2**attempt, (attempt, gaps)
    for row in Notification.objects.all():
        assert row.attempts == len(refusals[row.idempotency_key]) + 1
        assert row.last_error == ""


def test_a_worker_killed_while_sending_and_a_duplicated_task_send_each_mail_once(fault_stack):
    # given a mail server that stalls in DATA, and a worker sending one notification
    stack = fault_stack
    first = stack.start_worker()
    team = _team(1)
    stack.smtp.stall = True
    (row,) = _decide(team=team, key="decision:3", actor=team[0])
    assert stack.smtp.in_data.wait(timeout=30), stack.logs()
    row.refresh_from_db()
    assert row.status == Notification.Status.SENDING
    # when the worker is killed in the middle of the SMTP conversation
    first.kill()
    time.sleep(0.5)  # the server notices the closed connection and abandons the DATA
    stack.smtp.stall = False
    # then the server accepted nothing, and the row is still held by the dead worker's claim
    assert stack.smtp.keys() == []
    row.refresh_from_db()
    assert row.status == Notification.Status.SENDING
    # when a new worker starts and the same task is delivered twice more
    second = stack.start_worker()
    stack.send_task("notifications.send_notification", row.pk)
    stack.send_task("notifications.send_notification", row.pk)
    wait_for(lambda: second.log().count("'skipped'") >= 2, timeout=20, message=f"two skips\n{stack.logs()}")
    # then neither sends while the lease holds
    assert stack.smtp.keys() == []
    # when the lease has run out and the sweep runs
    wait_for(
        lambda: stack.send_task("notifications.sweep_outbox") and stack.smtp.keys(),
        timeout=30,
        interval=1.0,
        message=f"the sweep to reclaim and send\n{stack.logs()}",
    )
    # and the task is delivered twice yet again
    stack.send_task("notifications.send_notification", row.pk)
    stack.send_task("notifications.send_notification", row.pk)
    wait_for(
        lambda: second.log().count("'skipped'") >= 4, timeout=20, message=f"two more skips\n{stack.logs()}"
    )
    time.sleep(0.5)
    # then the mail arrived exactly once
    assert stack.smtp.keys() == [row.idempotency_key]
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT
    assert row.attempts == 2
    assert stack.smtp.accepted[0]["message_id"] == sending.message_id_for(row)


def test_duplicated_deliveries_to_two_workers_send_each_mail_once(fault_stack):
    # given two workers consuming the same queue
    stack = fault_stack
    stack.start_worker(wait=False)
    stack.start_worker(wait=False)
    for worker in stack.workers:
        worker.wait_ready()
    team = _team(10)
    # when 100 notifications commit and every task is delivered two more times
    with transaction.atomic():
        for n in range(10):
            services.notify(
                event="request_received_example",
                recipients=team,
                subject=f"Update {n}",
                key=f"dup:{n}",
            )
    ids = list(Notification.objects.values_list("pk", flat=True))
    for pk in ids * 2:
        stack.send_task("notifications.send_notification", pk)
    wait_for(lambda: len(stack.smtp.keys()) >= 100, timeout=60, message=f"100 mails\n{stack.logs()}")
    # (the batches queued at commit, 50 rows each, and 200 single deliveries)
    deliveries = 200 + -(-100 // sending.batch_size())
    wait_for(
        lambda: sum(w.log().count("succeeded in") for w in stack.workers) >= deliveries,
        timeout=60,
        message=f"all {deliveries} deliveries processed\n{stack.logs()}",
    )
    # then each of the 100 mails arrived exactly once
    assert len(stack.smtp.keys()) == 100
    assert stack.smtp.duplicates() == {}
    assert _statuses() == {"sent": 100}


def test_a_thousand_notifications_through_the_worker(fault_stack, capsys):
    # given one worker and 1,000 notifications committed at once (20 people × 50 events)
    stack = fault_stack
    stack.start_worker()
    people = _team(20)
    with transaction.atomic():
        for n in range(50):
            services.notify(
                event="request_received_example",
                recipients=people,
                subject=f"Routine update {n}",
                context={"summary": f"Update number {n}."},
                link=f"/vendor/requests/FAR-2026-{n:06d}/",
                key=f"bulk:{n}",
            )
        started = time.monotonic()
    queued_seconds = time.monotonic() - started
    # when the worker drains the queue
    wait_for(lambda: len(stack.smtp.keys()) >= 1000, timeout=120, interval=0.2, message="1,000 mails")
    elapsed = time.monotonic() - started
    time.sleep(1.0)
    # then all were delivered, none twice
    assert len(stack.smtp.keys()) == 1000
    assert stack.smtp.duplicates() == {}
    assert _statuses() == {"sent": 1000}
    # and, for the ratio the benchmark reports, the same 1,000 messages over one plain
    # smtplib connection to the same server (printed, never asserted: speed is not a test)
    rows = Notification.objects.select_related("recipient")
    messages = [sending.build_message(row).message() for row in rows]
    plain_started = time.monotonic()
    with smtplib.SMTP("127.0.0.1", stack.smtp_controller.port) as smtp:
        for message in messages:
            smtp.send_message(message)
    plain = time.monotonic() - plain_started
    with capsys.disabled():
        print(
            f"\n[notifications] 1,000 notifications: queued after commit in {queued_seconds:.2f}s, "
            f"delivered over SMTP by one solo worker in {elapsed:.1f}s = {1000 / elapsed:.0f} mails/s; "
            f"plain smtplib on one connection: {1000 / plain:.0f} mails/s; "
            f"worker / plain = {plain / elapsed:.2f} (goal >= 0.50)"
        )
