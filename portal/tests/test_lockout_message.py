"""The lockout message says what is true: a completed password reset lifts the lock (issue 13)."""

import pytest
from django.conf import settings

from portal.tests.factories import PASSWORD, vendor_user

pytestmark = pytest.mark.django_db


def attempt(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_the_lockout_message_says_a_completed_reset_lifts_it(client):
    user = vendor_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, user.email, "wrong")
    page = " ".join(attempt(client, user.email, PASSWORD).content.decode().split())
    assert "Too many failed sign-ins" in page
    assert "a completed reset lifts the pause" in page
    assert "15 minutes" in page
