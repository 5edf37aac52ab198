"""Issue 13's journey: a company applies as a vendor, the portal administrator approves (with the
second factor), the invited compliance admin sets a password, sets up an authenticator at first
sign-in (reading the key off the page, as a phone would scan it) and reaches the vendor pages.
Mail is read from the local SMTP server."""

import re

import pytest

from portal.accounts.demo import seed_accounts
from tests.browser.conftest import pass_second_factor, screenshot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Cobalt-lantern-2047"


def test_a_vendor_applies_is_approved_and_its_admin_signs_in_with_a_second_factor(open_page, mailbox):
    seed_accounts()  # admin@portal.example, with its seeded authenticator

    # the company applies on the public page (linked from the sign-in page)
    applicant = open_page("applicant")
    applicant.goto("/accounts/login/")
    applicant.get_by_role("link", name="Apply as a vendor").click()
    applicant.get_by_label("Company's legal name").fill("Cobalt Reasoning, Inc.")
    applicant.get_by_label("Country of incorporation").select_option("US")
    applicant.get_by_label("Identifiers").fill("UEI J7M9KQ2LX4N1")
    applicant.get_by_label("Registered address").fill("1 Market Street, San Francisco, CA")
    applicant.get_by_label("First compliance admin: full name").fill("Dana Cobalt")
    applicant.get_by_label("First compliance admin: e-mail address").fill("dana@cobalt.example")
    applicant.locator("label[for=id_attestation]").click()  # USWDS hides the box itself
    screenshot(applicant, "onboarding-apply")
    applicant.get_by_role("button", name="Apply").click()
    applicant.wait_for_url("**/vendor/apply/sent/")

    # the portal administrator approves it, entering the code of its authenticator
    operator = open_page("operator")
    sign_in(operator, "admin@portal.example", "portal-demo")
    operator.wait_for_url("**/admin/")
    operator.goto("/admin/vendors/vendorapplication/")
    operator.get_by_role("link", name="Cobalt Reasoning, Inc.").click()
    operator.get_by_role("link", name="Approve").click()
    operator.get_by_label("Reason").fill("UEI checked in SAM.gov.")
    screenshot(operator, "onboarding-approve")
    operator.get_by_role("button", name="Approve").click()
    assert "Approve" in operator.locator(".messagelist").inner_text()

    # the first compliance admin follows the invitation, sets a password and a second factor
    invitation = mailbox.wait_for(to="dana@cobalt.example", subject="invited")
    admin = open_page("admin")
    admin.goto(invitation.link("/accounts/reset/"))
    admin.get_by_label(re.compile(r"^New password(?! confirmation)")).fill(NEW_PASSWORD)
    admin.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Set password").click()
    admin.wait_for_url("**/accounts/reset/done/")
    admin.get_by_role("link", name="Sign in").click()
    admin.get_by_label("E-mail address").fill("dana@cobalt.example")
    admin.get_by_label("Password").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.wait_for_url("**/accounts/second-factor/set-up/**")
    screenshot(admin, "onboarding-set-up-second-factor")
    pass_second_factor(admin, "dana@cobalt.example")
    admin.wait_for_url("**/vendor/")
    assert "Dana Cobalt" in admin.locator(".portal-userbar").inner_text()
    admin.goto("/vendor/profile/")
    assert "Cobalt Reasoning, Inc." in admin.get_by_role("heading", level=1).inner_text()
