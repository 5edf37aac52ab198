"""Accessibility (WCAG 2.1 AA, Section 508) of the pages outside the journeys."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from approvals import services
from portal.accounts.models import Role
from portal.tests.factories import PASSWORD, vendor_user
from tests.browser.conftest import accessibility_violations, assert_accessible, pass_second_factor, sign_in
from tests.browser.journeys import signed_in
from tests.browser.world import review_world
from vendors.tests.factories import EvidenceDocumentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/accounts/password-reset/", "/accounts/password-reset/sent/"]
)
def test_public_pages_have_no_serious_violations(page, path):
    page.goto(path)
    assert_accessible(page, path.strip("/").replace("/", "-"))


def test_sign_in_errors_are_announced_next_to_the_form(page):
    page.goto("/accounts/login/")
    page.get_by_role("button", name="Sign in").click()
    # Both fields are required: each error sits next to its field and is announced.
    errors = page.locator(".usa-error-message[role=alert]")
    assert errors.count() == 2
    assert_accessible(page, "login-errors")


def test_vendor_dashboard_is_accessible(page):
    user = vendor_user(Role.VENDOR_ADMIN)
    sign_in(page, user.email, PASSWORD)
    page.wait_for_url("**/vendor/")
    assert_accessible(page, "vendor-dashboard")


def test_sign_in_by_keyboard_alone(page):
    user = vendor_user()
    page.goto("/accounts/login/")
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "username":
            break
    assert page.evaluate("document.activeElement.name") == "username"
    page.keyboard.type(user.email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    pass_second_factor(page, user.email)
    page.wait_for_url("**/vendor/")


def pages_with_violations(page, paths):
    """Open each path (each must answer 200) and run axe-core on it: ``{path: [violation, …]}``."""
    found = {}
    for path in paths:
        response = page.goto(path)
        assert response.status == 200, f"{path} answered {response.status}"
        name = path.strip("/").replace("/", "-").replace("?", "-") or "home"
        if violations := accessibility_violations(page, name):
            found[path] = violations
    return found


def test_vendor_pages_outside_the_journeys_are_accessible(open_page):
    # given: a vendor with a model (with evidence), a customer, a draft request and a team
    world = review_world()
    EvidenceDocumentFactory(frontier_model=world.frontier_model)
    draft = services.create_draft_request(
        actor=world.officer, frontier_model=world.frontier_model, partner_customer=world.partner_customer
    )
    model, customer = world.frontier_model.pk, world.partner_customer.pk
    page = signed_in(open_page, world.admin, "admin", lands_on="/vendor/")
    found = pages_with_violations(
        page,
        [
            f"/vendor/models/{model}/edit/",
            f"/vendor/models/{model}/withdraw/",
            f"/vendor/models/{model}/evidence/new/",
            "/vendor/models/?phase=limited_preview",
            "/vendor/customers/new/",
            f"/vendor/customers/{customer}/edit/",
            f"/vendor/customers/{customer}/evidence/new/",
            "/vendor/customers/?q=Example",
            f"/vendor/team/{world.officer.pk}/",
            "/vendor/profile/",
            "/vendor/profile/edit/",
            f"/vendor/requests/{draft.pk}/",
            f"/vendor/requests/{draft.pk}/edit/",
            "/vendor/requests/?status=draft",
            "/notifications/",
            "/notifications/preferences/",
        ],
    )
    assert not found, "\n\n".join(f"{path}:\n" + "\n".join(v) for path, v in found.items())


def test_agency_pages_outside_the_journeys_are_accessible(open_page):
    # given: a submitted request referred to DOC, ONCD and OSTP
    world = review_world()
    access_request = services.submit_request(
        access_request=services.create_draft_request(
            actor=world.officer,
            frontier_model=world.frontier_model,
            partner_customer=world.partner_customer,
            use_case="Triage of intrusion alerts.",
            scope="200 seats, U.S. only.",
            requested_duration_days=365,
            documents=[(SimpleUploadedFile("end-use.txt", b"End use.\n", content_type="text/plain"), "")],
        ),
        actor=world.officer,
    )
    page = signed_in(open_page, world.approvers["DOC"], "doc-approver", lands_on="/admin/")
    found = pages_with_violations(
        page,
        [
            "/admin/",
            "/admin/approvals/accessrequest/",
            "/admin/approvals/referral/",
            "/admin/approvals/informationrequest/",
            "/admin/approvals/grant/",
            "/admin/vendors/frontiermodel/",
            "/admin/vendors/partnercustomer/",
            f"/admin/approvals/accessrequest/{access_request.pk}/assign/",
            f"/admin/approvals/accessrequest/{access_request.pk}/note/",
        ],
    )
    assert not found, "\n\n".join(f"{path}:\n" + "\n".join(v) for path, v in found.items())
