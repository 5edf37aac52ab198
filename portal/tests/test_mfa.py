"""The second factor (issue 13): enrolment at first sign-in, recovery codes shown once, codes at
sign-in, re-authentication before sensitive verbs, the lost-device reset, the demo's codes."""

import re
import time
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from approvals.agency_admin.actions import SENSITIVE_VERBS
from approvals.tests.factories import make_agency, official
from portal.accounts import mfa
from portal.accounts.models import Role, User
from portal.notifications.models import Notification
from portal.notifications.services import notify
from portal.tests.factories import PASSWORD, agency_user, auditor, portal_admin, vendor_user
from portal.tests.mfa_helpers import code_for, give_authenticator, verified_login

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _mfa_on(settings):
    settings.PORTAL_REQUIRE_MFA = True


def sign_in(client, user):
    return client.post("/accounts/login/", {"username": user.email, "password": PASSWORD})


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_first_sign_in_sets_up_an_authenticator_and_shows_recovery_codes_once(client):
    approver = agency_user(Role.AGENCY_APPROVER)
    sign_in(client, approver)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/second-factor/set-up/")
    page = client.get(response["Location"])
    assert "<svg" in text(page)  # the QR code, drawn without inline styles
    device = TOTPDevice.objects.get(user=approver, confirmed=False)

    wrong = client.post("/accounts/second-factor/set-up/", {"code": "000000", "next": "/admin/"})
    assert "does not match" in text(wrong)
    assert not TOTPDevice.objects.filter(user=approver, confirmed=True).exists()

    done = client.post(
        "/accounts/second-factor/set-up/", {"code": mfa.current_code(device), "next": "/admin/"}
    )
    assert done.status_code == 302
    codes_page = text(client.get(done["Location"]))
    codes = re.findall(r"<code>([0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4})</code>", codes_page)
    assert len(codes) == mfa.RECOVERY_CODES
    stored = set(StaticDevice.objects.get(user=approver).token_set.values_list("token", flat=True))
    assert stored == {mfa.recovery_code_digest(code) for code in codes}  # kept hashed ...
    clear = set(codes) | {code.replace("-", "") for code in codes}
    assert not stored & clear  # ... never in clear
    again = text(client.get("/accounts/second-factor/recovery-codes/"))
    assert codes[0] not in again  # shown once
    assert client.get("/admin/").status_code == 200
    assert "Second factor set up" in User.objects.get(pk=approver.pk).history.latest().history_change_reason


def test_sign_in_asks_for_the_code_before_anything_else(client):
    person = auditor()
    give_authenticator(person)
    sign_in(client, person)
    for path in ("/admin/", "/admin/audit-export/", "/notifications/"):
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith("/accounts/second-factor/?next=")
    wrong = client.post("/accounts/second-factor/", {"code": "123456", "next": "/admin/"})
    assert "does not match" in text(wrong)
    # django-otp's throttle: after a wrong code even the right one waits (1 s, doubling each time)
    hurried = client.post("/accounts/second-factor/", {"code": code_for(person), "next": "/admin/"})
    assert "Too many wrong codes" in text(hurried)
    time.sleep(1.1)
    right = client.post("/accounts/second-factor/", {"code": code_for(person), "next": "/admin/"})
    assert right["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_the_pages_before_the_second_factor_show_nothing_of_the_person(client):
    # given a vendor officer with an unread notification, who has given the password only, and a
    # new officer who has given the password and has no second factor yet
    person = vendor_user(Role.VENDOR_OFFICER, full_name="Quinn Halvorsen")
    give_authenticator(person)
    notify(event="test_event", recipients=[person], subject="Unread", key="unread-1")
    sign_in(client, person)
    newcomer, newcomers_client = vendor_user(Role.VENDOR_OFFICER, full_name="Robin Aldous"), Client()
    sign_in(newcomers_client, newcomer)
    # when they are on the code page and the set-up page
    pages = [
        (person, client.get("/accounts/second-factor/")),
        (newcomer, newcomers_client.get("/accounts/second-factor/set-up/")),
    ]
    for who, page in pages:
        # then each page has the way on and the way out, and not the person's name,
        # organisation, menu or unread count
        html = text(page)
        assert page.status_code == 200
        assert "Signing in: one more step" in html
        assert "Sign out" in html
        assert who.full_name not in html
        assert who.organisation.name not in html
        assert "Primary navigation" not in html
        assert "Notifications" not in html
        assert "unread" not in html
    # and once the code is given, the portal shows them as usual
    client.post("/accounts/second-factor/", {"code": code_for(person), "next": "/vendor/"})
    html = text(client.get("/notifications/"))
    assert "Quinn Halvorsen" in html
    assert "Primary navigation" in html
    assert 'aria-label="1 unread"' in html


def test_a_recovery_code_works_once(client):
    person = vendor_user(Role.VENDOR_ADMIN)
    give_authenticator(person)
    code = mfa.replace_recovery_codes(person)[0]
    sign_in(client, person)
    assert (
        client.post(
            "/accounts/second-factor/", {"code": code.upper().replace("-", " "), "next": "/vendor/"}
        ).status_code
        == 302
    )
    assert client.get("/vendor/").status_code == 200
    client.logout()
    sign_in(client, person)
    reused = client.post("/accounts/second-factor/", {"code": code, "next": "/vendor/"})
    assert "does not match" in text(reused)


def test_what_the_database_keeps_of_a_recovery_code_cannot_be_used(client):
    # given a person whose recovery codes someone has read out of the database
    person = vendor_user(Role.VENDOR_ADMIN)
    give_authenticator(person)
    codes = mfa.replace_recovery_codes(person)
    stolen = list(StaticDevice.objects.get(user=person).token_set.values_list("token", flat=True))
    assert len(stolen) == mfa.RECOVERY_CODES
    assert not set(stolen) & set(codes)
    # when the stored value is typed in as a code
    sign_in(client, person)
    refused = client.post("/accounts/second-factor/", {"code": stolen[0], "next": "/vendor/"})
    # then it is refused, and every code is still there
    assert "does not match" in text(refused)
    assert mfa.recovery_codes_left(person) == mfa.RECOVERY_CODES
    time.sleep(1.1)  # django-otp's throttle after the wrong code
    assert client.post("/accounts/second-factor/", {"code": codes[3], "next": "/vendor/"}).status_code == 302
    assert mfa.recovery_codes_left(person) == mfa.RECOVERY_CODES - 1


@pytest.mark.parametrize(
    ("make_user", "landing", "required"),
    [
        (lambda: vendor_user(Role.VENDOR_VIEWER), "/vendor/", False),
        (lambda: vendor_user(Role.VENDOR_OFFICER), "/vendor/", True),
        (lambda: vendor_user(Role.VENDOR_ADMIN), "/vendor/", True),
        (lambda: agency_user(Role.AGENCY_REVIEWER), "/admin/", True),
        (auditor, "/admin/", True),
        (portal_admin, "/admin/", True),
    ],
)
def test_who_needs_a_second_factor(client, make_user, landing, required):
    sign_in(client, make_user())
    response = client.get(landing)
    assert (response.status_code == 302) is required


def test_with_the_setting_off_nobody_is_asked(client, settings):
    settings.PORTAL_REQUIRE_MFA = False
    sign_in(client, agency_user(Role.AGENCY_APPROVER))
    assert client.get("/admin/").status_code == 200


def test_public_and_health_pages_are_not_held_back(client):
    sign_in(client, agency_user(Role.AGENCY_APPROVER))
    assert client.get("/healthz").status_code == 200


def test_sensitive_verbs_ask_for_the_code_again_after_a_while(client, settings):
    assert {"sign", "decide", "suspend", "designate", "revoke"} <= SENSITIVE_VERBS
    doc = make_agency("DOC", is_lead=True)
    admin = official(doc, Role.AGENCY_ADMIN)
    verified_login(client, admin, verified_seconds_ago=settings.PORTAL_MFA_REAUTH_SECONDS + 60)
    assert client.get("/admin/").status_code == 200  # signed in and verified ...
    response = client.get("/admin/approvals/staffingchange/add/")  # ... but not recently: changing a role
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/second-factor/?next=")
    again = text(client.get(response["Location"]))
    assert "needs your second factor again" in again
    client.post("/accounts/second-factor/", {"code": code_for(admin), "next": "/admin/"})
    assert client.get("/admin/approvals/staffingchange/add/").status_code == 200


def test_a_portal_administrator_resets_a_lost_authenticator(client):
    person = agency_user(Role.AGENCY_APPROVER)
    give_authenticator(person)
    mfa.replace_recovery_codes(person)
    url = f"/admin/accounts/user/{person.pk}/reset-second-factor/"
    for outsider in (auditor(), agency_user(Role.AGENCY_ADMIN, organisation=person.organisation)):
        verified_login(client, outsider)
        assert client.get(url).status_code == 404
    operator = portal_admin()
    verified_login(client, operator)
    assert "Reset second factor" in text(client.get(f"/admin/accounts/user/{person.pk}/change/"))
    assert client.post(url, {"reason": ""}).status_code == 200
    response = client.post(url, {"reason": "Phone lost; identity checked by video call with DOC's admin."})
    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=person).exists()
    assert not StaticDevice.objects.filter(user=person).exists()
    record = User.objects.get(pk=person.pk).history.latest()
    assert record.history_user == operator
    assert "Phone lost" in record.history_change_reason
    assert Notification.objects.filter(event="second_factor_reset", recipient=person).exists()
    # nobody resets their own
    assert client.get(f"/admin/accounts/user/{operator.pk}/reset-second-factor/").status_code == 404


def test_demo_codes_prints_the_codes_of_the_seeded_demo_logins_only(settings):
    from portal.accounts.demo import seed_accounts

    seed_accounts()
    real = give_authenticator(vendor_user())
    out = StringIO()
    call_command("demo_codes", stdout=out)
    lines = dict(re.findall(r"^\s+(\S+@\S+)\s+(\d{6})$", out.getvalue(), re.M))
    assert "approver@doc.example" in lines
    assert real.user.email not in lines
    device = TOTPDevice.objects.get(user__email="approver@doc.example")
    assert device.verify_token(lines["approver@doc.example"])  # the code the demo login's app shows
    # asked again in the same half-minute, it prints a code not used yet (the app's next one)
    again = StringIO()
    call_command("demo_codes", stdout=again)
    second = dict(re.findall(r"^\s+(\S+@\S+)\s+(\d{6})$", again.getvalue(), re.M))["approver@doc.example"]
    device.refresh_from_db()
    assert device.verify_token(second)
    settings.PRODUCTION = True
    with pytest.raises(CommandError, match="refused in production"):
        call_command("demo_codes", stdout=StringIO())


def test_the_sign_in_event_order_is_password_then_code(client):
    person = agency_user(Role.AGENCY_REVIEWER)
    give_authenticator(person)
    sign_in(client, person)
    assert client.get("/admin/").status_code == 302
    client.post("/accounts/second-factor/", {"code": code_for(person), "next": "/admin/"})
    assert client.get("/admin/").status_code == 200


def test_the_migration_hashes_codes_made_in_clear_as_the_sign_in_checks_them(client):
    import importlib

    from django.apps import apps
    from django_otp.plugins.otp_static.models import StaticToken

    migration = importlib.import_module("portal.accounts.migrations.0009_recovery_codes_hashed")
    # given codes kept in clear, as before the migration
    person = vendor_user(Role.VENDOR_ADMIN)
    give_authenticator(person)
    device = StaticDevice.objects.create(user=person, name="Recovery codes", confirmed=True)
    StaticToken.objects.create(device=device, token="3f9a-1c07-be42")
    # when the migration runs (twice: a digest is left alone)
    migration.hash_clear_codes(apps, None)
    migration.hash_clear_codes(apps, None)
    # then only the digest is kept, and the code still signs in
    assert list(device.token_set.values_list("token", flat=True)) == [
        mfa.recovery_code_digest("3f9a-1c07-be42")
    ]
    sign_in(client, person)
    assert (
        client.post("/accounts/second-factor/", {"code": "3f9a 1c07 be42", "next": "/vendor/"}).status_code
        == 302
    )
