"""Messages on the vendor's request pages that say what is true: the withdraw page only for a
request that can be withdrawn, the supporting document labelled as what submission needs, and
the dashboard not saying "nothing is waiting on you" while a designation answer is due."""

import re

import pytest

from approvals import services
from approvals.tests.enforcement_helpers import BASIS, approved
from approvals.tests.factories import refresh, submitted

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_withdraw_page_of_an_approved_request_sends_the_vendor_back_with_the_reason(client, world):
    access_request = approved(world).access_request
    client.force_login(world["officer"])
    response = client.get(f"/vendor/requests/{access_request.tracking_number}/withdraw/", follow=True)
    page = text(response)
    assert response.redirect_chain, "the withdraw form is not shown for an approved request"
    assert "only a request awaiting a decision can be withdrawn" in page
    assert "Why are you withdrawing the request?" not in page


def test_the_withdraw_page_of_a_withdrawn_request_is_not_shown_again(client, world):
    access_request = submitted(world)
    services.withdraw_request(
        access_request=access_request, actor=world["officer"], reason="No longer needed"
    )
    client.force_login(world["officer"])
    response = client.get(
        f"/vendor/requests/{refresh(access_request).tracking_number}/withdraw/", follow=True
    )
    assert response.redirect_chain
    assert "Why are you withdrawing the request?" not in text(response)


def test_the_withdraw_page_of_a_request_under_review_still_shows_the_form(client, world):
    access_request = submitted(world)
    client.force_login(world["officer"])
    response = client.get(f"/vendor/requests/{access_request.tracking_number}/withdraw/")
    assert response.status_code == 200
    assert "Why are you withdrawing the request?" in text(response)


def test_the_supporting_document_is_not_called_optional_when_submission_needs_one(client, world):
    client.force_login(world["officer"])
    page = text(client.get("/vendor/requests/new/"))
    assert "Supporting document (optional)" not in page
    assert "needed before you submit" in page


def test_the_dashboard_does_not_say_nothing_waits_while_a_designation_answer_is_due(client, world, settings):
    settings.VENDOR_DASHBOARD_PANELS = ["approvals.vendor_pages.panels.requests_panel"]
    submitted(world)
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    client.force_login(world["officer"])
    page = text(client.get("/vendor/"))
    assert "nothing is waiting on you" not in page
    assert "the designation's answer is waiting on you" in page
