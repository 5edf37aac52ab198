"""Messages on the vendor's request pages that say what is true: the withdraw page only for a
request that can be withdrawn, the supporting document labelled as what submission needs, and
the dashboard not saying "nothing is waiting on you" while a designation answer is due."""

import re
from datetime import timedelta

import pytest
from django.contrib import messages

from approvals import services
from approvals.models import EnforcementAction, Grant
from approvals.tests.enforcement_helpers import BASIS, approved, suspend
from approvals.tests.factories import refresh, sign, submitted

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


def test_the_refusal_to_withdraw_is_a_warning_not_a_success(client, world):
    access_request = approved(world).access_request
    client.force_login(world["officer"])
    response = client.get(f"/vendor/requests/{access_request.tracking_number}/withdraw/", follow=True)
    [message] = [m for m in response.context["messages"] if "can be withdrawn" in str(m)]
    assert message.level == messages.WARNING
    alert = re.search(
        r'<div class="usa-alert usa-alert--(\w+)[^>]*>\s*<div[^>]*><p[^>]*>[^<]*can be withdrawn',
        text(response),
    )
    assert alert
    assert alert.group(1) == "warning"


@pytest.mark.parametrize("state", ["approved", "withdrawn"])
def test_a_post_to_withdraw_a_request_that_cannot_be_withdrawn_answers_like_the_get(client, world, state):
    if state == "approved":
        access_request = approved(world).access_request
    else:
        access_request = submitted(world)
        services.withdraw_request(access_request=access_request, actor=world["officer"], reason="Not needed")
    access_request = refresh(access_request)
    before = (access_request.status, access_request.version, access_request.history.count())
    client.force_login(world["officer"])
    response = client.post(
        f"/vendor/requests/{access_request.tracking_number}/withdraw/",
        {"reason": "Changed our minds", "version": access_request.version},
        follow=True,
    )
    page = text(response)
    assert response.redirect_chain[0][0] == f"/vendor/requests/{access_request.tracking_number}/"
    assert "can be withdrawn" in page
    assert "Why are you withdrawing the request?" not in page
    access_request = refresh(access_request)
    assert (access_request.status, access_request.version, access_request.history.count()) == before


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


# ---------------------------------------------------------------------------------------------
# An approved request's page says what the grant is now, not what the decision was.


def request_page(client, world, access_request):
    client.force_login(world["officer"])
    return text(client.get(f"/vendor/requests/{access_request.tracking_number}/"))


def test_an_active_grant_without_conditions_does_not_promise_conditions_below(client, world):
    grant = approved(world)
    page = request_page(client, world, grant.access_request)
    assert "Approved. The customer is cleared, with no conditions." in page
    assert "under the conditions below" not in page
    assert f"{grant.partner_customer.legal_name} may use {grant.frontier_model} from" in page


def test_an_active_grant_with_conditions_is_cleared_under_them(client, world):
    access_request = submitted(world)
    for ref in access_request.referrals.select_related("agency"):
        if ref.agency.code == "ONCD":
            sign(world, access_request, "ONCD", "concur_with_conditions", conditions=[{"text": "Seat cap 5"}])
        else:
            sign(world, access_request, ref.agency.code)
    services.record_decision(access_request=refresh(access_request), actor=world["doc_approver"])
    page = request_page(client, world, access_request)
    assert "Approved. The customer is cleared under the conditions below." in page
    assert "Seat cap 5" in page


def test_a_suspended_grant_says_access_is_suspended_and_by_which_action(client, world):
    grant = approved(world)
    action = suspend(world)
    page = request_page(client, world, grant.access_request)
    assert f"Approved, but access is suspended by enforcement action #{action.pk} since" in page
    assert f"access is suspended by enforcement action #{action.pk} and may not be used" in page
    assert "is cleared" not in page
    assert " may use " not in page
    assert "usa-alert--success" not in page


def test_a_revoked_grant_says_it_was_revoked_and_by_which_action(client, world):
    grant = approved(world)
    services.revoke_grant(grant=refresh(grant), actor=world["doc_approver"], **BASIS)
    action = EnforcementAction.objects.get(grant=grant, kind=EnforcementAction.Kind.REVOKE_GRANT)
    page = request_page(client, world, grant.access_request)
    assert f"Approved, but the grant was revoked by enforcement action #{action.pk} on" in page
    assert "The customer is no longer cleared." in page
    assert "the grant has been revoked" in page
    assert "is cleared" not in page
    assert " may use " not in page


def test_an_expired_grant_says_the_customer_is_no_longer_cleared(client, world):
    grant = approved(world)
    services.expire_lapsed_grants(today=refresh(grant).valid_to + timedelta(days=1))
    assert refresh(grant).status == Grant.Status.EXPIRED
    page = request_page(client, world, grant.access_request)
    assert "Approved; the grant expired after" in page
    assert "The customer is no longer cleared." in page
    assert "the grant has expired" in page
    assert "is cleared" not in page
    assert " may use " not in page
