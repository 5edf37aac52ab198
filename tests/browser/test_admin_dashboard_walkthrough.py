"""Issue 7's "Done when", in a browser, on the demo world.

reviewer@doc.example opens the dashboard, finds the most urgent referral in one click and
drafts a position; approver@doc.example signs it from the signature queue (CISA and OSTP then
finish their reviews) and later decides the case from "Ready for decision";
auditor@oversight.example reads the whole case and its history and finds no way to change
anything. Screenshots go to ``test-artifacts/`` (not under CI: ``conftest.PICTURES``).

Also runs as a script against a running server (``python -m tests.browser.test_admin_dashboard_walkthrough
http://127.0.0.1:8106`` from the project's folder, after ``migrate`` and ``seed_demo``).
"""

import os
import sys

import pytest

from tests.browser.conftest import CHROMIUM, LAUNCH_ARGS, assert_accessible, screenshot

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Walk:
    def __init__(self, browser, base):
        self.browser, self.base, self.step = browser, base, 0

    def shot(self, page, name):
        self.step += 1
        screenshot(page, f"dashboard-{self.step:02d}-{name}")

    def as_user(self, email):
        context = self.browser.new_context(viewport={"width": 1400, "height": 900})
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(self.base + "/accounts/login/")
        page.fill("input[name=username]", email)
        page.fill("input[name=password]", "portal-demo")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        from tests.browser.conftest import pass_second_factor  # (not at the top: also runs as a script)

        pass_second_factor(page, email)
        print(f"-- {email} lands on {page.url}")
        return context, page

    @staticmethod
    def submit(page):
        page.locator("form input[type=submit].default").click()
        page.wait_for_load_state()
        errors = page.locator(".errornote, .errorlist")
        assert not errors.count(), errors.all_inner_texts()
        if page.locator(".messagelist").count():
            print("   ", page.locator(".messagelist").inner_text().strip())

    @staticmethod
    def act(page, label):
        page.get_by_role("link", name=label, exact=True).click()
        page.wait_for_load_state()


def walk_through(browser, base):
    from playwright.sync_api import expect

    walk = Walk(browser, base)

    print("== 1. the reviewer finds the most urgent referral in one click and drafts a position")
    context, page = walk.as_user("reviewer@doc.example")
    assert page.url.endswith("/admin/")
    walk.shot(page, "reviewer-dashboard")
    assert_accessible(page, "reviewer dashboard")
    urgent = page.locator("#urgent-h + table tbody tr").first
    tracking = urgent.locator("th a").inner_text()
    print("   most urgent:", " ".join(urgent.inner_text().split()))
    urgent.locator("th a").click()
    page.wait_for_load_state()
    expect(page.locator("#content h1")).to_contain_text(tracking)
    walk.shot(page, "reviewer-case")
    assert_accessible(page, "case page")
    walk.act(page, "Draft the position")
    page.check("input[name=stance][value=concur_with_conditions]")
    page.fill("textarea[name=rationale]", "Defensive use in a hospital network; logs keep misuse reviewable.")
    page.select_option("select[name=condition_0_kind]", "logging")
    page.fill("textarea[name=condition_0_text]", "Keep prompt and output logs for 12 months for review")
    walk.submit(page)
    expect(page.get_by_text("DRAFT by")).to_be_visible()
    walk.shot(page, "reviewer-drafted")
    context.close()

    print("== 2. the DOC approver signs it from the signature queue")
    context, page = walk.as_user("approver@doc.example")
    walk.shot(page, "approver-dashboard")
    page.locator("#sign-h + table tbody th a", has_text=tracking).click()
    page.wait_for_load_state()
    walk.act(page, "Sign the position")
    walk.shot(page, "approver-sign")
    walk.submit(page)
    context.close()

    print("== the other agencies finish: CISA signs its draft, OSTP drafts and signs")
    for email, draft in (("approver@cisa.example", False), ("approver@ostp.example", True)):
        context, page = walk.as_user(email)
        page.locator("#content a", has_text=tracking).first.click()
        page.wait_for_load_state()
        if draft:
            walk.act(page, "Draft the position")
            page.check("input[name=stance][value=concur]")
            walk.submit(page)
        walk.act(page, "Sign the position")
        walk.submit(page)
        context.close()

    print("== 3. later, the DOC approver decides the case from 'Ready for decision'")
    context, page = walk.as_user("approver@doc.example")
    walk.shot(page, "approver-ready-for-decision")
    page.locator("#decide-h + table tbody th a", has_text=tracking).click()
    page.wait_for_load_state()
    walk.act(page, "Record the decision")
    walk.shot(page, "approver-decide")
    page.fill("textarea[name=rationale]", "Every agency concurs; DOC's and CISA's conditions apply.")
    walk.submit(page)
    expect(page.locator("#content h1")).to_contain_text("Approved")
    walk.shot(page, "approver-decided")
    case_url = page.url
    context.close()

    print("== 4. the auditor reads the whole case and its history and can change nothing")
    context, page = walk.as_user("auditor@oversight.example")
    walk.shot(page, "auditor-dashboard")
    assert_accessible(page, "auditor dashboard")
    page.locator("#content a", has_text=tracking).first.click()
    page.wait_for_load_state()
    assert page.url == case_url, page.url
    walk.shot(page, "auditor-case")
    html = page.content()
    for forbidden in ('aria-label="Actions on this case"', 'aria-label="Enforcement"', "Save the note"):
        assert forbidden not in html, forbidden
    assert page.locator("form").count() == 1  # signing out
    page.get_by_role("link", name="Every version of the request, with field diffs").click()
    page.wait_for_load_state()
    expect(page.get_by_text("Approved by the lead agency")).to_be_visible()
    walk.shot(page, "auditor-history")
    assert_accessible(page, "history page")
    page.goto(base + "/admin/audit-export/?start=2026-02-30&end=")
    expect(page.get_by_text("Enter a valid date.")).to_be_visible()
    walk.shot(page, "auditor-audit-export-errors")
    assert_accessible(page, "audit export")
    for path in (
        "/admin/approvals/accessrequest/",
        "/admin/approvals/referral/",
        "/admin/approvals/grant/",
        "/admin/approvals/enforcementaction/",
        "/admin/accounts/user/",
    ):
        page.goto(base + path)
        html = page.content()
        assert 'name="action"' not in html, path
        assert "addlink" not in html, path
    pk = case_url.rstrip("/").split("/")[-2]
    for action in ("decide", "sign", "note", "position", "assign"):
        response = page.goto(f"{base}/admin/approvals/accessrequest/{pk}/{action}/")
        assert response.status == 404, (action, response.status)
    context.close()
    print("== done")


@pytest.fixture
def browser(chromium, live_server):
    """The session's Chromium (``tests/browser/conftest.py``) on the demo world."""
    from django.core.management import call_command

    call_command("seed_demo", verbosity=0)
    return chromium


def test_done_when_dashboard_review_decision_and_audit(browser, live_server):
    walk_through(browser, live_server.url)


if __name__ == "__main__":
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
        walk_through(chromium, sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8106")
        chromium.close()
