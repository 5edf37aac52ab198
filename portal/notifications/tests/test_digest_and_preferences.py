"""Daily digest of routine notifications, delivery preferences, marking read."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from portal.errors import PortalError
from portal.notifications import selectors, services
from portal.notifications.models import DIGEST_EVENT, Notification, NotificationPreference
from portal.notifications.tests.helpers import make_row
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.django_db

# 15:00 UTC is 10:00 in New York (TIME_ZONE), after the default digest hour of 7.
MORNING = "2026-12-01 15:00:00+00:00"
NIGHT = "2026-12-01 09:00:00+00:00"  # 04:00 in New York


def _held(user, subject="Routine"):
    return make_row(user, status=Notification.Status.DIGEST, immediate=False, subject=subject)


def test_no_digest_before_the_digest_hour(officer):
    _held(officer)
    with time_machine.travel(NIGHT, tick=False):
        assert services.send_digests() == 0
    assert not Notification.objects.filter(event=DIGEST_EVENT).exists()


def test_one_digest_per_person_carries_their_held_notifications(
    officer, colleague, django_capture_on_commit_callbacks
):
    # given two held notifications for one person and one for another
    first = _held(officer, "[FAR-1] Position drafted")
    second = _held(officer, "[FAR-2] Information answered")
    other = _held(colleague, "[FAR-3] Referral received")
    # when the digest job runs in the morning
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        assert services.send_digests() == 2
    # then each person gets one mail listing their own items
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert set(by_recipient) == {officer.email, colleague.email}
    mine = by_recipient[officer.email]
    assert mine.subject == "Your daily summary: 2 notifications"
    assert "[FAR-1] Position drafted" in mine.body
    assert "[FAR-2] Information answered" in mine.body
    assert "[FAR-3]" not in mine.body
    assert "[FAR-1] Position drafted" in mine.alternatives[0][0]
    # and the held rows count as sent, through the digest they went out in
    for row in (first, second, other):
        row.refresh_from_db()
        assert row.status == Notification.Status.SENT
        assert row.digest is not None


def test_a_second_run_the_same_day_sends_nothing_more(officer, django_capture_on_commit_callbacks):
    _held(officer)
    with time_machine.travel(MORNING, tick=False), django_capture_on_commit_callbacks(execute=True):
        services.send_digests()
    late = _held(officer, "Later the same day")
    with (
        time_machine.travel("2026-12-01 20:00:00+00:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.send_digests() == 0
    late.refresh_from_db()
    assert late.status == Notification.Status.DIGEST
    assert len(mail.outbox) == 1
    # the next morning it goes out
    with (
        time_machine.travel("2026-12-02 15:00:00+00:00", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.send_digests() == 1
    assert "Later the same day" in mail.outbox[-1].body


def test_the_digest_mail_is_not_an_in_app_notification(officer):
    _held(officer)
    with time_machine.travel(MORNING, tick=False):
        services.send_digests()
    digest = Notification.objects.get(event=DIGEST_EVENT)
    assert digest.read_at is not None
    assert list(selectors.notifications_for(officer)) == [
        Notification.objects.exclude(event=DIGEST_EVENT).get()
    ]


def test_the_digest_command_writes_digests_at_any_hour(officer):
    _held(officer)
    with time_machine.travel(NIGHT, tick=False):
        call_command("send_digests")
    assert Notification.objects.filter(event=DIGEST_EVENT, recipient=officer).count() == 1


def test_inactive_people_get_no_digest(officer):
    _held(officer)
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    with time_machine.travel(MORNING, tick=False):
        assert services.send_digests() == 0


def test_a_person_chooses_the_digest_and_history_records_it(officer):
    preference = services.set_delivery_preference(user=officer, actor=officer, delivery="digest")
    assert preference.delivery == NotificationPreference.Delivery.DIGEST
    record = preference.history.latest()
    assert record.history_user == officer
    assert record.history_change_reason == "Notification delivery set to one daily digest."
    assert selectors.delivery_preference(officer) == "digest"


def test_nobody_changes_someone_elses_preference(officer, colleague):
    with pytest.raises(PortalError, match="only your own"):
        services.set_delivery_preference(user=officer, actor=colleague, delivery="digest")
    assert selectors.delivery_preference(officer) == "immediate"


def test_an_unknown_delivery_is_refused_on_its_field(officer):
    with pytest.raises(PortalError) as err:
        services.set_delivery_preference(user=officer, actor=officer, delivery="weekly")
    assert err.value.field == "delivery"


def test_mark_read_and_mark_all_read(officer, colleague):
    rows = [make_row(officer) for _ in range(3)]
    theirs = make_row(colleague)
    services.mark_read(notification=rows[0], actor=officer)
    rows[0].refresh_from_db()
    first_read = rows[0].read_at
    assert first_read is not None
    # reading again keeps the first time
    services.mark_read(notification=rows[0], actor=officer)
    rows[0].refresh_from_db()
    assert rows[0].read_at == first_read
    assert services.mark_all_read(actor=officer) == 2
    assert selectors.unread_count(officer) == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_nobody_marks_someone_elses_notification_read(officer, colleague):
    row = make_row(officer)
    with pytest.raises(PortalError):
        services.mark_read(notification=row, actor=colleague)
    row.refresh_from_db()
    assert row.read_at is None


def test_notifications_newest_first_and_only_ones_own(officer):
    other = vendor_user()
    old = make_row(officer)
    old.created_at -= timedelta(days=1)
    old.save(update_fields=["created_at"])
    new = make_row(officer)
    make_row(other)
    assert list(selectors.notifications_for(officer)) == [new, old]
