"""Journeys 2 and 3 (the review), each ending with journey 5 over every address it showed.

Everyone acts in a browser of their own: the vendor on ``/vendor/``, the agencies in the admin.
People reach a case the way they would, by the link in the mail they received; mail is read from
the local SMTP server. The ORM only builds the starting world (``tests/browser/world.py``).
"""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from tests.browser.journeys import (
    AddressBook,
    another_vendor_gets_404_everywhere,
    assert_admin_errors_next_to_fields,
    assert_errors_next_to_fields,
    focused,
    follow_link,
    look,
    signed_in,
    submit,
    tab,
    tab_to,
)
from tests.browser.world import review_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

END_USE = b"End-use statement: Example Grid Operations LLC will use Aurora Atlas to triage alerts.\n"


def open_file_chooser_by_keyboard(page):
    """Space on the focused file field opens the file chooser. Headless Chromium on a loaded
    machine now and then drops that key press (seen once in a run: the field had the focus, no
    chooser came in 10 s), so a second press follows, as a person's would; the field must still
    have the focus, and the chooser must come from the keyboard."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in (1, 2):
        try:
            with page.expect_file_chooser(timeout=5_000 * attempt) as chooser:
                page.keyboard.press("Space")
            return chooser.value
        except PlaywrightTimeout:
            if attempt == 2:
                raise
            assert focused(page) == "document", f"the focus moved to {focused(page)!r}"
    return None


def file_a_request_by_keyboard(page, addresses):
    """The officer files the request with the keyboard alone: Tab, type, Space and Enter."""
    page.get_by_role("link", name="Requests", exact=True).click()
    look(page, "request-list", addresses)
    page.get_by_role("link", name="New access request").click()
    page.wait_for_url("**/vendor/requests/new/")
    look(page, "request-new", addresses)

    # saved empty, the form says what is missing next to each field
    tab_to(page, "frontier_model")
    for name in ("partner_customer", "use_case", "scope", "requested_duration_days", "document"):
        tab(page, name)
    tab(page, "document_title")
    tab(page, "Save draft")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert_errors_next_to_fields(page, ["frontier_model", "partner_customer"])
    look(page, "request-new-errors", addresses)

    # then filled in, field after field, in the order of the form
    tab_to(page, "frontier_model")
    page.keyboard.type("Aurora Atlas")
    tab(page, "partner_customer")
    page.keyboard.type("Example Grid")  # the search combo box: type, then choose the match
    page.get_by_role("listbox").get_by_role("option").first.wait_for()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    tab(page, "use_case")
    page.keyboard.type("Triage of intrusion alerts in the customer's security operations centre.")
    tab(page, "scope")
    page.keyboard.type("200 analyst seats; U.S. region only; no customer data leaves the tenant.")
    tab(page, "requested_duration_days")
    page.keyboard.type("365")
    tab(page, "document")
    chooser = open_file_chooser_by_keyboard(page)
    chooser.set_files({"name": "end-use-statement.txt", "mimeType": "text/plain", "buffer": END_USE})
    tab(page, "document_title")
    page.keyboard.type("End-use statement")
    tab(page, "Save draft")
    assert page.get_by_label("Model").input_value() != ""
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/vendor/requests/\d+/$"))
    main = page.locator("main").inner_text()
    assert "Draft saved" in main
    assert "The request is complete" in main, main
    look(page, "request-draft", addresses)


def test_journey_2_file_question_answer_three_signatures_approval_with_conditions(
    open_page, live_server, mailbox
):
    world = review_world()
    addresses = AddressBook(live_server.url)
    officer = signed_in(open_page, world.officer, "officer", lands_on="/vendor/")

    # the officer files the request (keyboard only) and submits it
    file_a_request_by_keyboard(officer, addresses)
    officer.get_by_role("button", name="Submit the request").click()
    officer.wait_for_url("**/vendor/requests/FAR-*/")
    tracking = officer.locator("h1 .portal-tracking").inner_text()
    assert re.fullmatch(r"FAR-\d{4}-\d{6}", tracking)
    assert f"Submitted as {tracking}" in officer.get_by_role("status").first.inner_text()
    look(officer, "request-submitted", addresses)
    mailbox.wait_for(to=world.officer.email, subject=f"Received: access request {tracking}")

    # the DOC reviewer follows the referral notice and asks the vendor a question
    referral_mail = mailbox.wait_for(to=world.reviewer.email, subject=f"New referral for DOC: {tracking}")
    reviewer = follow_link(open_page("doc-reviewer"), world.reviewer, referral_mail.link("/admin/"))
    look(reviewer, "agency-case-submitted", addresses)
    reviewer.get_by_role("link", name="Ask the vendor").click()
    look(reviewer, "agency-ask", addresses)
    reviewer.get_by_label("Question").fill("Which data will the customer's analysts paste into the model?")
    reviewer.get_by_role("button", name="Ask the vendor a question").click()
    reviewer.wait_for_url("**/change/")
    assert "Every clock is stopped" in reviewer.locator(".messagelist").inner_text()
    look(reviewer, "agency-case-question", addresses)

    # the officer gets the question by mail, sees the clocks stopped, answers; the clocks resume
    question = mailbox.wait_for(to=world.officer.email, subject=f"Question from DOC on {tracking}")
    follow_link(officer, world.officer, question.link("/vendor/requests/"))
    progress = officer.get_by_role("table", name="Each agency's review and its clock")
    assert progress.get_by_text("clock stopped").count() == 3
    look(officer, "request-question", addresses, picture=True)
    officer.get_by_role("textbox", name=re.compile("^Your answer")).fill(
        "Alert metadata only: no customer content, no personal data."
    )
    officer.get_by_role("button", name="Send the answer to DOC").click()
    officer.wait_for_url(f"**/vendor/requests/{tracking}/")
    assert "Your answer has been sent to DOC" in officer.get_by_role("status").first.inner_text()
    assert progress.get_by_text("clock stopped").count() == 0
    assert progress.get_by_text(re.compile(r"due in \d+ days")).count() == 3
    look(officer, "request-answered", addresses)

    # DOC, ONCD and OSTP approvers each draft and sign their agency's position
    conditions = {
        "DOC": ("Concur with conditions", "Usage logs kept for one year and shown to DOC on request."),
        "ONCD": ("Concur with conditions", "No fine-tuning on the customer's incident data."),
        "OSTP": ("Concur", ""),
    }
    approvers = {}
    for code, (stance, condition) in conditions.items():
        approver = world.approvers[code]
        notice = mailbox.wait_for(to=approver.email, subject=f"New referral for {code}: {tracking}")
        page = approvers[code] = follow_link(
            open_page(f"{code.lower()}-approver"), approver, notice.link("/admin/")
        )
        page.get_by_role("link", name="Draft the position").click()
        look(page, f"agency-position-{code.lower()}", addresses)
        page.get_by_label(stance, exact=True).check()
        if condition:
            page.get_by_label("Condition 1: text").fill(condition)
        page.get_by_role("button", name="Save draft").click()
        page.wait_for_url("**/change/")
        page.get_by_role("link", name="Sign the position").click()
        look(page, f"agency-sign-{code.lower()}", addresses)
        page.get_by_role("button", name="Sign the position").click()
        page.wait_for_url("**/change/")
        assert f"{code}'s position on {tracking} is signed" in page.locator(".messagelist").inner_text()
        assert f"signed by {approver.full_name}" in page.locator("#content-main").inner_text()

    # the DOC approver records the decision: approved, with both agencies' conditions
    doc = approvers["DOC"]
    doc.reload()
    doc.get_by_role("link", name="Record the decision").click()
    look(doc, "agency-decide", addresses)
    carried = doc.locator("#content-main").inner_text()
    assert "[DOC] Usage logs kept" in carried
    assert "[ONCD] No fine-tuning" in carried
    doc.get_by_role("button", name="Approve the request").click()
    doc.wait_for_url("**/change/")
    assert f"{tracking} approved" in doc.locator(".messagelist").inner_text()
    look(doc, "agency-case-approved", addresses, picture=True)

    # the officer receives the decision by mail, follows its link, sees the grant and the letter
    decision = mailbox.wait_for(to=world.officer.email, subject=f"Decision on {tracking}: approved")
    mailbox.wait_for(to=world.admin.email, subject=f"Decision on {tracking}: approved")
    follow_link(officer, world.officer, decision.link("/vendor/requests/"))
    grant = officer.get_by_role("region", name=re.compile("^Grant"))
    assert "Active" in grant.text_content()
    assert "Example Grid Operations LLC may use Aurora Atlas 2.0" in grant.inner_text()
    rows = officer.get_by_role("table", name="Conditions of the approval").inner_text()
    assert re.search(r"DOC\s+Usage logs kept for one year", rows)
    assert re.search(r"ONCD\s+No fine-tuning", rows)
    look(officer, "request-approved", addresses, picture=True)
    officer.get_by_role("link", name="Read the decision letter").click()
    officer.wait_for_url(f"**/vendor/requests/{tracking}/letter/")
    letter = officer.locator("main").inner_text()
    assert tracking in letter
    assert "Usage logs kept for one year" in letter
    look(officer, "decision-letter", addresses, picture=True)
    # the decision is in the officer's notifications too; opening it marks it read
    officer.get_by_role("link", name=re.compile("^Notifications")).click()
    decided = officer.get_by_role("listitem").filter(has_text=f"Decision on {tracking}: approved")
    assert "New" in decided.text_content()
    look(officer, "notifications", addresses)
    decided.get_by_role("button", name=re.compile("^Open")).click()
    officer.wait_for_url(f"**/vendor/requests/{tracking}/")
    officer.get_by_role("link", name=re.compile("^Notifications")).click()
    decided = officer.get_by_role("listitem").filter(has_text=f"Decision on {tracking}: approved")
    assert "New" not in decided.text_content()
    officer.get_by_role("link", name="Dashboard", exact=True).click()
    look(officer, "vendor-dashboard-requests", addresses, picture=True)
    # each member of the compliance team got the decision exactly once
    for person in (world.officer, world.admin):
        assert len([m for m in mailbox.to(person.email) if "Decision on" in m.subject]) == 1

    # journey 5: Basalt's compliance admin tries every address of this journey: 404 each time
    another_vendor_gets_404_everywhere(open_page, world.outsider, addresses)


def test_journey_3_non_concurrence_escalation_intent_to_deny_vendor_response_denial(
    open_page, live_server, mailbox
):
    # given: a submitted request on which DOC and OSTP have already concurred
    world = review_world()
    access_request = services.submit_request(
        access_request=services.create_draft_request(
            actor=world.officer,
            frontier_model=world.frontier_model,
            partner_customer=world.partner_customer,
            use_case="Autonomous patching of the customer's grid-control workstations.",
            scope="All 40 control centres; model output applied without human review.",
            requested_duration_days=365,
            documents=[(SimpleUploadedFile("end-use.txt", END_USE, content_type="text/plain"), "End use")],
        ),
        actor=world.officer,
    )
    tracking = access_request.tracking_number
    for code in ("DOC", "OSTP"):
        referral = access_request.referrals.get(agency__code=code)
        approver = world.approvers[code]
        services.draft_position(
            referral=referral, actor=approver, stance="concur", rationale="", conditions=()
        )
        services.sign_position(referral=referral, actor=approver)
    addresses = AddressBook(live_server.url)

    # ONCD's approver does not concur: the rationale is required, and said so next to the field
    notice = mailbox.wait_for(to=world.approvers["ONCD"].email, subject=f"New referral for ONCD: {tracking}")
    oncd = follow_link(open_page("oncd-approver"), world.approvers["ONCD"], notice.link("/admin/"))
    look(oncd, "agency-case-oncd", addresses)
    oncd.get_by_role("link", name="Draft the position").click()
    oncd.get_by_label("Do not concur", exact=True).check()
    submit(oncd, "Save draft")
    assert_admin_errors_next_to_fields(oncd, ["rationale"])
    look(oncd, "agency-position-errors", addresses)
    oncd.get_by_label("Rationale").fill(
        "Unreviewed autonomous changes to grid-control systems are an unacceptable risk."
    )
    oncd.get_by_role("button", name="Save draft").click()
    oncd.wait_for_url("**/change/")
    oncd.get_by_role("link", name="Sign the position").click()
    oncd.get_by_role("button", name="Sign the position").click()
    oncd.wait_for_url("**/change/")
    assert "ONCD: Do not concur — signed by Sam Ortiz" in oncd.locator("#content-main").inner_text()

    # every required agency has signed and ONCD does not concur: the case escalated by itself, and
    # the DOC approver is mailed "Escalated" (never "Ready for decision"); it issues an intent to deny
    escalated = mailbox.wait_for(to=world.approvers["DOC"].email, subject=f"Escalated: {tracking}")
    doc = follow_link(open_page("doc-approver"), world.approvers["DOC"], escalated.link("/admin/"))
    assert doc.get_by_role("link", name="Record the decision").count() == 0
    assert doc.get_by_role("link", name="Escalate").count() == 0
    doc.get_by_role("link", name="Resolve the escalation").click()
    look(doc, "agency-resolve", addresses)
    doc.get_by_label("Issue an intent to deny").check()
    doc.get_by_label("Rationale").fill(
        "Autonomous changes to grid control without human review, as ONCD found."
    )
    doc.get_by_role("button", name="Resolve the escalation").click()
    doc.wait_for_url("**/change/")
    assert "Intent to deny issued" in doc.locator(".messagelist").inner_text()
    look(doc, "agency-case-intent-to-deny", addresses)

    # the officer reads the intent to deny from the mail and responds in the window
    intent = mailbox.wait_for(to=world.officer.email, subject=f"Intent to deny {tracking}")
    officer = follow_link(open_page("officer"), world.officer, intent.link("/vendor/requests/"))
    section = officer.get_by_role("region", name="Intent to deny")
    assert "as ONCD found" in section.inner_text()
    look(officer, "request-intent-to-deny", addresses, picture=True)
    # sent empty, the portal says so next to the field, announced and referenced by it
    section.get_by_role("button", name="Send the response").click()
    officer.wait_for_load_state()
    assert_errors_next_to_fields(officer, ["response"])
    response_box = officer.get_by_role("textbox", name=re.compile("^Your response"))
    response_box.fill("We will keep a human approval step on every change; the scope is amended accordingly.")
    officer.get_by_role("button", name="Send the response").click()
    officer.wait_for_url(f"**/vendor/requests/{tracking}/")
    assert (
        "Your response has been sent to the lead agency" in officer.get_by_role("status").first.inner_text()
    )
    look(officer, "request-intent-answered", addresses)

    # the lead reads the response and decides: the denial stands
    responded = mailbox.wait_for(to=world.approvers["DOC"].email, subject="The vendor responded")
    follow_link(doc, world.approvers["DOC"], responded.link("/admin/"))
    assert "We will keep a human approval step" in doc.locator("#content-main").inner_text()
    doc.get_by_role("link", name="Finalise the denial").click()
    look(doc, "agency-finalise", addresses)
    doc.get_by_role("button", name="Finalise the denial").click()
    doc.wait_for_url("**/change/")
    assert f"{tracking} denied" in doc.locator(".messagelist").inner_text()
    look(doc, "agency-case-denied", addresses, picture=True)

    # the officer gets the decision by mail and reads the reasons in the letter
    decision = mailbox.wait_for(to=world.officer.email, subject=f"Decision on {tracking}: denied")
    follow_link(officer, world.officer, decision.link("/vendor/requests/"))
    assert "Denied" in officer.locator("h1").text_content()
    assert officer.get_by_role("region", name=re.compile("^Grant")).count() == 0
    look(officer, "request-denied", addresses)
    officer.get_by_role("link", name="Read the decision letter").click()
    assert "as ONCD found" in officer.locator("main").inner_text()
    look(officer, "denial-letter", addresses)

    # journey 5: Basalt's compliance admin tries every address of this journey: 404 each time
    another_vendor_gets_404_everywhere(open_page, world.outsider, addresses)
