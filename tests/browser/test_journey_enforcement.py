"""Journey 4 (enforcement), ending with journey 5 over every address it showed.

The DOC approver pulls a model offline for the energy-sector customers only, seeing beforehand
exactly which grants it takes; the vendor gets the mail, attests customer by customer that access
was cut off, and sees only those grants suspended; the approver lifts the suspension and exactly
those grants come back. The starting world holds three approved requests (two energy-sector
customers, one water utility), built through the services; everything after that happens in
browsers.
"""

import re

import pytest

from tests.browser.journeys import (
    AddressBook,
    another_vendor_gets_404_everywhere,
    follow_link,
    look,
    signed_in,
)
from tests.browser.world import approved_request, review_world
from vendors.choices import Sector
from vendors.tests.factories import PartnerCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CUSTOMERS = ["Example Grid Operations LLC", "Northern Power Cooperative"]  # the energy sector
UNTOUCHED = "Harbor Water Authority"  # the water sector


def each_grant_is(page, requests, status, addresses):
    """The vendor opens each of its requests from the list: the grant shows ``status``."""
    for access_request in requests:
        page.get_by_role("link", name="Requests", exact=True).click()
        page.get_by_role("link", name=access_request.tracking_number).click()
        grant = page.get_by_role("region", name=re.compile("^Grant"))
        assert status in grant.text_content(), grant.text_content()
        look(page, f"request-grant-{status.lower()}", addresses)


def wait_for_the_job(page, addresses, name):
    """On the order's job page, wait as a person would watch the bar: until it says Finished."""
    page.wait_for_url(re.compile(r"/jobs/\d+/$"))
    page.get_by_role("heading", name="Finished").wait_for(timeout=60_000)
    look(page, name, addresses)
    return page.locator("#job").inner_text()


def test_journey_4_energy_customers_pulled_offline_cut_off_attested_then_restored(
    open_page, live_server, mailbox
):
    # given: the model has three active grants, two of them to energy-sector customers
    world = review_world()
    world.partner_customer.sector = Sector.ENERGY
    world.partner_customer.save(update_fields=["sector"])
    second = PartnerCustomerFactory(
        vendor=world.vendor, legal_name=CUSTOMERS[1], country="US", sector=Sector.ENERGY
    )
    water = PartnerCustomerFactory(
        vendor=world.vendor, legal_name=UNTOUCHED, country="US", sector=Sector.WATER
    )
    requests = [approved_request(world, world.partner_customer), approved_request(world, second)]
    untouched = approved_request(world, water)
    model = str(world.frontier_model)
    addresses = AddressBook(live_server.url)

    # the DOC approver opens a case of the model and asks to pull the model offline
    doc = signed_in(open_page, world.approvers["DOC"], "doc-approver", lands_on="/admin/")
    look(doc, "agency-dashboard", addresses, picture=True)
    doc.get_by_role("link", name=requests[0].tracking_number).click()  # from "Recent decisions"
    doc.get_by_role("link", name=re.compile("pull it offline")).click()
    # … for the customers of one sector: energy
    doc.get_by_label("The customers in one sector").check()
    doc.get_by_label("Sector", exact=True).select_option(Sector.ENERGY)
    doc.get_by_role("button", name="Show what this takes").click()
    # … and sees beforehand exactly what it will do: the two energy grants, by customer
    impact = doc.get_by_role("region", name=re.compile("What this will do"))
    assert "2 active grants" in impact.inner_text()
    assert "the customers in the Energy sector" in impact.inner_text()
    suspended_list = doc.locator("#content-main table").inner_text()
    for customer in CUSTOMERS:
        assert customer in suspended_list
    assert UNTOUCHED not in suspended_list
    look(doc, "agency-suspend", addresses, picture=True)
    doc.get_by_label("Legal basis").fill("Executive Order 14110, section 4.2(a)")
    doc.get_by_label("Findings").fill("Leaked weights of the model are being used against grid operators.")
    doc.get_by_role("button", name="Pull the model offline now").click()
    # the order is carried out in the background: the approver watches its page until it is done
    done = wait_for_the_job(doc, addresses, "agency-suspend-job")
    assert "2 grant(s) suspended" in done, done
    doc.get_by_role("link", name="Open the enforcement action").click()
    doc.wait_for_url(re.compile(r"/admin/approvals/enforcementaction/\d+/change/$"))
    assert "Example Grid Operations LLC" in doc.locator("#content-main").inner_text()  # the grants it took
    doc.go_back()
    doc.get_by_role("link", name=f"Back to {model}").click()
    doc.wait_for_url(re.compile(r"/admin/approvals/enforcementaction/models/\d+/$"))
    look(doc, "agency-model-suspended", addresses)

    # the vendor's compliance admin gets the notice, which leads to the attestation of the cut-off
    notice = mailbox.wait_for(
        to=world.admin.email, subject=f"{model} pulled offline (the customers in the Energy sector)"
    )
    vendor = follow_link(open_page("vendor-admin"), world.admin, notice.link("/vendor/"))
    assert "Attest that access was cut off" in vendor.locator("main").text_content()
    look(vendor, "vendor-attest-cutoff", addresses, picture=True)
    for customer in CUSTOMERS:
        vendor.locator("label.usa-checkbox__label", has_text=customer).click()  # as a person does
    vendor.get_by_label("How access was cut off").fill("API keys of both tenants revoked at 14:05 UTC.")
    vendor.get_by_role("button", name="Attest the cut-off").click()
    assert "The cut-off of every customer is attested." in vendor.locator("main").text_content()
    mailbox.wait_for(to=world.approvers["DOC"].email, subject="attested the cut-off of 2 customers")
    each_grant_is(vendor, requests, "Suspended", addresses)
    each_grant_is(vendor, [untouched], "Active", addresses)

    # the approver lifts the suspension, again seeing first which grants come back
    doc.reload()
    doc.get_by_role("link", name="Lift the suspension").click()
    impact = doc.get_by_role("region", name=re.compile("What lifting the suspension will do"))
    assert "2 grants" in impact.inner_text()
    look(doc, "agency-lift", addresses)
    doc.get_by_label("Legal basis").fill("Executive Order 14110, section 4.2(c)")
    doc.get_by_label("Findings").fill("The leak is contained; the vendor rotated every deployment key.")
    doc.get_by_role("button", name="Lift the suspension now").click()
    assert "2 grant(s) active again" in wait_for_the_job(doc, addresses, "agency-lift-job")

    # the vendor is told, and exactly those grants are active again
    lifted = mailbox.wait_for(
        to=world.admin.email, subject=f"Suspension of {model} lifted: 2 grants restored"
    )
    follow_link(vendor, world.admin, lifted.link("/vendor/"))
    assert "Limited preview" in vendor.locator("main").text_content()
    each_grant_is(vendor, [*requests, untouched], "Active", addresses)

    # journey 5: Basalt's compliance admin tries every address of this journey: 404 each time
    another_vendor_gets_404_everywhere(open_page, world.outsider, addresses)
