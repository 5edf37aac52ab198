"""Issue 4's "Done when", in a browser: the whole review of two requests through the pages.

officer@aurora.example files a request; reviewer@doc.example asks a question; the officer
answers it and the clock resumes; DOC, ONCD and OSTP sign; approver@doc.example approves
with conditions; the officer reads the letter and the grant. Then a second request where ONCD
does not concur, through escalation, an intent to deny and the vendor's response, to a denial.
Screenshots of each step are kept in ``test-artifacts/`` (not under CI: ``conftest.PICTURES``).
"""

import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from approvals.models import AccessRequest
from tests.browser.conftest import assert_accessible, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASE = ""
step_no = [0]


def shot(page, name):
    step_no[0] += 1
    screenshot(page, f"review-{step_no[0]:02d}-{name}")


SESSIONS = {}  # email → the cookies of their signed-in browser (reset for each run of the journey)


def as_user(browser, email):
    """A browser window signed in as ``email``: the first time through the sign-in form and the
    second factor; afterwards the person's browser still holds their session, as a person's does
    between two tasks of a day (a sign-in per task waited out the authenticator's 30-second
    steps: its codes are single-use)."""
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, base_url=BASE, storage_state=SESSIONS.get(email)
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    if email in SESSIONS:
        return context, page
    page.goto(BASE + "/accounts/login/")
    page.fill("input[name=username]", email)
    page.fill("input[name=password]", "portal-demo")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    from tests.browser.conftest import pass_second_factor

    pass_second_factor(page, email)
    print(f"-- signed in as {email}: {page.url}")
    SESSIONS[email] = context.storage_state()
    return context, page


def open_case(page, tracking):
    page.goto(f"{BASE}/admin/approvals/accessrequest/?q={tracking}")
    page.get_by_role("link", name=tracking).first.click()
    page.wait_for_load_state()
    expect(page.locator("#content h1")).to_contain_text(tracking)


def click_action(page, label):
    page.get_by_role("link", name=label, exact=True).click()
    page.wait_for_load_state()


def submit_admin_form(page):
    page.locator("form input[type=submit].default").click()
    page.wait_for_load_state()
    errors = page.locator(".errornote, .errorlist")
    if errors.count():
        print("   FORM ERRORS:", errors.all_inner_texts())
        pytest.fail(f"form errors: {errors.all_inner_texts()}")
    print(
        "   ", page.locator(".messagelist").inner_text() if page.locator(".messagelist").count() else page.url
    )


def draft_and_sign(browser, tracking, code, stance, *, rationale="", condition=None, drafter=None):
    approver_email = f"approver@{code.lower()}.example"
    context, page = as_user(browser, drafter or approver_email)
    open_case(page, tracking)
    if drafter:
        page.get_by_role("button", name="Assign to me", exact=True).click()  # one click
        page.wait_for_load_state()
    click_action(page, "Draft the position")
    page.check(f"input[name=stance][value={stance}]")
    if rationale:
        page.fill("textarea[name=rationale]", rationale)
    if condition:
        kind, text, extra = condition
        page.select_option("select[name=condition_0_kind]", kind)
        page.fill("textarea[name=condition_0_text]", text)
        if kind == "seat_cap":
            page.fill("input[name=condition_0_seat_cap]", str(extra))
    submit_admin_form(page)
    if drafter:
        context.close()
        context, page = as_user(browser, approver_email)
        open_case(page, tracking)
    click_action(page, "Sign the position")
    shot(page, f"{code.lower()}-sign")
    submit_admin_form(page)
    context.close()


def file_request(browser, email, model, customer, duration="180"):
    context, page = as_user(browser, email)
    page.goto(BASE + "/vendor/requests/new/")
    page.select_option("select[name=frontier_model]", label=model)
    # the customer is found by typing in the search combo box, then chosen
    page.get_by_role("combobox", name="Partner customer").fill(customer[:10])
    page.get_by_role("listbox").get_by_role("option", name=re.compile("^" + re.escape(customer))).click()
    page.fill("textarea[name=use_case]", "Secure code review for the customer's payment services developers.")
    page.fill("textarea[name=scope]", "25 developer seats; U.S. region; no production data in prompts.")
    page.fill("input[name=requested_duration_days]", duration)
    page.set_input_files(
        "input[name=document]",
        files=[
            {"name": "end-use.txt", "mimeType": "text/plain", "buffer": b"End-use statement: code review.\n"}
        ],
    )
    page.fill("input[name=document_title]", "End-use statement")
    shot(page, "new-request-form")
    assert_accessible(page, "new-request")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state()
    shot(page, "draft")
    page.get_by_role("button", name="Submit the request").click()
    page.wait_for_load_state()
    tracking = re.search(r"FAR-\d{4}-\d{6}", page.locator("h1").inner_text()).group(0)
    print("   filed", tracking)
    shot(page, "submitted")
    return context, page, tracking


@pytest.fixture
def browser(chromium, live_server, settings):
    """The session's Chromium (``tests/browser/conftest.py``) on the demo world."""
    global BASE
    BASE = live_server.url
    settings.VENDOR_DASHBOARD_PANELS = ["approvals.vendor_pages.panels.requests_panel"]
    SESSIONS.clear()
    call_command("seed_demo", verbosity=0)
    return chromium


def test_two_requests_from_filing_to_decision(browser):

    print("== 1. officer@aurora.example files a request")
    context, page, tracking = file_request(
        browser, "officer@aurora.example", "Aurora Atlas 2.0", "Brightline Software Inc. (United States)"
    )
    context.close()

    print("== 2. reviewer@doc.example asks a question")
    context, page = as_user(browser, "reviewer@doc.example")
    open_case(page, tracking)
    shot(page, "reviewer-case")
    click_action(page, "Ask the vendor")
    page.fill(
        "textarea[name=question]",
        "Which repositories will the model read, and are any of them export-controlled?",
    )
    submit_admin_form(page)
    shot(page, "reviewer-after-question")
    context.close()

    print("== 3. the officer answers; the clock resumes")
    context, page = as_user(browser, "officer@aurora.example")
    page.goto(BASE + "/vendor/")
    shot(page, "vendor-dashboard-waiting")
    page.goto(f"{BASE}/vendor/requests/{tracking}/")
    expect(page.get_by_text("clock stopped").first).to_be_visible()
    shot(page, "vendor-question")
    assert_accessible(page, "request-with-question")
    page.fill(
        "textarea[name$='-answer']", "Only the payments monorepo; none of it is export-controlled (EAR99)."
    )
    page.set_input_files(
        "input[name$='-documents']",
        files=[
            {"name": "repositories.txt", "mimeType": "text/plain", "buffer": b"payments-monorepo: EAR99\n"}
        ],
    )
    page.get_by_role("button", name="Send the answer to DOC").click()
    page.wait_for_load_state()
    expect(page.get_by_text("clock stopped")).to_have_count(0)
    expect(page.get_by_text("due in 30 days").first).to_be_visible()
    shot(page, "vendor-answered-clock-resumed")
    context.close()

    print("== 4. DOC (reviewer drafts, approver signs), ONCD and OSTP sign")
    draft_and_sign(
        browser,
        tracking,
        "DOC",
        "concur_with_conditions",
        condition=("logging", "Keep prompt and output logs for 12 months", None),
        drafter="reviewer@doc.example",
    )
    draft_and_sign(
        browser, tracking, "ONCD", "concur_with_conditions", condition=("seat_cap", "At most 25 seats", 25)
    )
    draft_and_sign(browser, tracking, "OSTP", "concur")

    print("== 5. approver@doc.example approves with the conditions")
    context, page = as_user(browser, "approver@doc.example")
    open_case(page, tracking)
    click_action(page, "Record the decision")
    shot(page, "decide")
    page.fill("textarea[name=rationale]", "Every agency concurs; DOC's and ONCD's conditions apply.")
    submit_admin_form(page)
    shot(page, "case-approved")
    context.close()

    print("== 6. the officer sees the letter and the grant")
    context, page = as_user(browser, "officer@aurora.example")
    page.goto(f"{BASE}/vendor/requests/{tracking}/")
    expect(page.get_by_role("heading", name=re.compile("Grant"))).to_be_visible()
    expect(page.get_by_text("At most 25 seats")).to_be_visible()
    shot(page, "vendor-approved")
    assert_accessible(page, "approved-request")
    page.goto(BASE + "/vendor/requests/")
    assert_accessible(page, "request-list")
    page.goto(f"{BASE}/vendor/requests/{tracking}/")
    page.get_by_role("link", name="Read the decision letter").click()
    page.wait_for_load_state()
    expect(page.get_by_text("The request is APPROVED")).to_be_visible()
    shot(page, "vendor-letter")
    context.close()

    print("== 7. a second request: ONCD does not concur; escalation; intent to deny; response; denial")
    # Harbor Federal Credit Union is not yet attested in the demo world: the admin attests it.
    context, page = as_user(browser, "compliance@aurora.example")
    page.goto(BASE + "/vendor/customers/")
    page.get_by_role("link", name="Harbor Federal Credit Union").first.click()
    page.get_by_role("link", name=re.compile("^Edit")).first.click()
    page.locator("label[for=id_attestation]").click()  # USWDS draws the box on the label
    page.fill("input[name=reason], textarea[name=reason]", "Identity and intended use confirmed.")
    page.locator("form.usa-form button[type=submit]").last.click()
    page.wait_for_load_state()
    context.close()
    context, page, second = file_request(
        browser,
        # Basalt's models are pulled offline or designated in the demo world; Aurora files again.
        "compliance@aurora.example",
        "Aurora Atlas 2.0",
        "Harbor Federal Credit Union (United States)",
        "90",
    )
    context.close()
    draft_and_sign(browser, second, "DOC", "concur", drafter="reviewer@doc.example")
    draft_and_sign(browser, second, "CISA", "concur")
    draft_and_sign(
        browser,
        second,
        "ONCD",
        "non_concur",
        rationale="Jailbreak research at this level needs an institutional review board approval on file.",
    )
    draft_and_sign(browser, second, "OSTP", "concur")
    context, page = as_user(browser, "approver@doc.example")
    open_case(page, second)
    # the last signature escalated the case by itself
    click_action(page, "Resolve the escalation")
    page.check("input[name=outcome][value=intent_to_deny]")
    page.fill("textarea[name=rationale]", "No institutional review board approval is on file for the study.")
    shot(page, "resolve-form")
    submit_admin_form(page)
    context.close()

    context, page = as_user(browser, "compliance@aurora.example")
    page.goto(f"{BASE}/vendor/requests/{second}/")
    shot(page, "vendor-intent-to-deny")
    page.fill(
        "textarea[name=response]", "The IRB approval is attached to our file; we ask you to reconsider."
    )
    page.get_by_role("button", name="Send the response").click()
    page.wait_for_load_state()
    context.close()

    context, page = as_user(browser, "approver@doc.example")
    open_case(page, second)
    click_action(page, "Finalise the denial")
    page.fill(
        "textarea[name=rationale]",
        "The response names an approval that is not on file. Denied; file again with it.",
    )
    submit_admin_form(page)
    shot(page, "case-denied")
    context.close()

    context, page = as_user(browser, "compliance@aurora.example")
    page.goto(f"{BASE}/vendor/requests/{second}/")
    shot(page, "vendor-denied")
    page.get_by_role("link", name="Read the decision letter").click()
    expect(page.get_by_text("The request is DENIED")).to_be_visible()
    shot(page, "vendor-denial-letter")
    context.close()

    context, page = as_user(browser, "auditor@oversight.example")
    open_case(page, tracking)
    expect(page.locator("[aria-label='Actions on this case']")).to_have_count(0)
    shot(page, "auditor-case")
    context.close()
    assert AccessRequest.objects.get(tracking_number=tracking).status == "approved"
    assert AccessRequest.objects.get(tracking_number=second).status == "denied"
