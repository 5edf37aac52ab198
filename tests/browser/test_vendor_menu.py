"""The vendor's menu in a real browser: the unread count sits beside "Notifications" (it overlapped
the word at 1280 px), the menu stays on one row, and the link to background work is there for a
person who has some."""

import pytest

from portal.accounts.models import Role
from portal.jobs.models import Job
from portal.notifications.services import notify
from portal.permissions import grant
from portal.tests.factories import PASSWORD
from tests.browser.conftest import assert_accessible, screenshot, sign_in
from vendors.tests.factories import VendorFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MEASURE = """() => {
  const count = document.querySelector('.usa-nav__primary .portal-count');
  const word = document.createRange();
  word.selectNodeContents(count.closest('a').querySelector('span').firstChild);
  const w = word.getBoundingClientRect(), c = count.getBoundingClientRect();
  const items = [...document.querySelectorAll('.usa-nav__primary > li')];
  const tops = items.map(li => Math.round(li.getBoundingClientRect().top));
  return {
    apart: c.left >= w.right || c.top >= w.bottom || c.bottom <= w.top,
    rows: new Set(tops).size,
    fits: document.documentElement.scrollWidth <= window.innerWidth,
  };
}"""


@pytest.mark.parametrize("width", [1024, 1280])
def test_the_unread_count_sits_beside_its_word_and_the_menu_links_to_background_work(page, width):
    vendor = VendorFactory()
    officer = member_of(vendor, Role.VENDOR_OFFICER)
    for number in range(21):
        notify(event="job_succeeded", recipients=[officer], subject=f"Done {number}", key=f"menu-{number}")
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_EXPORT, title="Export", owner=officer, organisation=vendor.organisation
    )
    grant("view", officer, job)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, officer.email, PASSWORD)
    page.goto("/vendor/")
    assert page.locator(".usa-nav__primary .portal-count").inner_text() == "21"
    screenshot(page, f"vendor-menu-{width}")
    measured = page.evaluate(MEASURE)
    assert measured == {"apart": True, "rows": 1, "fits": True}, measured
    page.get_by_role("link", name="Background work").click()
    page.wait_for_url("**/jobs/")
    assert page.get_by_role("link", name="Export").is_visible()
    assert_accessible(page, f"vendor-jobs-{width}")
