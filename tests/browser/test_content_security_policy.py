"""The Content-Security-Policy in a real browser: the portal's styles load, inline ones are refused.

Every browser test fails on a refusal (``conftest._no_policy_refusals``); this one shows that the
harness notices one.
"""

import pytest

from portal.accounts.models import Role
from portal.tests.factories import PASSWORD, agency_user
from tests.browser.conftest import POLICY_REFUSALS, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INSERT_INLINE_STYLE = """() => {
  const holder = document.createElement('div');
  holder.innerHTML = '<p id="inline-style" style="color: rgb(255, 0, 0)">red?</p>';
  document.body.append(holder);
  return getComputedStyle(document.getElementById('inline-style')).color;
}"""


def test_the_dashboard_styles_come_from_style_sheets_and_inline_styles_are_refused(page):
    # given an official on the agency dashboard
    sign_in(page, agency_user(Role.AGENCY_APPROVER).email, PASSWORD)
    page.wait_for_url("**/admin/")
    # then the portal's admin style sheet applies (the dashboard is wider than the stock admin's)
    assert page.evaluate("getComputedStyle(document.querySelector('#content')).maxWidth") == "1440px"
    assert POLICY_REFUSALS == []
    # when a script puts an element with a style attribute into the page
    with page.expect_console_message(lambda message: "Content Security Policy" in message.text):
        color = page.evaluate(INSERT_INLINE_STYLE)
    # then the browser refuses the style, and the harness has noted the refusal
    assert color != "rgb(255, 0, 0)"
    assert any("style-src 'self'" in refusal for refusal in POLICY_REFUSALS)
    POLICY_REFUSALS.clear()  # noted and expected: this test is about the refusal
