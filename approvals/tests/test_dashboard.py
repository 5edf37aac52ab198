"""The requests panel on the vendor dashboard."""

import re

import pytest

from approvals import services
from approvals.tests.factories import refresh, sign, submitted

pytestmark = pytest.mark.django_db


@pytest.fixture
def with_panel(settings):
    settings.VENDOR_DASHBOARD_PANELS = ["approvals.vendor_pages.panels.requests_panel"]


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_panel_lists_requests_by_status_and_what_waits_on_the_vendor(client, world, with_panel):
    asked = submitted(world)
    question = services.issue_information_request(
        access_request=asked, actor=world["doc_reviewer"], question="Which regions?"
    )
    from approvals.tests.factories import new_customer

    escalated = submitted(world, partner_customer=new_customer(world))
    sign(world, escalated, "DOC")
    sign(world, escalated, "ONCD", "non_concur", rationale="No")
    sign(world, escalated, "OSTP")
    services.resolve_escalation(
        access_request=refresh(escalated),
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Risk",
    )
    client.force_login(world["viewer"])
    page = text(client.get("/vendor/"))
    assert "Waiting on you" in page
    assert f"{asked.tracking_number}</a>: DOC asked a question" in page
    assert f"{escalated.tracking_number}</a>: intent to deny" in page
    assert "Information requested" in page
    assert question.deadline.strftime("%B") in page
    client.force_login(world["other_officer"])
    page = text(client.get("/vendor/"))
    assert asked.tracking_number not in page
    assert "nothing is waiting on you" in page


def test_the_panel_is_nothing_for_non_vendors(rf, world):
    from approvals.vendor_pages.panels import requests_panel

    request = rf.get("/vendor/")
    request.user = world["doc_approver"]
    assert requests_panel(request) is None
