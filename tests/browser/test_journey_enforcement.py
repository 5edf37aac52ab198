"""Journey 4 (enforcement), ending with journey 5 over every address it showed.

The DOC approver pulls a model offline, seeing beforehand exactly what will be suspended; the
vendor gets the mail and sees every grant suspended; the approver lifts the suspension and the
grants come back. The starting world holds two approved requests (so two active grants) for the
model, built through the services; everything after that happens in browsers.
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

CUSTOMERS = ["Example Grid Operations LLC", "Harbor Water Authority"]


def each_grant_is(page, requests, status, addresses):
    """The vendor opens each of its requests from the list: the grant shows ``status``."""
    for access_request in requests:
        page.get_by_role("link", name="Requests", exact=True).click()
        page.get_by_role("link", name=access_request.tracking_number).click()
        grant = page.get_by_role("region", name=re.compile("^Grant"))
        assert status in grant.text_content(), grant.text_content()
        look(page, f"request-grant-{status.lower()}", addresses)


def test_journey_4_model_pulled_offline_every_grant_suspended_then_restored(open_page, live_server, mailbox):
    # given: the model has two active grants, one per customer
    world = review_world()
    second = PartnerCustomerFactory(
        vendor=world.vendor, legal_name=CUSTOMERS[1], country="US", sector=Sector.OTHER
    )
    requests = [approved_request(world, world.partner_customer), approved_request(world, second)]
    model = str(world.frontier_model)
    addresses = AddressBook(live_server.url)

    # the DOC approver opens a case of the model and asks to pull the model offline
    doc = signed_in(open_page, world.approvers["DOC"], "doc-approver", lands_on="/admin/")
    look(doc, "agency-dashboard", addresses, picture=True)
    doc.get_by_role("link", name=requests[0].tracking_number).click()  # from "Recent decisions"
    doc.get_by_role("link", name=re.compile("pull it offline")).click()
    # … and sees beforehand exactly what it will do: both grants, by customer
    impact = doc.get_by_role("region", name=re.compile("What this will do"))
    assert "2 active grants" in impact.inner_text()
    suspended_list = doc.locator("#content-main table").inner_text()
    for customer in CUSTOMERS:
        assert customer in suspended_list
    look(doc, "agency-suspend", addresses, picture=True)
    doc.get_by_label("Legal basis").fill("Executive Order 14110, section 4.2(a)")
    doc.get_by_label("Findings").fill("Leaked weights of the model are being used against water utilities.")
    doc.get_by_role("button", name="Pull the model offline now").click()
    doc.wait_for_url(re.compile(r"/admin/approvals/enforcementaction/models/\d+/$"))
    assert "2 grant(s) suspended" in doc.locator(".messagelist").inner_text()
    look(doc, "agency-model-suspended", addresses)

    # the vendor's compliance admin gets the notice, and sees the model and every grant suspended
    notice = mailbox.wait_for(to=world.admin.email, subject=f"{model} pulled offline: 2 grants suspended")
    mailbox.wait_for(to=world.officer.email, subject=f"{model} pulled offline")
    vendor = follow_link(open_page("vendor-admin"), world.admin, notice.link("/vendor/"))
    assert "Suspended (pulled offline)" in vendor.locator("main").text_content()
    look(vendor, "model-suspended", addresses, picture=True)
    each_grant_is(vendor, requests, "Suspended", addresses)

    # the approver lifts the suspension, again seeing first which grants come back
    doc.get_by_role("link", name="Lift the suspension").click()
    impact = doc.get_by_role("region", name=re.compile("What lifting the suspension will do"))
    assert "2 grants" in impact.inner_text()
    look(doc, "agency-lift", addresses)
    doc.get_by_label("Legal basis").fill("Executive Order 14110, section 4.2(c)")
    doc.get_by_label("Findings").fill("The leak is contained; the vendor rotated every deployment key.")
    doc.get_by_role("button", name="Lift the suspension now").click()
    doc.wait_for_url(re.compile(r"/admin/approvals/enforcementaction/models/\d+/$"))
    assert "2 grant(s) active again" in doc.locator(".messagelist").inner_text()

    # the vendor is told, and the grants are active again
    lifted = mailbox.wait_for(
        to=world.admin.email, subject=f"Suspension of {model} lifted: 2 grants restored"
    )
    follow_link(vendor, world.admin, lifted.link("/vendor/"))
    assert "Limited preview" in vendor.locator("main").text_content()
    each_grant_is(vendor, requests, "Active", addresses)

    # journey 5: Basalt's compliance admin tries every address of this journey: 404 each time
    another_vendor_gets_404_everywhere(open_page, world.outsider, addresses)
