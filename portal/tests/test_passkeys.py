"""Passkeys beside the authenticator app (issue 13): the security page, adding (only with a fresh
second factor), removing (one's own, never the last), the lost-device reset, and the scripts
served from static files. The ceremonies themselves run in Chromium: tests/browser/test_passkeys.py."""

import json
import re

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from portal.accounts import mfa
from portal.accounts.models import Role, User
from portal.tests.factories import PASSWORD, agency_user, portal_admin, vendor_user
from portal.tests.mfa_helpers import give_authenticator, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.PORTAL_REQUIRE_MFA = True


def give_passkey(user, n=1):
    return WebAuthnCredential.objects.create(
        user=user,
        name=f"Passkey {n}",
        confirmed=True,
        credential_id=f"credential-{user.pk}-{n}".encode(),
        public_key=b"not-a-real-key",
        sign_count=0,
    )


def verified_with_passkey(client, user, *, seconds_ago=0):
    import time

    from django_otp import DEVICE_ID_SESSION_KEY

    passkey = give_passkey(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = passkey.persistent_id
    session[mfa.VERIFIED_AT_SESSION_KEY] = time.time() - seconds_ago
    session.save()
    return passkey


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_passkey_is_a_second_factor_the_middleware_asks_for(client):
    person = agency_user(Role.AGENCY_APPROVER)
    give_passkey(person)
    client.post("/accounts/login/", {"username": person.email, "password": PASSWORD})
    response = client.get("/admin/")
    assert response["Location"].startswith("/accounts/second-factor/?next=")  # not the set-up page
    page = text(client.get(response["Location"]))
    assert 'id="passkey-verification-placeholder"' in page
    assert "Or enter a recovery code" in page
    assert mfa.has_second_factor(person)


def test_the_security_page_is_the_persons_own_and_needs_a_fresh_second_factor(client, settings):
    assert client.get("/accounts/security/")["Location"].startswith("/accounts/login/")
    person = vendor_user(Role.VENDOR_ADMIN)
    verified_with_passkey(client, person, seconds_ago=settings.PORTAL_MFA_REAUTH_SECONDS + 5)
    stale = client.get("/accounts/security/")
    assert stale["Location"].startswith("/accounts/second-factor/?next=%2Faccounts%2Fsecurity%2F")
    client.logout()
    verified_with_passkey(client, vendor_user(Role.VENDOR_OFFICER))
    other = give_passkey(person, 2)
    page = text(client.get("/accounts/security/"))
    assert "Passkey 1" in page
    assert other.name not in page  # only one's own
    assert 'id="passkey-registration-placeholder"' in page


def test_removing_a_passkey_is_ones_own_never_the_last_and_leaves_history(client):
    person = agency_user(Role.AGENCY_REVIEWER)
    only = verified_with_passkey(client, person)
    someone_elses = give_passkey(agency_user(Role.AGENCY_REVIEWER))
    assert client.post(f"/accounts/security/passkeys/{someone_elses.pk}/remove/").status_code == 404
    assert client.get(f"/accounts/security/passkeys/{only.pk}/remove/").status_code == 405
    refused = client.post(f"/accounts/security/passkeys/{only.pk}/remove/", follow=True)
    assert "This is your only second factor" in text(refused)
    assert WebAuthnCredential.objects.filter(pk=only.pk).exists()
    give_authenticator(person)
    client.post(f"/accounts/security/passkeys/{only.pk}/remove/")
    assert not WebAuthnCredential.objects.filter(pk=only.pk).exists()
    record = User.objects.get(pk=person.pk).history.latest()
    assert record.history_user == person
    assert record.history_change_reason == "Passkey 1 removed as a second factor."


def test_adding_a_passkey_needs_the_second_factor_passed_recently(client, settings):
    person = agency_user(Role.AGENCY_APPROVER)
    verified_login(client, person, verified_seconds_ago=settings.PORTAL_MFA_REAUTH_SECONDS + 5)
    stale = client.post("/accounts/passkeys/registration/begin/")
    assert stale.status_code == 403
    assert "Enter your second factor again" in stale.json()["detail"]
    verified_login(client, person)
    fresh = client.post("/accounts/passkeys/registration/begin/")
    assert fresh.status_code == 200
    options = fresh.json()
    assert options["rp"] == {"id": "testserver", "name": "Frontier Access Portal"}
    assert options["user"]["name"] == person.email


def test_a_first_passkey_needs_only_the_password_but_a_session_without_it_gets_nothing(client):
    anonymous = client.post("/accounts/passkeys/registration/begin/")
    assert anonymous.status_code in {401, 403}
    assert client.post("/accounts/passkeys/authentication/begin/").status_code in {
        401,
        403,
    }  # no passwordless
    person = vendor_user(Role.VENDOR_OFFICER)
    client.post("/accounts/login/", {"username": person.email, "password": PASSWORD})
    assert client.post("/accounts/passkeys/registration/begin/").status_code == 200  # first set-up


def test_new_recovery_codes_replace_the_old_ones_with_history(client):
    person = agency_user(Role.AGENCY_APPROVER)
    verified_with_passkey(client, person)
    old = mfa.replace_recovery_codes(person)
    response = client.post("/accounts/security/recovery-codes/")
    assert response["Location"].startswith("/accounts/second-factor/recovery-codes/")
    shown = re.findall(r"<code>([0-9a-f-]{14})</code>", text(client.get(response["Location"])))
    assert len(shown) == mfa.RECOVERY_CODES
    assert not set(shown) & set(old)
    assert User.objects.get(pk=person.pk).history.latest().history_change_reason == "New recovery codes made."


def test_the_lost_device_reset_removes_passkeys_too(client):
    person = agency_user(Role.AGENCY_APPROVER)
    give_passkey(person)
    verified_login(client, portal_admin())
    client.post(
        f"/admin/accounts/user/{person.pk}/reset-second-factor/",
        {"reason": "Laptop stolen; identity checked."},
    )
    assert not WebAuthnCredential.objects.filter(user=person).exists()
    assert not mfa.has_second_factor(person)


def test_the_passkey_scripts_are_static_files_and_the_page_has_no_inline_script(client):
    person = agency_user(Role.AGENCY_APPROVER)
    give_passkey(person)
    client.post("/accounts/login/", {"username": person.email, "password": PASSWORD})
    response = client.get("/accounts/second-factor/")
    assert "script-src 'self'" in response["Content-Security-Policy"]
    html = response.content.decode()
    for tag in re.findall(r"<script\b[^>]*>", html):
        assert "src=" in tag or 'type="application/json"' in tag, tag  # a JSON data block runs nothing
    assert "/static/django_otp_webauthn/otp_webauthn_auth.js" in html
    config = json.loads(
        re.search(r'id="otp_webauthn_config" type="application/json">(.*?)</script>', html).group(1)
    )
    assert config["beginAuthenticationUrl"] == "/accounts/passkeys/authentication/begin/"
