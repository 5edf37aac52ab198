"""The agency dashboard's kept tally (``approvals.models.dashboard``, issue 18) stays true: after
each kind of change it equals a recount from the rows, and the numbers and charts the dashboard
reads from it equal what the querysets of the queue count over what each official may read."""

from collections import Counter
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.db.models import Count, Q
from django.utils import timezone

from approvals import selectors, services
from approvals.models import AccessRequest, DashboardMark, DashboardTally
from approvals.models.dashboard import _marks_of, _read
from approvals.policies import agency_of
from approvals.selectors import charts, dashboards
from approvals.selectors.cases import referral_queue
from approvals.tests.factories import all_concur, draft, new_customer, referral, sign, submitted
from portal.accounts.models import Role

pytestmark = pytest.mark.django_db

BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "The findings."}
OFFICIALS = ["doc_reviewer", "doc_approver", "doc_approver2", "oncd_approver", "ostp_approver"]


def counted_from_rows(user, today):
    """The dashboard's numbers as the queue's querysets count them (what they were before the tally)."""
    queue = referral_queue(user)
    counts = queue.order_by().aggregate(
        queue=Count("pk", distinct=True),
        mine=Count("pk", filter=Q(assigned_officials=user), distinct=True),
        unassigned=Count("pk", filter=Q(assigned_officials__isnull=True), distinct=True),
        overdue=Count("pk", filter=dashboards.clock_bucket_filter("overdue", today=today), distinct=True),
        soon=Count("pk", filter=dashboards.clock_bucket_filter("soon", today=today), distinct=True),
    )
    lead = agency_of(user).is_lead
    counts.update(
        to_sign=dashboards.positions_to_sign(user).count() if user.role == Role.AGENCY_APPROVER else None,
        for_decision=dashboards.requests_for_decision(user).count() if lead else None,
        escalated=dashboards.escalated_requests(user).count() if lead else None,
    )
    return counts, dashboards.clock_chart(queue, today=today)


def charts_from_rows(user, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(charts, "_reader", lambda user: None)
        return charts.decisions_per_week(user), charts.days_to_position_by_agency(user)


def assert_true(world, monkeypatch):
    """The tally equals a recount, and what each official reads from it equals the rows' count."""
    ids = list(AccessRequest.objects.values_list("pk", flat=True))
    recounted = {pk: m for pk, m in _marks_of(*_read(ids)).items() if m[0]}
    kept = {
        pk: (Counter(m), waiting, submitted_at)
        for pk, m, waiting, submitted_at in DashboardMark.objects.values_list(
            "access_request_id", "marks", "waiting", "submitted_at"
        )
    }
    assert kept == recounted
    totals = Counter()
    for marks, _waiting, _submitted_at in recounted.values():
        totals.update(marks)
    assert dict(DashboardTally.objects.values_list("key", "count")) == dict(+totals)  # no 0 rows kept
    today = timezone.localdate()
    for who in [*OFFICIALS, "auditor"]:
        user = world[who]
        if who != "auditor":
            counts, chart = dashboards.queue_counts(user, agency_of(user), today=today)
            assert (counts, dashboards._chart(chart)) == counted_from_rows(user, today), who
        decisions, days = charts.decisions_per_week(user), charts.days_to_position_by_agency(user)
        expected = charts_from_rows(user, monkeypatch)
        assert [b.values for b in decisions.bars] == [b.values for b in expected[0].bars], who
        assert [(b.label, b.values) for b in days.bars] == [(b.label, b.values) for b in expected[1].bars], (
            who
        )


def test_the_tally_follows_every_kind_of_change(world, monkeypatch):
    assert_true(world, monkeypatch)
    with time_machine.travel(timezone.localtime() - timedelta(days=40), tick=False):
        overdue = submitted(world, partner_customer=new_customer(world))  # its clocks ran out
    with time_machine.travel(timezone.localtime() - timedelta(days=27), tick=False):
        soon = submitted(world, partner_customer=new_customer(world))  # due within five days
    late = submitted(world, partner_customer=new_customer(world))
    assert_true(world, monkeypatch)
    # assigned, unassigned, reassigned
    services.assign_officials(
        referral=referral(late, "DOC"), actor=world["doc_approver"], officials=[world["doc_reviewer"]]
    )
    assert_true(world, monkeypatch)
    services.assign_officials(
        referral=referral(late, "DOC"),
        actor=world["doc_approver"],
        officials=[world["doc_reviewer"], world["doc_approver"]],
    )
    services.assign_officials(
        referral=referral(soon, "DOC"), actor=world["doc_approver"], officials=[world["doc_approver2"]]
    )
    assert_true(world, monkeypatch)
    # drafted by one, redrafted by another (the two-person rule's count), then signed
    services.draft_position(referral=referral(late, "DOC"), actor=world["doc_reviewer"], stance="concur")
    assert_true(world, monkeypatch)
    services.draft_position(referral=referral(late, "DOC"), actor=world["doc_approver"], stance="concur")
    assert_true(world, monkeypatch)
    services.sign_position(referral=referral(late, "DOC"), actor=world["doc_approver2"])
    assert_true(world, monkeypatch)
    # a question stops every clock of the request; the answer restarts them (batched paths)
    question = services.issue_information_request(
        access_request=soon, actor=world["doc_reviewer"], question="Q?"
    )
    assert_true(world, monkeypatch)
    services.answer_information_request(information_request=question, actor=world["officer"], answer="A.")
    assert_true(world, monkeypatch)
    # a suspension holds the open requests and stops their clocks; lifting restarts them
    services.suspend_model(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    assert_true(world, monkeypatch)
    services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    assert_true(world, monkeypatch)
    # every required agency signed: waiting for the lead's decision; then decided
    all_concur(world, overdue)
    assert_true(world, monkeypatch)
    services.record_decision(
        access_request=AccessRequest.objects.get(pk=overdue.pk), actor=world["doc_approver"]
    )
    assert_true(world, monkeypatch)
    # a non-concurrence escalates the case
    objected = submitted(world, partner_customer=new_customer(world))
    sign(world, objected, "DOC")
    sign(world, objected, "ONCD", "non_concur", rationale="No.")
    sign(world, objected, "OSTP")
    assert_true(world, monkeypatch)
    assert AccessRequest.objects.get(pk=objected.pk).status == AccessRequest.Status.ESCALATED
    # a withdrawal, a return without action, a discarded draft
    services.withdraw_request(access_request=late, actor=world["officer"], reason="No longer needed.")
    assert_true(world, monkeypatch)
    services.return_without_action(
        access_request=AccessRequest.objects.get(pk=soon.pk),
        actor=world["doc_approver"],
        reason="Out of scope.",
    )
    assert_true(world, monkeypatch)
    services.discard_draft(
        access_request=draft(world, partner_customer=new_customer(world)), actor=world["officer"]
    )
    assert_true(world, monkeypatch)


def test_the_command_recounts_what_was_changed_behind_the_services(world, monkeypatch):
    access_request = submitted(world, partner_customer=new_customer(world))
    DashboardTally.objects.update(count=0)  # as if the tally had gone wrong
    DashboardMark.objects.all().delete()
    counts, _ = dashboards.queue_counts(world["doc_reviewer"], agency_of(world["doc_reviewer"]))
    assert counts["queue"] == 0
    call_command("recount_dashboard", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert_true(world, monkeypatch)
    counts, _ = dashboards.queue_counts(world["doc_reviewer"], agency_of(world["doc_reviewer"]))
    assert counts["queue"] == referral_queue(world["doc_reviewer"]).count() >= 1
    assert access_request.pk in DashboardMark.objects.values_list("access_request_id", flat=True)


def test_the_dashboard_shows_the_kept_numbers(client, world):
    access_request = submitted(world, partner_customer=new_customer(world))
    services.assign_officials(
        referral=referral(access_request, "DOC"),
        actor=world["doc_approver"],
        officials=[world["doc_reviewer"]],
    )
    context = selectors.agency_dashboard(world["doc_reviewer"])
    assert context["counts"]["mine"] == 1
    assert [r.pk for r in context["mine"]] == [referral(access_request, "DOC").pk]


def _counting(monkeypatch):
    """Every request id ``retally`` and ``refresh_next_due`` compute (not the ones they only note)."""
    from approvals.models import dashboard, review

    computed = {"tally": [], "due": []}
    real_retally, real_read = dashboard._retally, dashboard.noted_for_counting

    def retally_now(ids):
        computed["tally"].append(list(ids))
        return real_retally(ids)

    def noted(what, ids):
        ids = list(ids)
        was_noted = real_read(what, ids)
        if what == "due" and not was_noted and ids:
            computed["due"].append(sorted(ids))
        return was_noted

    monkeypatch.setattr(dashboard, "_retally", retally_now)
    monkeypatch.setattr(dashboard, "noted_for_counting", noted)
    monkeypatch.setattr(review, "noted_for_counting", noted)
    return computed


def test_a_service_counts_each_request_once_at_its_end(world, monkeypatch):
    # given a draft to be referred to three agencies (a save of the request and one per referral)
    request = draft(world, partner_customer=new_customer(world, legal_name="Counted Once Co"))
    computed = _counting(monkeypatch)
    # when it is submitted
    services.submit_request(access_request=request, actor=world["officer"])
    # then its next due date and its marks were computed once each, at the end
    assert computed == {"due": [[request.pk]], "tally": [[request.pk]]}
    request.refresh_from_db()
    assert request.next_due == request.referrals.order_by("due_date").first().due_date
    assert_true(world, monkeypatch)


def test_outside_a_service_each_save_is_counted_at_once(world, monkeypatch):
    # given a request under review, changed outside any service (a shell, a data fix)
    request = submitted(world, partner_customer=new_customer(world, legal_name="Counted Now Co"))
    computed = _counting(monkeypatch)
    one = request.referrals.order_by("pk").first()
    one.due_date = timezone.localdate() + timedelta(days=1)
    one.save(update_fields=["due_date"])
    # then the save alone counted it, right away
    assert computed == {"due": [[request.pk]], "tally": [[request.pk]]}
    request.refresh_from_db()
    assert request.next_due == one.due_date
    assert_true(world, monkeypatch)


def test_counted_once_counts_nothing_after_an_error_and_leaves_nested_blocks_to_the_outer(world, monkeypatch):
    from django.db import transaction

    from approvals.models.dashboard import counted_once

    request = submitted(world, partner_customer=new_customer(world, legal_name="Nested Co"))
    one = request.referrals.order_by("pk").first()
    computed = _counting(monkeypatch)

    def save_then_fail():
        with transaction.atomic(), counted_once():
            one.save()
            raise RuntimeError("stop")

    # an error inside the block: nothing is computed (its transaction is rolled back anyway)
    with pytest.raises(RuntimeError, match="stop"):
        save_then_fail()
    assert computed == {"due": [], "tally": []}
    # nested blocks: the inner one's end computes nothing, the outer one's end computes it once
    with transaction.atomic(), counted_once():
        with counted_once():
            one.save()
            request.save()
        assert computed == {"due": [], "tally": []}
        one.save()
    assert computed == {"due": [[request.pk]], "tally": [[request.pk]]}
    assert_true(world, monkeypatch)
