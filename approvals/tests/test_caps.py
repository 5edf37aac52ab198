"""Caps everywhere they matter: the vendor is warned before and at submission, DOC's case and
decision pages say "cap: N of N used" and name the grants holding it, and a case over the cap ends
in a return without action from the decision page, which the vendor reads with its reason."""

import re

import pytest
from django.test import Client

from approvals import selectors, services
from approvals.models import AccessRequest
from approvals.tests.factories import all_concur, draft, new_customer, refresh, submitted
from vendors.models import FrontierModel

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def capped(world):
    """The world's model capped at one customer, the place taken by an approved request."""
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(preview_customer_cap=1)
    holder = all_concur(world, submitted(world))
    services.record_decision(access_request=holder, actor=world["doc_approver"])
    return refresh(holder)


def test_the_cap_counts_the_customers_holding_an_active_grant(world, capped):
    cap = selectors.preview_cap(refresh(world.frontier_model))
    assert str(cap) == "cap: 1 of 1 used"
    assert [g.partner_customer_id for g in cap.holders] == [capped.partner_customer_id]
    assert cap.blocks(new_customer(world).pk)
    assert not cap.blocks(capped.partner_customer_id)


def test_uncapped_model_has_no_cap(world):
    assert selectors.preview_cap(world.frontier_model) is None


def test_the_vendor_is_warned_on_the_new_request_page_the_draft_and_at_submission(world, capped):
    officer = _signed_in(world["officer"])
    holder = capped.partner_customer.legal_name
    page = text(officer.get("/vendor/requests/new/"))
    assert "preview cap: 1 of 1 used" in page
    assert holder in page
    second = draft(world, partner_customer=new_customer(world))
    page = text(officer.get(f"/vendor/requests/{second.pk}/"))
    assert "preview cap: 1 of 1 used" in page
    assert holder in page
    response = officer.post(f"/vendor/requests/{second.pk}/submit/", {"version": second.version}, follow=True)
    page = text(response)
    assert "cannot be approved until one of those grants ends" in page
    assert refresh(second).status == AccessRequest.Status.SUBMITTED  # a warning, not a refusal


def test_over_the_cap_the_decision_page_offers_the_return_and_the_vendor_reads_why(world, capped):
    # given a fourth-style request over the cap, worked by every agency
    second = all_concur(world, submitted(world, partner_customer=new_customer(world)))
    doc = _signed_in(world["doc_approver"])
    case = text(doc.get(f"/admin/approvals/accessrequest/{second.pk}/change/"))
    assert "Preview cap: 1 of 1 used" in case
    assert "cannot be approved" in case
    # when DOC opens the decision page
    decide = text(doc.get(f"/admin/approvals/accessrequest/{second.pk}/decide/"))
    assert "Preview cap: 1 of 1 used" in decide
    assert capped.partner_customer.legal_name in decide
    assert 'value="Approve the request"' not in decide
    assert f"/admin/approvals/accessrequest/{second.pk}/return-without-action/" in decide
    # then it is returned without action from there, and the vendor reads the reason
    response = doc.post(
        f"/admin/approvals/accessrequest/{second.pk}/return-without-action/",
        {"version": refresh(second).version, "reason": "The preview cap of 1 customer is full."},
    )
    assert response.status_code == 302
    assert refresh(second).status == AccessRequest.Status.RETURNED
    page = text(_signed_in(world["officer"]).get(f"/vendor/requests/{second.tracking_number}/"))
    assert "Returned without action" in page
    assert "The preview cap of 1 customer is full." in page


def test_under_the_cap_the_decision_page_approves(world):
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(preview_customer_cap=3)
    ready = all_concur(world, submitted(world))
    decide = text(_signed_in(world["doc_approver"]).get(f"/admin/approvals/accessrequest/{ready.pk}/decide/"))
    assert "Preview cap: 0 of 3 used" in decide
    assert 'value="Approve the request"' in decide
