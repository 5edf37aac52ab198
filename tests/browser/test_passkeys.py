"""Passkeys as a second factor (issue 13), in Chromium with its virtual authenticator (a platform
authenticator with user verification, as a laptop's fingerprint reader is): an official sets up a
passkey at first sign-in instead of an app, signs in again with it, and sees it on the security
page. The library's scripts run from static files under the Content-Security-Policy (the harness
fails the test on any refusal)."""

import pytest
from django_otp_webauthn.models import WebAuthnCredential

from portal.accounts import mfa
from portal.accounts.models import Role, User
from portal.tests.factories import PASSWORD, agency_user
from tests.browser.conftest import assert_accessible, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def virtual_authenticator(page):
    """Chromium's virtual authenticator for ``page`` (WebAuthn over the DevTools protocol)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    options = {
        "protocol": "ctap2",
        "transport": "internal",
        "hasResidentKey": True,
        "hasUserVerification": True,
        "isUserVerified": True,
    }
    return cdp, cdp.send("WebAuthn.addVirtualAuthenticator", {"options": options})["authenticatorId"]


def password(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def test_an_official_sets_up_a_passkey_and_signs_in_with_it(page):
    # given an approver signing in for the first time, on a computer with a passkey authenticator
    approver = agency_user(Role.AGENCY_APPROVER)
    cdp, authenticator = virtual_authenticator(page)
    password(page, approver.email)
    page.wait_for_url("**/accounts/second-factor/set-up/**")

    page.get_by_role("button", name="Use a passkey").wait_for()  # the browser can: offered
    assert_accessible(page, "second-factor-set-up")

    # when they choose a passkey instead of an app
    page.get_by_role("button", name="Use a passkey").click()

    # then the passkey is their second factor, and the recovery codes are shown once
    page.wait_for_url("**/accounts/second-factor/recovery-codes/**")
    assert page.locator("#recovery-codes li").count() == mfa.RECOVERY_CODES
    passkey = WebAuthnCredential.objects.get(user=approver)
    assert passkey.confirmed
    assert passkey.name == "Passkey 1"
    assert (
        "Second factor set up (passkey)"
        in User.objects.get(pk=approver.pk).history.latest().history_change_reason
    )
    page.get_by_role("link", name="I have saved them — continue").click()
    page.wait_for_url("**/admin/")
    screenshot(page, "passkey-admin-dashboard")  # the security link among the admin's user links
    assert page.locator("#user-tools").get_by_role("link", name="Sign-in and security").is_visible()
    assert len(cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]) == 1

    # when they sign out and in again
    page.get_by_role("button", name="Log out").or_(page.get_by_role("button", name="Sign out")).first.click()
    password(page, approver.email)
    page.wait_for_url("**/accounts/second-factor/?next=**")
    screenshot(page, "passkey-verify")
    assert_accessible(page, "second-factor-passkey")
    # (the password alone does not open the dashboard)
    page.goto("/admin/")
    page.wait_for_url("**/accounts/second-factor/?next=**")
    page.get_by_role("button", name="Use your passkey").click()

    # then the passkey lets them in, and the security page lists it
    page.wait_for_url("**/admin/")
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None
    page.goto("/accounts/security/")
    assert "Passkey 1" in page.locator("#passkeys").inner_text()
    screenshot(page, "passkey-security-page")
    assert_accessible(page, "security-page")
