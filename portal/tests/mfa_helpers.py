"""The test world's second factor (issue 13): give a person an authenticator, sign in verified."""

import time

from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.accounts import mfa


def give_authenticator(user):
    """A confirmed authenticator app for ``user`` (their existing one, if any)."""
    return mfa.confirmed_app(user) or TOTPDevice.objects.create(user=user, name="Test app", confirmed=True)


def code_for(user):
    """The code ``user``'s app shows now (a time step the device has not used yet)."""
    return mfa.current_code(TOTPDevice.objects.get(user=user, confirmed=True))


def verified_login(client, user, *, verified_seconds_ago=0):
    """``client.force_login(user)`` with a session that passed the second factor."""
    device = give_authenticator(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[mfa.VERIFIED_AT_SESSION_KEY] = time.time() - verified_seconds_ago
    session.save()
    return device
