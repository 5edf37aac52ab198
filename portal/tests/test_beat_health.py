"""The beat container's health check: healthy while the every-minute sweep keeps being sent."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

pytestmark = pytest.mark.django_db


def sweep(last_run_at):
    every_minute = IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
    return PeriodicTask.objects.create(
        name="notifications-sweep-outbox",
        task="notifications.sweep_outbox",
        interval=every_minute,
        last_run_at=last_run_at,
    )


def test_unhealthy_before_beat_ever_ran():
    with pytest.raises(CommandError, match="has not sent"):
        call_command("beat_health")


def test_healthy_after_a_recent_sweep(capsys):
    sweep(timezone.now() - timedelta(seconds=70))
    call_command("beat_health", max_age=300)
    assert "ok" in capsys.readouterr().out


def test_unhealthy_when_beat_stopped_sending():
    sweep(timezone.now() - timedelta(minutes=10))
    with pytest.raises(CommandError, match="last sent"):
        call_command("beat_health", max_age=300)
