"""Retake the README's screenshots (docs/screenshots/) from the demo world as ``scripts/serve``
leaves it: a fresh database, ``seed_demo``, a server, and each picture taken in headless Chromium
as the person who would see that page. Run through ``scripts/readme_screenshots`` (which makes the
database and starts the server).
"""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django.setup()

from django.urls import reverse  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from approvals.demo.amendments import KEYSTONE  # noqa: E402
from approvals.models import AccessRequest, EnforcementAction  # noqa: E402
from vendors.models import FrontierModel  # noqa: E402

BASE = os.environ.get("SCREENSHOT_BASE_URL", "http://127.0.0.1:8765")
RAW = ROOT / "test-artifacts" / "readme"
OUT = ROOT / "docs" / "screenshots"
PASSWORD = "portal-demo"
BAD_CSV = (
    "legal_name,country,sector,registration_id,intended_use,security_contact_name,"
    "security_contact_email,attestation\n"
    "Cobalt Grid Operations,US,energy,REG-1,Alert triage,Sam Lead,sam@cobalt.example,yes\n"
    "Harbour Water Authority,Atlantis,water,,Log review,Ana Ruiz,ana@harbour.example,yes\n"
    "Meridian Health,CA,healthcare,REG-3,,Lee Park,not-an-address,maybe\n"
)


def shots():
    """(name, who, address or callable, crop height or None[, the part of the page to show])."""
    approved = AccessRequest.objects.filter(
        status=AccessRequest.Status.APPROVED, vendor__legal_name__startswith="Aurora"
    ).order_by("-decided_at")[0]
    model = FrontierModel.objects.filter(release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW).order_by(
        "pk"
    )[0]
    suspension = EnforcementAction.objects.filter(  # Basalt Granite 1.0, pulled offline in the demo
        kind=EnforcementAction.Kind.SUSPEND_MODEL,
        status=EnforcementAction.Status.IN_FORCE,
        vendor__organisation__name="Basalt AI",
    ).order_by("-pk")[0]
    amended = AccessRequest.objects.filter(partner_customer__legal_name=KEYSTONE).order_by("-pk")[0]
    return [
        ("sign-in", None, "/accounts/login/", None),
        ("vendor-dashboard", "compliance@aurora.example", "/vendor/", 1400),
        ("customer-import-preview", "officer@aurora.example", upload_bad_csv, 1300),
        (
            "request-approved",
            "compliance@aurora.example",
            f"/vendor/requests/{approved.tracking_number}/",
            1350,
        ),
        (
            "decision-letter",
            "compliance@aurora.example",
            f"/vendor/requests/{approved.tracking_number}/letter/",
            1500,
        ),
        ("agency-dashboard", "approver@doc.example", "/admin/", 1400),
        (
            "agency-case-approved",
            "approver@doc.example",
            reverse("admin:approvals_accessrequest_change", args=[approved.pk]),
            1600,
        ),
        (
            "agency-suspend",
            "approver@doc.example",
            reverse("admin:approvals_enforcementaction_suspend", args=[model.pk])
            + "?scope=sector&sector=energy",
            None,
        ),
        (
            "vendor-attest-cutoff",
            "compliance@basalt.example",
            reverse("enforcement:attest_cutoff", args=[suspension.pk]),
            1300,
        ),
        (
            "agency-case-amendment",
            "approver@doc.example",
            reverse("admin:approvals_accessrequest_change", args=[amended.pk]),
            1500,
        ),
        (
            "agency-dashboard-facts-changed",
            "approver@doc.example",
            "/admin/",
            None,
            "section[aria-labelledby='changed-grants-h']",
        ),
    ]


def upload_bad_csv(page):
    page.goto(BASE + "/vendor/customers/import/")
    for_id = page.locator("label", has_text="CSV file").first.get_attribute("for")
    page.locator(f"[id='{for_id}']").set_input_files(
        files=[{"name": "customers.csv", "mimeType": "text/csv", "buffer": BAD_CSV.encode()}]
    )
    with page.expect_navigation():
        page.get_by_role("button", name="Check the file").click()


def sign_in(page, email):
    page.goto(BASE + "/accounts/login/")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def shrink(raw, target, crop):
    """Crop to the part worth showing, 1000 px wide, 256 colours (Pillow, which WeasyPrint
    brings): a few hundred KB at most."""
    from PIL import Image

    with Image.open(raw) as image:
        if crop:
            image = image.crop((0, 0, image.width, min(crop, image.height)))
        image = image.convert("RGB").resize((1000, round(image.height * 1000 / image.width)), Image.LANCZOS)
        image.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main():
    RAW.mkdir(parents=True, exist_ok=True)
    OUT.mkdir(parents=True, exist_ok=True)
    plan = shots()  # read the database before Playwright's event loop starts
    wanted = set(sys.argv[1:])  # names given: retake only those
    plan = [shot for shot in plan if not wanted or shot[0] in wanted]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium"),
            args=["--no-sandbox", "--disable-gpu"],
            headless=True,
        )
        for name, who, address, crop, *part in plan:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            page = context.new_page()
            if who:
                sign_in(page, who)
            if callable(address):
                address(page)
            else:
                page.goto(BASE + address)
            page.wait_for_load_state("networkidle")
            raw = RAW / f"{name}.png"
            if part:
                page.locator(part[0]).screenshot(path=str(raw))
            else:
                page.screenshot(path=str(raw), full_page=True)
            context.close()
            target = OUT / f"{name}.png"
            shrink(raw, target, crop)
            print(f"{target.relative_to(ROOT)} {target.stat().st_size} bytes")
        browser.close()


if __name__ == "__main__":
    main()
