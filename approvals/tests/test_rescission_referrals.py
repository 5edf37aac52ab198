"""Rescinding a designation lists the DOD referrals the designation caused that are still open,
and the lead may close them with the rescission (each with history); otherwise they stay open."""

import re

import pytest

from approvals import policies, selectors, services
from approvals.models import Referral
from approvals.tests.enforcement_helpers import BASE, BASIS, order, shown_records, text
from approvals.tests.factories import new_customer, referral, refresh, submitted

pytestmark = pytest.mark.django_db


def designated(world):
    """Two open requests of the vendor, designated: each gets a DOD referral."""
    first = submitted(world)
    second = submitted(world, partner_customer=new_customer(world))
    designation = services.designate_supply_chain_risk(
        vendor=world.vendor, actor=world["doc_approver"], **BASIS
    )
    return designation, [first, second]


def test_the_rescission_page_lists_the_open_referrals_the_designation_caused(client, world):
    _, requests = designated(world)
    client.force_login(world["doc_approver"])
    page = re.sub(
        r"\s+",
        " ",
        client.get(f"/admin/approvals/enforcementaction/vendors/{world.vendor.pk}/rescind/").content.decode(),
    )
    for access_request in requests:
        assert refresh(access_request).tracking_number in page
    assert "Close these 2 DOD referrals with the rescission" in page


def test_rescinding_with_close_closes_the_referrals_it_caused_with_history(world):
    designation, requests = designated(world)
    assert len(selectors.referrals_from_designation(designation)) == 2
    action = services.rescind_designation(
        vendor=world.vendor, actor=world["doc_approver"], close_referrals=True, **BASIS
    )
    for access_request in requests:
        dod = referral(access_request, "DOD")
        assert dod.status == Referral.Status.CLOSED
        record = dod.history.order_by("-history_date", "-history_id").first()
        assert record.history_user == world["doc_approver"]
        assert f"action #{action.pk}" in record.history_change_reason
        # the decision no longer waits for a referral that was closed
        assert dod not in policies.unsigned_required_referrals(refresh(access_request))
        assert referral(access_request, "DOC").status == Referral.Status.OPEN


def test_rescinding_without_close_leaves_them_open(world):
    _, requests = designated(world)
    services.rescind_designation(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    assert {referral(r, "DOD").status for r in requests} == {Referral.Status.OPEN}


def test_the_lead_closes_them_from_the_rescission_page(client, world, django_capture_on_commit_callbacks):
    _, requests = designated(world)
    client.force_login(world["doc_approver"])
    url = f"{BASE}vendors/{world.vendor.pk}/rescind/"
    page = text(client.get(url))
    data = {**BASIS, "close_referrals": "on", "shown_records": shown_records(page)}
    _, job = order(client, url, data, django_capture_on_commit_callbacks)
    assert "2 referral(s) it caused are closed" in job.result_summary
    for access_request in requests:
        assert f"{refresh(access_request).tracking_number} — DOD" in job.result_summary
        assert referral(access_request, "DOD").status == Referral.Status.CLOSED
    assert not refresh(world.vendor).is_supply_chain_risk
