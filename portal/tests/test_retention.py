"""Retention: old sent notifications and sign-in events go; nothing else does."""

from datetime import timedelta

import pytest
from django.utils import timezone

from portal import retention
from portal.accounts.models import SignInEvent, User
from portal.notifications.models import Notification
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.django_db


def notification(user, key, status, sent_days_ago):
    sent_at = timezone.now() - timedelta(days=sent_days_ago) if sent_days_ago is not None else None
    return Notification.objects.create(
        recipient=user, event="x", subject="s", body="b", idempotency_key=key, status=status, sent_at=sent_at
    )


def sign_in(user, days_ago):
    fields = {f.name for f in SignInEvent._meta.fields}
    data = {"at": timezone.now() - timedelta(days=days_ago)}
    if "email" in fields:
        data["email"] = user.email
    if "user" in fields:
        data["user"] = user
    if "outcome" in fields:
        data["outcome"] = SignInEvent.Outcome.values[0]
    return SignInEvent.objects.create(**data)


def test_prunes_only_old_sent_notifications_and_old_sign_in_events(settings):
    settings.RETENTION_NOTIFICATIONS_DAYS = 90
    settings.RETENTION_SIGN_IN_EVENTS_DAYS = 30
    user = vendor_user()
    old_sent = notification(user, "a", "sent", 100)
    recent_sent = notification(user, "b", "sent", 10)
    old_failed = notification(user, "c", "failed", None)
    Notification.objects.filter(pk=old_failed.pk).update(created_at=timezone.now() - timedelta(days=400))
    old_event, new_event = sign_in(user, 31), sign_in(user, 29)
    history_before = User.history.count()

    assert retention.prune() == {"notifications": 1, "sign_in_events": 1}

    assert set(Notification.objects.values_list("pk", flat=True)) == {recent_sent.pk, old_failed.pk}
    assert not Notification.objects.filter(pk=old_sent.pk).exists()
    assert set(SignInEvent.objects.values_list("pk", flat=True)) == {new_event.pk}
    assert not SignInEvent.objects.filter(pk=old_event.pk).exists()
    assert User.history.count() == history_before


def test_zero_keeps_everything(settings):
    settings.RETENTION_NOTIFICATIONS_DAYS = 0
    settings.RETENTION_SIGN_IN_EVENTS_DAYS = 0
    user = vendor_user()
    notification(user, "a", "sent", 1000)
    sign_in(user, 1000)
    assert retention.prune() == {"notifications": 0, "sign_in_events": 0}


def test_runs_as_a_scheduled_job(settings, tmp_path):
    from portal import scheduling

    settings.SCHEDULER_STATE_FILE = tmp_path / "s.json"
    user = vendor_user()
    notification(user, "a", "sent", 1000)
    assert scheduling.run_job("portal-prune-retention") == {"notifications": 1, "sign_in_events": 0}
