"""Referral clocks: 30 calendar days, stopped while a question is open, paused days added back."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

from approvals import services
from approvals.tests.factories import referral, refresh, submitted

pytestmark = pytest.mark.django_db


def noon(day):
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def late_evening(day):
    return datetime.combine(day, time(23, 30), tzinfo=ZoneInfo(settings.TIME_ZONE))


def test_due_date_is_thirty_calendar_days_across_a_month_end_and_a_leap_day(world):
    # 2028 is a leap year: January 31 + 30 days = March 1
    with time_machine.travel(noon(date(2028, 1, 31)), tick=False):
        access_request = submitted(world)
    assert referral(access_request, "DOC").due_date == date(2028, 3, 1)


def test_due_date_follows_the_portals_time_zone_not_utc(world):
    # 23:30 in Washington on January 31 is already February 1 in UTC
    with time_machine.travel(late_evening(date(2027, 1, 31)), tick=False):
        access_request = submitted(world)
    assert referral(access_request, "DOC").due_date == date(2027, 3, 2)


def test_a_pause_across_a_month_end_adds_the_stopped_days_to_the_due_date(world):
    # given a request referred on January 20 (due February 19)
    with time_machine.travel(noon(date(2027, 1, 20)), tick=False):
        access_request = submitted(world)
    doc = referral(access_request, "DOC")
    assert doc.due_date == date(2027, 2, 19)
    # when DOC asks on January 28 and the vendor answers on February 3 (6 days stopped)
    with time_machine.travel(noon(date(2027, 1, 28)), tick=False):
        question = services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Which regions?"
        )
        assert refresh(doc).days_remaining() == 22
    with time_machine.travel(noon(date(2027, 2, 2)), tick=False):
        # while stopped the clock shows the days left when it stopped
        assert refresh(doc).clock_stopped
        assert refresh(doc).days_remaining() == 22
    with time_machine.travel(noon(date(2027, 2, 3)), tick=False):
        services.answer_information_request(
            information_request=question, actor=world["officer"], answer="US only."
        )
        doc = refresh(doc)
        # then every clock resumes with the six days added back
        assert doc.due_date == date(2027, 2, 25)
        assert doc.paused_days == 6
        assert not doc.clock_stopped
        assert doc.days_remaining() == 22
    history = doc.history.order_by("-history_id").first()
    assert history.history_change_reason == "Clock resumed after 6 days stopped; now due February 25, 2027."
    for other in refresh(access_request).referrals.all():
        assert other.due_date == date(2027, 2, 25)


def test_two_pauses_add_up(world):
    with time_machine.travel(noon(date(2027, 3, 1)), tick=False):
        access_request = submitted(world)
    for asked, answered in ((date(2027, 3, 5), date(2027, 3, 8)), (date(2027, 3, 30), date(2027, 4, 2))):
        with time_machine.travel(noon(asked), tick=False):
            question = services.issue_information_request(
                access_request=refresh(access_request), actor=world["oncd_approver"], question="More?"
            )
        with time_machine.travel(noon(answered), tick=False):
            services.answer_information_request(
                information_request=question, actor=world["officer"], answer="Yes."
            )
    doc = referral(access_request, "DOC")
    assert doc.paused_days == 6
    assert doc.due_date == date(2027, 3, 31) + timedelta(days=6)


def test_a_question_answered_the_same_day_adds_nothing(world):
    with time_machine.travel(noon(date(2027, 5, 31)), tick=False):
        access_request = submitted(world)
        question = services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Quick one?"
        )
        services.answer_information_request(
            information_request=question, actor=world["officer"], answer="Yes."
        )
    doc = referral(access_request, "DOC")
    assert (doc.due_date, doc.paused_days) == (date(2027, 6, 30), 0)


def test_a_signed_referral_keeps_its_clock_when_another_agency_asks(world):
    with time_machine.travel(noon(date(2027, 6, 1)), tick=False):
        access_request = submitted(world)
        from approvals.tests.factories import sign

        sign(world, access_request, "OSTP")
    with time_machine.travel(noon(date(2027, 6, 10)), tick=False):
        question = services.issue_information_request(
            access_request=refresh(access_request), actor=world["doc_reviewer"], question="Q?"
        )
    with time_machine.travel(noon(date(2027, 6, 14)), tick=False):
        services.answer_information_request(information_request=question, actor=world["officer"], answer="A.")
    assert referral(access_request, "OSTP").due_date == date(2027, 7, 1)
    assert referral(access_request, "DOC").due_date == date(2027, 7, 5)
