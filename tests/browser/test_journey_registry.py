"""Journey 1 (the registry), ending with journey 5 over every address it showed.

A vendor compliance admin invites an officer; the officer sets a password from the e-mailed
link, registers a model and imports fifty customers by CSV. Then a member of another vendor
tries every address seen and gets 404 for each. Browser only: the ORM builds the starting
world (two vendors, each with its admin); mail is read from the local SMTP server.
"""

import csv
import io
import re

import pytest

from portal.accounts.models import Role
from tests.browser.conftest import pass_second_factor
from tests.browser.journeys import (
    AddressBook,
    another_vendor_gets_404_everywhere,
    assert_errors_next_to_fields,
    file_input,
    look,
    signed_in,
    submit,
)
from vendors.choices import Sector
from vendors.tests.factories import VendorFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NEW_PASSWORD = "Quartz-lantern-1947"
COUNTRIES = ["US", "GB", "DE", "JP", "CA"]


def fifty_customers_csv():
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "legal_name",
            "country",
            "sector",
            "registration_id",
            "intended_use",
            "security_contact_name",
            "security_contact_email",
            "attestation",
        ]
    )
    sectors = Sector.values
    for n in range(1, 51):
        writer.writerow(
            [
                f"Imported Customer {n:02d} LLC",
                COUNTRIES[n % len(COUNTRIES)],
                sectors[n % len(sectors)],
                f"REG-{n:04d}",
                "Triage of intrusion alerts in the security operations centre",
                f"Contact {n}",
                f"security{n}@imported{n}.example",
                "yes",
            ]
        )
    return out.getvalue().encode()


def test_journey_1_invite_set_password_register_a_model_import_fifty_customers(
    open_page, live_server, mailbox
):
    # given: two vendors, each with a compliance admin
    vendor = VendorFactory(legal_name="Aurora Labs Inc.", organisation__name="Aurora Labs")
    admin = member_of(vendor, Role.VENDOR_ADMIN, full_name="Ada Admin", email="ada@aurora.example")
    outsider = member_of(
        VendorFactory(legal_name="Basalt AI Inc.", organisation__name="Basalt AI"), Role.VENDOR_ADMIN
    )
    addresses = AddressBook(live_server.url)

    # the admin signs in and invites an officer; an empty form is refused field by field
    page = signed_in(open_page, admin, "admin", lands_on="/vendor/")
    look(page, "vendor-dashboard-empty", addresses)
    page.get_by_role("link", name="Team", exact=True).click()
    look(page, "team", addresses)
    page.get_by_role("link", name="Invite a colleague").click()
    look(page, "team-invite", addresses)
    submit(page, "Send the invitation")
    assert_errors_next_to_fields(page, ["full_name", "email", "role"])
    look(page, "team-invite-errors", addresses)
    page.get_by_label("Full name").fill("Oscar Officer")
    page.get_by_label("E-mail address").fill("oscar@aurora.example")
    page.get_by_label("Role").select_option(label="Compliance officer")
    page.get_by_role("button", name="Send the invitation").click()
    page.wait_for_url("**/vendor/team/")
    assert (
        "An e-mail about this invitation is on its way to oscar@aurora.example"
        in page.get_by_role("status").first.inner_text()
    )
    row = page.get_by_role("row").filter(has_text="oscar@aurora.example")
    assert "Invited" in row.text_content()
    look(page, "team-invited", addresses)

    # the officer follows the link in the invitation and sets a password
    invitation = mailbox.wait_for(to="oscar@aurora.example", subject="invited")
    officer = open_page("officer")
    officer.goto(invitation.link("/accounts/reset/"))
    look(officer, "set-password")
    officer.get_by_label(re.compile(r"^New password(?! confirmation)")).fill(NEW_PASSWORD)
    officer.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    officer.get_by_role("button", name="Set password").click()
    officer.wait_for_url("**/accounts/reset/done/")
    look(officer, "password-set")
    officer.get_by_role("link", name="Sign in").click()
    officer.get_by_label("E-mail address").fill("oscar@aurora.example")
    officer.get_by_label("Password").fill(NEW_PASSWORD)
    officer.get_by_role("button", name="Sign in").click()
    pass_second_factor(officer, "oscar@aurora.example")  # first sign-in: sets up an authenticator
    officer.wait_for_url("**/vendor/")
    assert "Oscar Officer" in officer.locator(".portal-userbar").inner_text()

    # the officer registers a model, writing the compute the way people write it
    officer.get_by_role("link", name="Models", exact=True).click()
    look(officer, "model-list", addresses)
    officer.get_by_role("link", name="Register a model").click()
    look(officer, "model-new", addresses)
    officer.get_by_label("Name").fill("Aurora Atlas")
    officer.get_by_label("Version").fill("2.0")
    officer.get_by_label("Training compute (FLOP)").fill("3.2 × 10^26")
    officer.get_by_label("Description").fill("A general-purpose language model.")
    officer.get_by_role("button", name="Register the model").click()
    officer.wait_for_url("**/vendor/models/*/")
    assert officer.get_by_role("heading", level=1).inner_text().startswith("Aurora Atlas")
    assert "reaches the threshold" in officer.locator("main").inner_text()
    look(officer, "model-detail", addresses, picture=True)

    # … and imports fifty customers: upload, check, import
    officer.get_by_role("link", name="Customers", exact=True).click()
    look(officer, "customer-list-empty", addresses)
    officer.get_by_role("link", name="Import from CSV").click()
    look(officer, "customer-import", addresses)
    file_input(officer, "CSV file").set_input_files(
        {"name": "partner-customers.csv", "mimeType": "text/csv", "buffer": fifty_customers_csv()}
    )
    officer.get_by_role("button", name="Check the file").click()
    officer.wait_for_url("**/vendor/customers/import/*/")
    assert "50 customer rows read: 50 ready, 0 with problems" in officer.locator("main").inner_text()
    look(officer, "customer-import-preview", addresses, picture=True)
    officer.get_by_role("button", name="Import 50 customers").click()
    officer.wait_for_url("**/vendor/customers/")
    assert "50 partner customers imported" in officer.get_by_role("status").first.inner_text()
    assert officer.get_by_role("link", name="Imported Customer 01 LLC").is_visible()
    look(officer, "customer-list", addresses, picture=True)
    officer.get_by_role("link", name="Imported Customer 01 LLC").click()
    look(officer, "customer-detail", addresses)

    # the admin sees the officer active on the team and the model on the dashboard
    page.get_by_role("link", name="Team", exact=True).click()
    assert "Active" in page.get_by_role("row").filter(has_text="oscar@aurora.example").text_content()
    page.get_by_role("link", name="Dashboard", exact=True).click()
    look(page, "vendor-dashboard", addresses, picture=True)

    # journey 5: a member of another vendor tries every address seen, and gets 404 for each
    another_vendor_gets_404_everywhere(open_page, outsider, addresses)
