"""Sign-in, sign-out, landing pages and password reset."""

import re

import pytest
from django.core import mail

from portal.accounts.models import Role
from portal.tests.factories import PASSWORD, agency_user, auditor, portal_admin, vendor_user

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
SAME_MESSAGE = "That e-mail address and password do not match an active account."


def sign_in(client, email, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": email, "password": password, **extra})


@pytest.mark.parametrize(
    ("make_user", "landing"),
    [
        (lambda: vendor_user(Role.VENDOR_ADMIN), "/vendor/"),
        (lambda: vendor_user(Role.VENDOR_OFFICER), "/vendor/"),
        (lambda: vendor_user(Role.VENDOR_VIEWER), "/vendor/"),
        (lambda: agency_user(Role.AGENCY_REVIEWER), "/admin/"),
        (lambda: agency_user(Role.AGENCY_APPROVER), "/admin/"),
        (auditor, "/admin/"),
        (portal_admin, "/admin/"),
    ],
)
def test_each_role_lands_on_its_side(client, make_user, landing):
    user = make_user()
    response = sign_in(client, user.email)
    assert response.status_code == 302
    assert response["Location"] == landing
    assert client.get(landing).status_code == 200


def test_sign_in_ignores_the_case_of_the_address(client):
    user = vendor_user()
    response = sign_in(client, user.email.upper())
    assert response.status_code == 302


def test_wrong_password_and_unknown_address_get_the_same_message(client):
    user = vendor_user()
    wrong_password = sign_in(client, user.email, "not the password")
    unknown = sign_in(client, "nobody@example.org")
    for response in (wrong_password, unknown):
        assert response.status_code == 200
        assert SAME_MESSAGE in response.content.decode()
    # The address typed is kept in the form.
    assert 'value="nobody@example.org"' in unknown.content.decode()


def test_deactivated_account_gets_the_same_message(client):
    user = vendor_user(is_active=False)
    response = sign_in(client, user.email)
    assert SAME_MESSAGE in response.content.decode()


def test_sign_in_page_is_a_plain_html_form_that_works_without_javascript(client):
    page = client.get(LOGIN).content.decode()
    assert re.search(r'<form[^>]+method="post"[^>]+action="/accounts/login/"', page)
    assert 'name="username"' in page
    assert 'name="password"' in page
    assert 'type="submit"' in page
    assert "http://" not in page.replace("http://www.w3.org", "")
    assert "https://" not in page


def test_safe_next_is_followed_and_foreign_next_is_not(client):
    user = vendor_user()
    assert sign_in(client, user.email, next="/vendor/?tab=1")["Location"] == "/vendor/?tab=1"
    client.logout()
    assert sign_in(client, user.email, next="https://evil.example/")["Location"] == "/vendor/"


def test_vendor_member_cannot_open_the_agency_dashboard(client):
    # issue 12: a vendor who types /admin/ is taken to the vendor pages, deeper addresses 404
    user = vendor_user()
    client.force_login(user)
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0] == "/vendor/"
    assert "agency dashboard" not in response.content.decode().lower()
    assert client.get("/admin/accounts/user/", follow=True).status_code == 404


def test_agency_official_gets_404_on_vendor_pages(client):
    client.force_login(agency_user())
    assert client.get("/vendor/").status_code == 404


def test_anonymous_is_sent_to_sign_in(client):
    for path in ("/vendor/", "/admin/"):
        response = client.get(path, follow=True)
        assert response.redirect_chain[-1][0].startswith(LOGIN)
        assert "Sign in" in response.content.decode()


def test_sign_out_ends_the_session(client):
    user = vendor_user()
    client.force_login(user)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/vendor/").status_code == 302


def test_password_reset_by_email_sets_a_new_password(client, django_capture_on_commit_callbacks):
    user = vendor_user()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/password-reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert "set a new password" in message.subject.lower()
    link = re.search(r"http://localhost:8000(/accounts/reset/\S+/)", message.body).group(1)
    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200
    new_password = "a much longer passphrase 42"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    client.logout()
    assert sign_in(client, user.email, new_password).status_code == 302
    # The link works once.
    assert "already been used" in client.get(link, follow=True).content.decode()


def test_password_reset_for_unknown_address_sends_nothing_and_says_the_same(client):
    response = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert response.status_code == 302
    assert mail.outbox == []


def test_role_must_fit_the_organisation():
    from django.core.exceptions import ValidationError

    user = vendor_user()
    user.role = Role.AGENCY_APPROVER
    with pytest.raises(ValidationError):
        user.full_clean()


def test_reset_link_is_built_on_the_portal_address_not_the_host_header(
    client, settings, django_capture_on_commit_callbacks
):
    settings.PORTAL_BASE_URL = "https://portal.example.gov"
    user = vendor_user()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": user.email}, HTTP_HOST="127.0.0.1")
    assert "https://portal.example.gov/accounts/reset/" in mail.outbox[0].body
    assert "127.0.0.1" not in mail.outbox[0].body


def test_the_one_time_link_is_erased_from_the_outbox_once_sent(client, django_capture_on_commit_callbacks):
    from portal.notifications.models import WITHHELD_BODY, Notification

    user = vendor_user()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password-reset/", {"email": user.email})
    assert "/accounts/reset/" in mail.outbox[0].body
    row = Notification.objects.get(recipient=user, event="password_reset")
    assert row.status == Notification.Status.SENT
    assert (row.body, row.html_body, row.link) == (WITHHELD_BODY, "", "")


def test_messages_that_end_with_an_organisation_s_name_have_one_full_stop():
    from portal.accounts import services
    from portal.accounts.models import Organisation
    from portal.errors import PortalError
    from portal.tests.factories import OrganisationFactory

    admin = portal_admin()
    kind = Organisation.Kind.VENDOR
    services.create_organisation(name="Bluewater Shipping Inc.", kind=kind, actor=admin, reason="test")
    with pytest.raises(PortalError) as refused:
        services.create_organisation(name="Bluewater Shipping Inc.", kind=kind, actor=admin, reason="test")
    assert str(refused.value) == "There is already a vendor called Bluewater Shipping Inc."

    officer = vendor_user(organisation=OrganisationFactory(kind=kind, name="Keystone Labs Corp."))
    with pytest.raises(PortalError) as refused:
        services.change_role(user=officer, role=Role.AGENCY_APPROVER, actor=admin, reason="test")
    assert str(refused.value).endswith("is not a role in Keystone Labs Corp.")
    with pytest.raises(PortalError) as refused:
        services.change_role(user=officer, role=Role.VENDOR_VIEWER, actor=vendor_user(), reason="test")
    assert str(refused.value).endswith("the role Viewer in Keystone Labs Corp.")
