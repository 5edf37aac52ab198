"""Accessibility (WCAG 2.1 AA, Section 508) of the pages outside the journeys."""

import pytest

from portal.accounts.models import Role
from portal.tests.factories import PASSWORD, vendor_user
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/password-reset/", "/accounts/password-reset/sent/"]
)
def test_public_pages_have_no_serious_violations(page, path):
    page.goto(path)
    assert_accessible(page, path.strip("/").replace("/", "-"))


def test_sign_in_errors_are_announced_next_to_the_form(page):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    # Both fields are required: each error sits next to its field and is announced.
    errors = page.locator(".usa-error-message[role=alert]")
    assert errors.count() == 2
    assert_accessible(page, "login-errors")


def test_vendor_dashboard_is_accessible(page):
    user = vendor_user(Role.VENDOR_ADMIN)
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/vendor/")
    assert_accessible(page, "vendor-dashboard")


def test_sign_in_by_keyboard_alone(page):
    user = vendor_user()
    page.goto("/accounts/login/")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "username":
            break
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url("**/vendor/")
