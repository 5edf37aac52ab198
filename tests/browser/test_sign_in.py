"""Signing in through a real browser, with and without JavaScript."""

import pytest

from portal.accounts.models import Role
from portal.tests.factories import PASSWORD, agency_user, vendor_user
from tests.browser.conftest import pass_second_factor, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_vendor_signs_in_and_lands_on_the_vendor_dashboard(page):
    user = vendor_user(Role.VENDOR_ADMIN)
    page.goto("/accounts/login/")
    screenshot(page, "sign-in")
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/vendor/")
    assert page.get_by_role("heading", level=1).inner_text() == user.organisation.name


def test_official_signs_in_and_lands_on_the_agency_dashboard(page):
    user = agency_user(Role.AGENCY_APPROVER)
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/admin/")
    assert "agency dashboard" in page.content()


@pytest.mark.parametrize("browser_context_args", [{"java_script_enabled": False}])
def test_sign_in_works_with_javascript_off_and_errors_are_shown(page):
    user = vendor_user()
    sign_in(page, user.email, "wrong password")
    alert = page.get_by_role("alert").first
    assert "do not match an active account" in alert.inner_text()
    assert page.get_by_label("E-mail address").input_value() == user.email
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    pass_second_factor(page, user.email)
    page.wait_for_url("**/vendor/")
