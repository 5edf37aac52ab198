"""What the services keep for the lists (issue 18) equals what it summarises, after each kind of
change: a request's ``next_due`` (its nearest running clock) and each vendor's request counts."""

from datetime import timedelta

import pytest
import time_machine
from django.db.models import Count, OuterRef, Subquery
from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, Referral, RequestCount
from approvals.tests.factories import all_concur, draft, new_customer, referral, sign, submitted

pytestmark = pytest.mark.django_db

BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "The findings."}


def assert_kept():
    running = (
        Referral.objects.filter(
            access_request=OuterRef("pk"), status__in=("open", "drafted"), clock_stopped_at__isnull=True
        )
        .order_by("due_date")
        .values("due_date")[:1]
    )
    for row in AccessRequest.objects.annotate(computed=Subquery(running)).values(
        "pk", "next_due", "computed"
    ):
        assert row["next_due"] == row["computed"], row
    counted = {
        (r["vendor_id"], r["status"]): r["n"]
        for r in AccessRequest.objects.order_by().values("vendor_id", "status").annotate(n=Count("pk"))
    }
    kept = {(r.vendor_id, r.status): r.count for r in RequestCount.objects.filter(count__gt=0)}
    assert kept == counted


def test_next_due_and_the_counts_follow_every_kind_of_change(world):
    assert_kept()
    with time_machine.travel(timezone.localtime() - timedelta(days=10), tick=False):
        early = submitted(world, partner_customer=new_customer(world))
    late = submitted(world, partner_customer=new_customer(world))
    assert_kept()
    assert AccessRequest.objects.get(pk=early.pk).next_due == referral(early, "DOC").due_date
    # a position signed: that agency's clock no longer counts
    sign(world, late, "DOC")
    assert_kept()
    # a question stops every clock of the request; the answer restarts them (batched paths)
    question = services.issue_information_request(
        access_request=late, actor=world["doc_reviewer"], question="Q?"
    )
    assert_kept()
    assert AccessRequest.objects.get(pk=late.pk).next_due is None
    services.answer_information_request(information_request=question, actor=world["officer"], answer="A.")
    assert_kept()
    # a suspension holds the open requests and stops their clocks; lifting restarts them
    services.suspend_model(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    assert_kept()
    services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    assert_kept()
    # a decision closes the clocks; a withdrawal and a discarded draft change the counts
    services.record_decision(access_request=all_concur(world, early), actor=world["doc_approver"])
    assert_kept()
    services.withdraw_request(access_request=late, actor=world["officer"], reason="No longer needed.")
    assert_kept()
    services.discard_draft(
        access_request=draft(world, partner_customer=new_customer(world)), actor=world["officer"]
    )
    assert_kept()


def test_a_recount_rebuilds_a_vendor_s_rows_over_stale_ones(world):
    # given a vendor with requests in two statuses, its rows made wrong, and a row for a status
    # it has no request in
    submitted(world, partner_customer=new_customer(world))
    draft(world, partner_customer=new_customer(world))
    vendor_id = world.frontier_model.vendor_id
    RequestCount.objects.filter(vendor_id=vendor_id).update(count=99)
    RequestCount.objects.create(vendor_id=vendor_id, status=AccessRequest.Status.DENIED, count=5)
    # when its rows are rebuilt, they are what the requests say, and nothing else
    RequestCount.recount(vendor_id)
    assert_kept()
    assert not RequestCount.objects.filter(vendor_id=vendor_id, status=AccessRequest.Status.DENIED).exists()
