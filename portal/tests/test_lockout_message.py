"""The lockout message says what is true: a password reset does not lift the lock."""

import pytest

from portal.accounts import throttle
from portal.tests.factories import PASSWORD, vendor_user

pytestmark = pytest.mark.django_db


def attempt(client, email, password):
    return client.post("/accounts/login/", {"username": email, "password": password})


def test_the_lockout_message_does_not_promise_that_a_reset_lifts_it(client):
    user = vendor_user()
    for _ in range(throttle.MAX_FAILURES_PER_EMAIL):
        attempt(client, user.email, "wrong")
    page = " ".join(attempt(client, user.email, PASSWORD).content.decode().split())
    assert "Too many failed sign-ins" in page
    assert "or reset your password" not in page
    assert "A password reset does not lift it" in page
    assert "15 minutes" in page
