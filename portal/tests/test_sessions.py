"""Idle sign-out (NIST AC-12): a session's deadline moves with use, written at most once a minute."""

import time
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.accounts.sessions import REFRESHED_AT_SESSION_KEY
from portal.tests.factories import vendor_user

pytestmark = pytest.mark.django_db

PAGE = "/accounts/security/"


def _deadline(client):
    return Session.objects.get(session_key=client.session.session_key).expire_date


def _session_writes(queries):
    return [q["sql"] for q in queries if '"django_session"' in q["sql"] and not q["sql"].startswith("SELECT")]


def _signed_in(client):
    client.force_login(vendor_user())
    assert client.get(PAGE).status_code == 200  # the first page moves the deadline
    return client


def test_pages_opened_within_a_minute_do_not_write_the_session(client):
    _signed_in(client)
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(PAGE).status_code == 200
        assert _session_writes(queries) == []


def test_a_page_more_than_a_minute_later_moves_the_idle_deadline(client, settings):
    _signed_in(client)
    # given a deadline last moved two minutes ago
    session = client.session
    session[REFRESHED_AT_SESSION_KEY] = int(time.time()) - 120
    session.save()
    two_minutes_old = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 120)
    Session.objects.filter(session_key=session.session_key).update(expire_date=two_minutes_old)
    # when a page is opened, the session is written once and its deadline is the full idle time away
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    assert len(_session_writes(queries)) == 1
    deadline = _deadline(client)
    assert deadline - two_minutes_old >= timedelta(seconds=115)
    assert deadline <= timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)


def test_a_session_idle_past_its_deadline_is_signed_out(client):
    _signed_in(client)
    Session.objects.filter(session_key=client.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    response = client.get(PAGE)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_page_reads_the_signed_in_person_and_their_organisation_in_one_query(client):
    _signed_in(client)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(PAGE).status_code == 200
    person_reads = [q["sql"] for q in queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(person_reads) == 1, person_reads
    assert 'JOIN "accounts_organisation"' in person_reads[0]
    assert not [q for q in queries if q["sql"].startswith('SELECT "accounts_organisation"')]
