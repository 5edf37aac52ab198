"""Reads shared by the pages: visibility, clearance, queues and the vendor's timeline."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import selectors, services
from approvals.models import Grant
from approvals.tests.factories import all_concur, draft, new_customer, referral, submitted
from portal.audit.history import save_with_history

pytestmark = pytest.mark.django_db


def test_requests_visible_to_each_role(world):
    pending = draft(world)
    filed = submitted(world, partner_customer=new_customer(world))
    critical = submitted(world, partner_customer=new_customer(world, sector="energy"))
    visible = {who: set(selectors.requests_visible_to(world[who])) for who in world.people}
    assert visible["officer"] == visible["viewer"] == {pending, filed, critical}
    assert visible["other_officer"] == set()
    assert visible["doc_reviewer"] == visible["oncd_approver"] == {filed, critical}
    assert visible["cisa_approver"] == {critical}
    assert visible["state_approver"] == set()
    # auditors read everything but a vendor team's drafts, which are the team's own until submitted
    assert visible["auditor"] >= {filed, critical}
    assert pending not in visible["auditor"]


def test_is_customer_cleared_answers_from_grants_alone(world):
    access_request = all_concur(
        world, submitted(world), stance="concur_with_conditions", conditions=[{"text": "C"}]
    )
    model, customer = world.frontier_model, world.partner_customer
    assert selectors.is_customer_cleared(frontier_model=model, partner_customer=customer) is None
    decision = services.record_decision(access_request=access_request, actor=world["doc_approver"])
    grant = decision.grant
    clearance = selectors.is_customer_cleared(frontier_model=model, partner_customer=customer)
    assert clearance.grant == grant
    assert sorted(c.agency.code for c in clearance.conditions) == ["DOC", "ONCD", "OSTP"]
    # outside the validity, not cleared
    assert (
        selectors.is_customer_cleared(frontier_model=model, partner_customer=customer, at=grant.valid_to)
        is not None
    )
    after = grant.valid_to + timedelta(days=1)
    assert selectors.is_customer_cleared(frontier_model=model, partner_customer=customer, at=after) is None
    before = grant.valid_from - timedelta(days=1)
    assert selectors.is_customer_cleared(frontier_model=model, partner_customer=customer, at=before) is None
    # another customer of the same vendor is not cleared by it
    assert selectors.is_customer_cleared(frontier_model=model, partner_customer=new_customer(world)) is None
    # a suspended grant clears nobody
    grant.status = Grant.Status.SUSPENDED
    save_with_history(grant, actor=world["doc_approver"], reason="Test suspension", update_fields=["status"])
    assert (
        selectors.is_customer_cleared(frontier_model=model, partner_customer=customer, at=timezone.now())
        is None
    )


def test_referral_queue_is_the_agencys_open_work_most_urgent_first(world):
    first = submitted(world)
    second = submitted(world, partner_customer=new_customer(world))
    services.issue_information_request(access_request=second, actor=world["oncd_approver"], question="Q")
    sign(world_=world, access_request=first)
    queue = list(selectors.referral_queue(world["doc_reviewer"]))
    assert [r.access_request for r in queue] == [first, second]  # stopped clocks last
    assert list(selectors.referral_queue(world["oncd_approver"])) == [referral(second, "ONCD")]
    services.assign_officials(
        referral=referral(first, "DOC"), actor=world["doc_reviewer"], officials=[world["doc_reviewer"]]
    )
    assert [
        r.access_request for r in selectors.referral_queue(world["doc_reviewer"], assigned_to_me=True)
    ] == [first]
    assert list(selectors.referral_queue(world["officer"])) == []


def sign(*, world_, access_request):
    from approvals.tests.factories import sign as sign_position

    sign_position(world_, access_request, "ONCD")


def test_the_vendor_timeline_names_agencies_not_officials_and_skips_internal_work(world):
    access_request = submitted(world)
    services.assign_officials(
        referral=referral(access_request, "DOC"),
        actor=world["doc_reviewer"],
        officials=[world["doc_reviewer"]],
    )
    services.draft_position(
        referral=referral(access_request, "DOC"), actor=world["doc_reviewer"], stance="concur"
    )
    services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="secret")
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q"
    )
    entries = selectors.vendor_timeline(access_request)
    whos = {e.who for e in entries}
    assert "DOC" in whos
    assert world["doc_reviewer"].full_name not in whos
    assert world["officer"].full_name in whos
    texts = " ".join(e.what for e in entries)
    assert "secret" not in texts
    assert "Assigned" not in texts
    assert "drafted" not in texts
    assert entries[0].what.startswith("Draft started")
    assert entries[-1].what.startswith("DOC asked the vendor a question")
