"""Scheduled jobs call their services (run in-process here)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from approvals import tasks
from approvals.models import AccessRequest, Grant
from approvals.tests.factories import all_concur, refresh, submitted
from portal.notifications.models import Notification


def _run(task):
    """Run ``task`` in this process, as the worker calls it, and give its result."""
    return task()


pytestmark = pytest.mark.django_db


def noon(day):
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_return_lapsed_requests_task(world):
    from approvals import services

    access_request = submitted(world)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q"
    )
    with time_machine.travel(noon(question.deadline + timedelta(days=1)), tick=False):
        assert _run(tasks.return_lapsed_requests) == 1
    assert refresh(access_request).status == AccessRequest.Status.RETURNED


def test_reminder_and_expiry_tasks(world):
    from approvals import services

    access_request = all_concur(world, submitted(world))
    grant = services.record_decision(access_request=access_request, actor=world["doc_approver"]).grant
    with time_machine.travel(noon(grant.valid_to - timedelta(days=7)), tick=False):
        assert _run(tasks.send_clock_reminders) == 2
    assert Notification.objects.filter(event="grant_expiring").count() == 2
    with time_machine.travel(noon(grant.valid_to + timedelta(days=1)), tick=False):
        assert _run(tasks.expire_lapsed_grants) == 1
        assert _run(tasks.expire_lapsed_grants) == 0
    grant = refresh(grant)
    assert grant.status == Grant.Status.EXPIRED
    assert grant.history.order_by("-history_id").first().history_change_reason.startswith("Expired")
