"""Issue 13's onboarding journey, as a new user meets it: a company applies as a vendor on the
public page, the portal administrator approves the application in the admin (with its second
factor), the first compliance admin receives the invitation by mail, sets a password, sets up an
authenticator at first sign-in (the key read off the page, as a phone scans it) and files and
submits an access request.

Mail is read from the local SMTP server (through the real Celery worker when PostgreSQL and
Redis are there). The ORM builds only what other journeys cover in the browser: the agencies and
their routing rules, and, once the vendor exists, its model cleared for limited preview (the
pre-release review) and a partner customer (journey 1 registers customers).
"""

import re

import pytest

from approvals import services
from portal.accounts.models import Role, User
from portal.accounts.services import system_user
from portal.tests.factories import PASSWORD, portal_admin
from tests.browser.conftest import pass_second_factor, screenshot, sign_in
from tests.browser.journeys import file_input
from tests.browser.world import AGENCIES, agency
from vendors.choices import Sector
from vendors.models import FrontierModel, Vendor
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Cobalt-lantern-2047"
END_USE = b"End-use statement: Harbor Logistics will use Cobalt Mind to review its code.\n"


def test_a_vendor_applies_is_approved_and_its_first_admin_files_a_request(open_page, mailbox):
    # given the agencies with the default routing rules, and a portal administrator
    for code, (name, _) in AGENCIES.items():
        agency(code, name)
    services.ensure_default_routing_rules(actor=system_user())
    operator_account = portal_admin(email="operator@portal.example", full_name="Pat Operator")

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
    assert not User.objects.filter(email="dana@cobalt.example").exists()  # nothing until approved

    # the portal administrator approves it in the admin (first sign-in: sets up its authenticator)
    operator = open_page("operator")
    sign_in(operator, operator_account.email, PASSWORD)
    operator.wait_for_url("**/admin/")
    operator.goto("/admin/vendors/vendorapplication/")
    operator.get_by_role("link", name="Cobalt Reasoning, Inc.").click()
    operator.get_by_role("link", name="Approve").click()
    operator.get_by_label("Reason").fill("UEI checked in SAM.gov.")
    screenshot(operator, "onboarding-approve")
    operator.get_by_role("button", name="Approve").click()
    assert "Approve" in operator.locator(".messagelist").inner_text()

    # the first compliance admin follows the invitation and sets a password
    invitation = mailbox.wait_for(to="dana@cobalt.example", subject="invited")
    admin = open_page("admin")
    admin.goto(invitation.link("/accounts/reset/"))
    admin.get_by_label(re.compile(r"^New password(?! confirmation)")).fill(NEW_PASSWORD)
    admin.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Set password").click()
    admin.wait_for_url("**/accounts/reset/done/")

    # signs in and must set up a second factor before anything else
    admin.get_by_role("link", name="Sign in").click()
    admin.get_by_label("E-mail address").fill("dana@cobalt.example")
    admin.get_by_label("Password").fill(NEW_PASSWORD)
    admin.get_by_role("button", name="Sign in").click()
    admin.wait_for_url("**/accounts/second-factor/set-up/**")
    admin.goto("/vendor/requests/")  # (nothing else opens yet)
    admin.wait_for_url("**/accounts/second-factor/set-up/**")
    screenshot(admin, "onboarding-set-up-second-factor")
    pass_second_factor(admin, "dana@cobalt.example")  # the code computed from the key on the page
    admin.wait_for_url("**/vendor/requests/")  # then on to the page asked for
    assert "Dana Cobalt" in admin.locator(".portal-userbar").inner_text()
    dana = User.objects.get(email="dana@cobalt.example")
    assert dana.role == Role.VENDOR_ADMIN
    assert dana.totpdevice_set.filter(confirmed=True).exists()

    # (the vendor's model was cleared for limited preview; its customer is registered)
    vendor = Vendor.objects.get(legal_name="Cobalt Reasoning, Inc.")
    FrontierModelFactory(
        vendor=vendor,
        name="Cobalt Mind",
        version="1.0",
        release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW,
    )
    PartnerCustomerFactory(
        vendor=vendor, legal_name="Harbor Logistics LLC", country="US", sector=Sector.OTHER
    )

    # files a request and submits it
    admin.get_by_role("link", name="New access request").click()
    admin.wait_for_url("**/vendor/requests/new/")
    admin.get_by_label("Model").select_option(index=1)  # the only model cleared for limited preview
    assert "Cobalt Mind" in admin.get_by_label("Model").locator("option:checked").inner_text()
    admin.get_by_label("Partner customer").fill("Harbor")
    admin.get_by_role("listbox").get_by_role("option").first.click()
    admin.get_by_label("Use case").fill("Review of the customer's source code for vulnerabilities.")
    admin.get_by_label("Scope").fill("20 engineers; U.S. region only.")
    admin.get_by_label("Requested duration (days)").fill("180")
    file_input(admin, "Supporting document").set_input_files(
        {"name": "end-use.txt", "mimeType": "text/plain", "buffer": END_USE}
    )
    admin.get_by_label("Document title").fill("End-use statement")
    admin.get_by_role("button", name="Save draft").click()
    admin.wait_for_url(re.compile(r"/vendor/requests/\d+/$"))
    assert "The request is complete" in admin.locator("main").inner_text()
    admin.get_by_role("button", name="Submit the request").click()
    admin.wait_for_url("**/vendor/requests/FAR-*/")
    tracking = admin.locator("h1 .portal-tracking").inner_text()
    assert f"Submitted as {tracking}" in admin.get_by_role("status").first.inner_text()
    screenshot(admin, "onboarding-first-request-submitted")
    mailbox.wait_for(to="dana@cobalt.example", subject=f"Received: access request {tracking}")
