"""A background job's page in a real browser: the bar moves without reloading, under the CSP,
and the page shows the result once the job ends; at phone width nothing overflows."""

import pytest
from playwright.sync_api import expect

from portal.accounts.models import Role
from portal.jobs.models import Job
from portal.tests.factories import PASSWORD
from tests.browser.conftest import assert_accessible, screenshot, sign_in
from vendors.tests.factories import VendorFactory, member_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_the_progress_bar_moves_while_the_job_runs_and_the_result_follows(page, width):
    # given an officer whose import is running, 3 of 10 done
    vendor = VendorFactory()
    officer = member_of(vendor, Role.VENDOR_OFFICER)
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_IMPORT,
        title="Import of customers.csv",
        owner=officer,
        organisation=vendor.organisation,
        status=Job.Status.RUNNING,
        done=3,
        total=10,
        phase="Writing the customers",
    )
    from portal.permissions import grant

    grant("view", officer, job)
    page.set_viewport_size({"width": width, "height": 900})
    sign_in(page, officer.email, PASSWORD)
    # when they open the job's page
    page.goto(f"/jobs/{job.pk}/")
    bar = page.locator("#job-progress")
    assert bar.get_attribute("value") == "3"
    # then the script has taken over from the refresh link
    assert page.locator("#job-refresh").is_hidden()
    screenshot(page, f"job-progress-{width}")
    assert_accessible(page, f"job-progress-{width}")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # and the bar follows the job without a reload
    Job.objects.filter(pk=job.pk).update(done=7)
    expect(page.locator("#job-count")).to_have_text("7 of 10")
    assert bar.evaluate("bar => bar.value") == 7
    # and when the job ends, the page shows its result
    Job.objects.filter(pk=job.pk).update(
        status=Job.Status.SUCCEEDED,
        done=10,
        result_summary="10 partner customers imported from customers.csv.",
    )
    page.get_by_text("10 partner customers imported from customers.csv.").wait_for()
    screenshot(page, f"job-done-{width}")
    assert_accessible(page, f"job-done-{width}")
