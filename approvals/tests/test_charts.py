"""Charts on the agency dashboard: server-side SVG with the numbers as a table, over what the user sees."""

import re

import pytest

from approvals import selectors
from approvals.tests.enforcement_helpers import approved

pytestmark = pytest.mark.django_db


def test_decisions_this_week_and_days_to_position_are_counted_over_what_the_user_sees(world):
    approved(world)
    approved(world)

    decisions, days, incidents = selectors.dashboard_charts(world["doc_approver"])
    assert decisions.bars[-1].values == [2, 0]  # this week: two approved, none denied
    assert sum(b.total for b in decisions.bars[:-1]) == 0
    assert [b.label for b in days.bars] == ["DOC (2 signed)", "ONCD (2 signed)", "OSTP (2 signed)"]
    assert all(b.total == 0 for b in incidents.bars)
    # CISA holds no referral on these requests: it sees no decision
    decisions, days, _ = selectors.dashboard_charts(world["cisa_approver"])
    assert sum(b.total for b in decisions.bars) == 0
    assert days.bars == []


@pytest.mark.parametrize(
    ("who", "shown"), [("doc_reviewer", True), ("auditor", True), ("cisa_approver", True)]
)
def test_the_dashboard_draws_the_charts_as_svg_with_a_data_table(client, world, who, shown):
    approved(world)
    client.force_login(world[who])
    page = client.get("/admin/").content.decode()
    assert ("At a glance" in page) is shown
    figures = re.findall(r'<svg class="portal-svg-chart__svg"[^>]*role="img" aria-labelledby="([^"]+)"', page)
    assert len(figures) == 3
    assert page.count('<details class="portal-svg-chart__data">') == 3
    assert "<script" not in page[page.index("At a glance") :]


def test_vendors_never_reach_the_charts(client, world):
    client.force_login(world["officer"])
    assert "At a glance" not in client.get("/admin/", follow=True).content.decode()


@pytest.mark.parametrize("count", [1, 6])
def test_the_charts_cost_the_same_at_any_number_of_decisions(world, count, django_assert_max_num_queries):
    for _ in range(count):
        approved(world)
    with django_assert_max_num_queries(8):
        selectors.dashboard_charts(world["doc_approver"])
