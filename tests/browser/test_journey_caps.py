"""Issue 16's first "Done when", in a browser: a model cleared for limited preview with a cap of 3,
three customers cleared, and a 4th request over the cap. The vendor is warned at submission; every
agency signs; DOC's decision page says "cap: 3 of 3 used" and offers no approval but the return
without action, which DOC takes; the vendor reads the return and its reason on its request page.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from tests.browser.journeys import follow_link, look, signed_in
from tests.browser.world import approved_request, review_world
from vendors.models import FrontierModel
from vendors.tests.factories import PartnerCustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_fourth_request_over_the_cap_ends_in_a_return_without_action_the_vendor_sees(
    open_page, live_server, mailbox
):
    # given: Aurora Atlas capped at 3 partner customers, all 3 places taken by approved requests
    world = review_world()
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(preview_customer_cap=3)
    holders = []
    for n in range(3):
        customer = PartnerCustomerFactory(vendor=world.vendor, legal_name=f"Cleared Utility {n + 1} LLC")
        approved_request(world, customer)
        holders.append(customer.legal_name)
    fourth = services.create_draft_request(
        actor=world.officer,
        frontier_model=world.frontier_model,
        partner_customer=world.partner_customer,
        use_case="Triage of intrusion alerts.",
        scope="20 seats; U.S. only.",
        requested_duration_days=365,
        documents=[(SimpleUploadedFile("end-use.txt", b"End use.\n", content_type="text/plain"), "End use")],
    )

    # when the officer opens the draft: the cap is full, and the page names the grants holding it
    officer = signed_in(open_page, world.officer, "officer", lands_on="/vendor/")
    officer.goto(f"/vendor/requests/{fourth.pk}/")
    warning = officer.locator(".usa-alert--warning", has_text="preview cap: 3 of 3 used")
    for name in holders:
        assert name in warning.inner_text()
    look(officer, "cap-draft-warning", picture=True)
    # the submission goes through, with the same warning
    officer.get_by_role("button", name="Submit the request").click()
    officer.wait_for_load_state()
    assert "cannot be approved until one of those grants ends" in officer.locator("main").inner_text()
    fourth.refresh_from_db()
    tracking = fourth.tracking_number

    # every agency signs (through the services: their pages are journey 2's)
    for referral in fourth.referrals.select_related("agency"):
        approver = world.approvers[referral.agency.code]
        services.draft_and_sign_position(referral=referral, actor=approver, stance="concur")

    # DOC's approver opens the case from the mail: the cap is there; the decision page cannot approve
    ready = mailbox.wait_for(to=world.approvers["DOC"].email, subject=f"Ready for decision: {tracking}")
    doc = follow_link(open_page("doc-approver"), world.approvers["DOC"], ready.link("/admin/"))
    assert "Preview cap: 3 of 3 used" in doc.locator("#content-main").inner_text()
    doc.get_by_role("link", name="Record the decision").click()
    doc.wait_for_url("**/decide/")
    content = doc.locator("#content-main").inner_text()
    assert "Preview cap: 3 of 3 used" in content
    assert "This request cannot be approved" in content
    assert doc.get_by_role("button", name="Approve the request").count() == 0
    look(doc, "cap-decision-page", picture=True)
    doc.get_by_role("link", name="Return without action").click()
    doc.wait_for_url("**/return-without-action/")
    doc.get_by_label("Reasons").fill(
        "Aurora Atlas is cleared for at most 3 partner customers in limited preview; 3 hold active grants."
    )
    doc.get_by_role("button", name="Return without action").click()
    doc.wait_for_url("**/change/")
    assert "returned without action" in doc.locator(".messagelist").inner_text()

    # then the vendor hears of it and reads the return with its reason
    notice = mailbox.wait_for(to=world.officer.email, subject=f"Returned without action: {tracking}")
    follow_link(officer, world.officer, notice.link("/vendor/requests/"))
    status = officer.get_by_role("status").first.inner_text()
    assert "Returned without action" in status
    assert "at most 3 partner customers" in status
    look(officer, "cap-vendor-returned", picture=True)
