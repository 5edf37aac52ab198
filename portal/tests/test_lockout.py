"""Sign-in lockout by django-axes (issue 13): by account, in the database, behind proxies."""

import re
from itertools import count

import pytest
from django.core import mail
from django.test import RequestFactory

from portal.accounts import lockout
from portal.accounts.models import Role, User
from portal.tests.factories import PASSWORD, agency_user, auditor, portal_admin, vendor_user
from portal.tests.mfa_helpers import verified_login

pytestmark = pytest.mark.django_db

LOCKED = "Too many failed sign-ins"
PROXY = "10.0.0.5"
_addresses = count(1)


def attempt(client, email, password, *, client_address=None, forged=""):
    """A sign-in through our reverse proxy: it appends the address it saw to X-Forwarded-For."""
    chain = ", ".join(a for a in (forged, client_address) if a)
    extra = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": chain} if client_address else {}
    return client.post("/accounts/login/", {"username": email, "password": password}, **extra)


def made_up():
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


@pytest.mark.parametrize(
    ("trusted", "forwarded", "expected"),
    [
        (0, "1.2.3.4", "10.0.0.5"),  # no proxy trusted: X-Forwarded-For is ignored
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # our proxy appended the client's address
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, "", "10.0.0.5"),
        (1, "not-an-address", None),
    ],
)
def test_the_client_address_is_read_through_the_trusted_proxies(settings, trusted, forwarded, expected):
    settings.PORTAL_TRUSTED_PROXIES = trusted
    request = RequestFactory().get("/", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=forwarded)
    assert lockout.client_ip(request) == expected


@pytest.mark.parametrize("by_address", [False, True])
def test_thirty_failures_from_made_up_addresses_do_not_lock_out_the_approver(client, settings, by_address):
    settings.PORTAL_TRUSTED_PROXIES = 1
    if by_address:
        settings.AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
    approver = agency_user(Role.AGENCY_APPROVER, email="approver@doc.example")
    attacker = "203.0.113.66"
    # given 30 failures for made-up and real-looking accounts, each claiming another address
    for n in range(30):
        attempt(client, f"guess{n % 7}@doc.example", "wrong", client_address=attacker, forged=made_up())
    # then the approver, from their own desk behind the same proxy, signs in
    response = attempt(client, approver.email, PASSWORD, client_address="203.0.113.10")
    assert response.status_code == 302, LOCKED in response.content.decode()
    # while the guessed accounts (and, if configured, the attacker's real address) are locked
    assert lockout.is_locked("guess0@doc.example")
    client.logout()
    from_attacker = attempt(client, approver.email, PASSWORD, client_address=attacker, forged="203.0.113.10")
    assert (from_attacker.status_code == 429) is by_address


def test_failures_for_one_account_lock_it_from_every_address(client, settings):
    settings.PORTAL_TRUSTED_PROXIES = 1
    user = vendor_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, user.email, "wrong", client_address=made_up())
    assert attempt(client, user.email, PASSWORD, client_address=made_up()).status_code == 429


def test_the_lockout_holds_with_redis_unavailable(client, settings):
    # the cache points at a Redis that does not answer: the lockout lives in the database
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    user = vendor_user()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        attempt(client, user.email, "wrong")
    response = attempt(client, user.email, PASSWORD)
    assert response.status_code == 429
    assert LOCKED in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_completed_password_reset_lifts_the_lock(client, django_capture_on_commit_callbacks):
    user = vendor_user()
    for _ in range(5):
        attempt(client, user.email, "wrong")
    assert lockout.is_locked(user.email)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": user.email})
    link = re.search(r"http://localhost:8000(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form_page = client.get(link, follow=True)
    new_password = "a much longer passphrase 42"
    client.post(
        form_page.redirect_chain[-1][0], {"new_password1": new_password, "new_password2": new_password}
    )
    assert not lockout.is_locked(user.email)
    assert attempt(client, user.email, new_password).status_code == 302


@pytest.fixture
def mails_asked(monkeypatch):
    """How many reset mails the form was asked to send (one outbox row per second per person)."""
    from portal.accounts.forms import PortalPasswordResetForm

    asked = []
    original = PortalPasswordResetForm.send_mail

    def counting(self, *args, **kwargs):
        asked.append(args[4] if len(args) > 4 else kwargs.get("to_email"))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(PortalPasswordResetForm, "send_mail", counting)
    return asked


def test_password_reset_requests_are_limited_per_account_without_revealing_anything(
    client, settings, mails_asked
):
    user = vendor_user()
    answers = [client.post("/accounts/password-reset/", {"email": user.email}) for _ in range(5)]
    assert {(a.status_code, a["Location"]) for a in answers} == {(302, "/accounts/password-reset/sent/")}
    assert len(mails_asked) == settings.PORTAL_PASSWORD_RESETS_PER_ACCOUNT
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert (unknown.status_code, unknown["Location"]) == (302, "/accounts/password-reset/sent/")


def test_password_reset_requests_are_limited_per_address(client, settings, mails_asked):
    settings.PORTAL_PASSWORD_RESETS_PER_ADDRESS = 4
    people = [vendor_user() for _ in range(6)]
    for person in people:
        client.post("/accounts/password-reset/", {"email": person.email}, REMOTE_ADDR="203.0.113.20")
    assert len(mails_asked) == 4
    client.post("/accounts/password-reset/", {"email": people[-1].email}, REMOTE_ADDR="203.0.113.21")
    assert mails_asked[-1] == people[-1].email


def test_a_portal_administrator_lifts_a_lockout_with_a_reason(client):
    person = agency_user(Role.AGENCY_REVIEWER)
    for _ in range(5):
        attempt(client, person.email, "wrong")
    url = f"/admin/accounts/user/{person.pk}/unlock-sign-in/"
    verified_login(client, auditor())
    assert client.get(url).status_code == 404
    operator = portal_admin()
    verified_login(client, operator)
    assert "Lift sign-in lockout" in client.get(f"/admin/accounts/user/{person.pk}/change/").content.decode()
    assert client.post(url, {"reason": "Confirmed by phone: the failures were hers."}).status_code == 302
    assert not lockout.is_locked(person.email)
    record = User.objects.get(pk=person.pk).history.latest()
    assert record.history_user == operator
    assert "Confirmed by phone" in record.history_change_reason
    assert client.get(url).status_code == 404  # nothing left to lift
