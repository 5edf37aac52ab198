"""Issue 5's Done-when, in a browser, against a running portal with the demo world (not a test).

    PORTAL_VAR_DIR=/tmp/d-var python manage.py migrate && python manage.py seed_demo
    PORTAL_VAR_DIR=/tmp/d-var python manage.py runserver 127.0.0.1:8105
    python scripts/walkthrough_enforcement.py [--base http://127.0.0.1:8105] [--out /tmp/shots]

``approver@doc.example`` opens Aurora Atlas 2.0, sees beforehand exactly what pulling it offline
will suspend, and does it; ``compliance@aurora.example`` sees the suspension on the model and on
each affected grant; the approver lifts it and the grants come back. Every step is checked and
pictured (PNG files in ``--out``).
"""

import argparse
import re
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "portal-demo"
MODEL = "Aurora Atlas 2.0"


class Person:
    def __init__(self, browser, base, out, email):
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.base, self.out, self.email = base, out, email
        self.page.goto(base + "/accounts/login/")
        self.page.get_by_label(re.compile("e-mail", re.I)).fill(email)
        self.page.get_by_label(re.compile("password", re.I)).fill(PASSWORD)
        self.page.get_by_role("button", name=re.compile("sign in", re.I)).click()
        self.page.wait_for_load_state()

    def shot(self, name):
        path = self.out / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"  picture: {path}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", default="http://127.0.0.1:8105")
    parser.add_argument("--out", default="/tmp/d-shots/walkthrough")  # noqa: S108 - pictures only
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        approver = Person(browser, args.base, out, "approver@doc.example")
        vendor = Person(browser, args.base, out, "compliance@aurora.example")

        print("1. The approver finds the model and opens the confirmation page")
        page = approver.page
        page.goto(args.base + "/admin/approvals/enforcementaction/")
        page.get_by_role("link", name="Models under oversight").click()
        page.get_by_role("link", name=MODEL).click()
        expect(page.get_by_role("heading", name="Grants (4) and incidents beside them")).to_be_visible()
        page.get_by_role("link", name="Pull the model offline").click()
        impact = page.get_by_role("region", name="What this will do, at once and in one step")
        expect(impact).to_contain_text("3 active grants become suspended")
        expect(impact).to_contain_text("6 open requests are put on hold")
        for customer in (
            "Great Lakes Grid Operations LLC",
            "Prairie Wind Cooperative",
            "Bluewater Shipping Inc.",
        ):
            expect(page.get_by_role("cell", name=customer)).to_be_visible()
        approver.shot("1-confirm-suspension")

        print("2. A form without a legal basis is refused next to the field, nothing happens")
        page.get_by_label("Findings").fill("Weights of Atlas 2.0 were exfiltrated by an insider.")
        page.get_by_role("button", name="Pull the model offline now").click()
        expect(page.locator(".errornote")).to_contain_text("Nothing was done")
        expect(page.get_by_label("Findings")).to_have_value(
            "Weights of Atlas 2.0 were exfiltrated by an insider."
        )

        print("3. The approver pulls the model offline")
        page.get_by_label("Legal basis").fill(
            "Executive Order 14999, section 4(b): mandate to suspend preview access."
        )
        page.get_by_role("button", name="Pull the model offline now").click()
        # the order runs in the background: its page follows it until it says Done
        expect(page.get_by_role("heading", name="Finished")).to_be_visible(timeout=60_000)
        expect(page.locator("#job")).to_contain_text("3 grant(s) suspended (")
        expect(page.locator("#job")).to_contain_text("6 open request(s) on hold")
        approver.shot("2-order-done-agency")
        page.get_by_role("link", name=f"Back to {MODEL}").click()
        expect(page.get_by_role("link", name="Lift the suspension")).to_be_visible()
        approver.shot("2-model-suspended-agency")

        print("4. The vendor sees the suspension on the model and on each affected grant")
        page = vendor.page
        page.goto(args.base + "/vendor/models/")
        page.get_by_role("link", name=MODEL).first.click()
        expect(page.get_by_role("heading", name=re.compile("Pulled offline on"))).to_be_visible()
        expect(page.get_by_role("region", name=re.compile("Pulled offline on"))).to_contain_text(
            "3 grants suspended, 6 open requests on hold"
        )
        vendor.shot("3-model-suspended-vendor")
        page.get_by_role("link", name="Every grant it affects").click()
        rows = page.get_by_role("table", name=re.compile("Grants affected")).locator("tbody tr")
        expect(rows).to_have_count(3)
        for i in range(3):
            expect(rows.nth(i)).to_contain_text("Suspended")
        vendor.shot("4-grants-affected-vendor")
        tracking = rows.first.get_by_role("link").inner_text()
        rows.first.get_by_role("link").click()
        expect(page.get_by_role("heading", name=re.compile("Grant"))).to_contain_text("Suspended")
        expect(page.get_by_text(re.compile("was pulled offline by DOC"))).to_be_visible()
        vendor.shot("5-request-grant-suspended-vendor")
        print(f"  {tracking}: its grant shows Suspended with the reason")

        print("5. The approver lifts the suspension after reading what it will restore")
        page = approver.page
        page.get_by_role("link", name="Lift the suspension").click()
        impact = page.get_by_role("region", name="What lifting the suspension will do")
        expect(impact).to_contain_text("3 grants the suspension took become active again")
        expect(impact).to_contain_text("6 requests on hold resume")
        approver.shot("6-confirm-lift")
        page.get_by_label("Legal basis").fill(
            "Executive Order 14999, section 4(d): the mandate is satisfied."
        )
        page.get_by_label("Findings").fill(
            "The vendor rotated every key and the insider's access is revoked."
        )
        page.get_by_role("button", name="Lift the suspension now").click()
        expect(page.get_by_role("heading", name="Finished")).to_be_visible(timeout=60_000)
        expect(page.locator("#job")).to_contain_text("3 grant(s) active again")
        page.get_by_role("link", name=f"Back to {MODEL}").click()
        expect(page.get_by_role("link", name="Pull the model offline")).to_be_visible()
        approver.shot("7-model-restored-agency")

        print("6. The vendor sees the grants back")
        page = vendor.page
        page.goto(args.base + "/vendor/grants/?status=active")
        for customer in (
            "Great Lakes Grid Operations LLC",
            "Prairie Wind Cooperative",
            "Bluewater Shipping Inc.",
        ):
            expect(page.get_by_role("row", name=re.compile(customer))).to_contain_text("Active")
        vendor.shot("8-grants-active-vendor")
        page.goto(args.base + "/vendor/")
        expect(page.get_by_text(f"{MODEL} is pulled offline")).to_have_count(0)
        browser.close()
    print("Done: suspended, seen by the vendor on the model and each grant, lifted, grants back.")


if __name__ == "__main__":
    main()
