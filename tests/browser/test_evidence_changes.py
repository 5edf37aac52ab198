"""Replacing and removing evidence before review, in a real browser, at desktop and phone width."""

import pytest

from portal.accounts.models import Role
from portal.tests.factories import PASSWORD
from tests.browser.conftest import assert_accessible, screenshot, sign_in
from tests.browser.journeys import file_input
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory, VendorFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_an_officer_replaces_then_removes_a_model_card(page, tmp_path, width):
    vendor = VendorFactory()
    officer = member_of(vendor, Role.VENDOR_OFFICER)
    frontier_model = FrontierModelFactory(vendor=vendor, name="Granite")
    EvidenceDocumentFactory(frontier_model=frontier_model, title="Granite model card")
    new_card = tmp_path / "granite-card-v2.txt"
    new_card.write_text("Granite model card, second edition.\n")
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, officer.email, PASSWORD)
    page.goto(f"/vendor/models/{frontier_model.pk}/")
    page.get_by_role("link", name="Replace Granite model card").click()
    screenshot(page, f"evidence-replace-{width}")
    assert_accessible(page, f"evidence-replace-{width}")
    file_input(page, "New document").set_input_files(str(new_card))
    page.get_by_label("Why (kept in the history)").fill("second edition")
    page.get_by_role("button", name="Replace the document").click()
    page.get_by_text("now holds granite-card-v2.txt").wait_for()
    screenshot(page, f"evidence-replaced-{width}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.get_by_role("link", name="Remove Granite model card").click()
    page.get_by_role("button", name="Remove the document").click()
    page.get_by_text("is removed from Granite").wait_for()
    assert page.get_by_text("No evidence attached yet.").is_visible()
