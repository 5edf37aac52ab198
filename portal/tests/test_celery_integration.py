"""A task's round trip through a real Celery worker on Redis, writing to the test database."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from portal.accounts.services import SYSTEM_EMAIL
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.integration


def test_task_round_trip_through_a_real_worker_writes_history(celery_worker_process):
    # given an account nobody has used for four months
    dormant = vendor_user(last_login=timezone.now() - timedelta(days=120))
    # when the scheduled job is delivered through Redis to a real worker
    celery_worker_process.send("accounts.deactivate_dormant_accounts")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        dormant.refresh_from_db()
        if not dormant.is_active:
            break
        time.sleep(0.2)
    # then the worker changed the row and its history names the system account and the reason
    assert not dormant.is_active, celery_worker_process.log()
    record = dormant.history.latest()
    assert record.history_user.email == SYSTEM_EMAIL
    assert "no sign-in for 90 days" in record.history_change_reason
    assert "accounts.deactivate_dormant_accounts" in celery_worker_process.log()
