"""The review services' last steps: decisions, escalation, intent to deny, the reviewed snapshot and
the reminders; happy paths, refusals, and what each leaves behind."""

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals import services
from approvals.models import (
    AccessRequest,
    Decision,
    Escalation,
    Grant,
    IntentToDeny,
    Referral,
)
from approvals.tests.factories import (
    all_concur,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)
from approvals.tests.service_checks import last_history, noon, notified
from portal import permissions
from portal.accounts.models import Organisation
from portal.accounts.services import system_user
from portal.errors import PortalError
from portal.notifications.models import Notification
from portal.tests.factories import OrganisationFactory
from vendors.models import PartnerCustomer

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Decisions


def test_approval_carries_every_agencys_conditions_and_creates_the_grant(world):
    # given DOC and ONCD concur with conditions and OSTP concurs
    access_request = submitted(world, requested_duration_days=90)
    sign(world, access_request, "DOC", "concur_with_conditions", conditions=[{"kind": "logging", "text": ""}])
    sign(
        world,
        access_request,
        "ONCD",
        "concur_with_conditions",
        conditions=[{"text": "Quarterly red-team report"}, {"kind": "seat_cap", "text": "", "seat_cap": 200}],
    )
    sign(world, access_request, "OSTP")
    # when DOC's approver decides
    decision = services.record_decision(
        access_request=refresh(access_request), actor=world["doc_approver"], rationale="All agencies concur."
    )
    # then the request is approved with the union of the conditions, each with its agency
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.APPROVED
    assert decision.outcome == Decision.Outcome.APPROVED
    assert sorted(decision.conditions.values_list("agency__code", "kind")) == [
        ("DOC", "logging"),
        ("ONCD", "seat_cap"),
        ("ONCD", "text"),
    ]
    assert "[ONCD] Quarterly red-team report" in decision.letter_text
    assert "(at most 200 seats)" in decision.letter_text
    assert decision.snapshot["customer"]["legal_name"] == world.partner_customer.legal_name
    assert decision.snapshot_sha256 == services.snapshot_sha256(decision.snapshot)
    # and a grant for the requested 90 days (shorter than a year), readable by the vendor's members
    grant = decision.grant
    assert grant.status == Grant.Status.ACTIVE
    assert (grant.valid_to - grant.valid_from).days == 90
    assert grant.conditions.count() == 3
    assert permissions.has_object_permission(world["viewer"], grant, "view")
    assert not permissions.has_object_permission(world["other_officer"], grant, "view")
    assert notified("decision_approved", world["officer"]).count() == 1
    assert last_history(access_request).history_change_reason.startswith("Approved by the lead agency")
    assert set(access_request.referrals.values_list("status", flat=True)) == {Referral.Status.SIGNED}


def test_a_grant_lasts_a_year_by_default_and_no_longer_than_an_expiry_condition(world):
    access_request = all_concur(world, submitted(world))
    grant = services.record_decision(access_request=access_request, actor=world["doc_approver"]).grant
    assert (grant.valid_to - grant.valid_from).days == 365
    other = submitted(world, partner_customer=new_customer(world))
    expiry = timezone.localdate() + timedelta(days=40)
    sign(world, other, "DOC", "concur_with_conditions", conditions=[{"kind": "expiry", "expires_on": expiry}])
    sign(world, other, "ONCD")
    sign(world, other, "OSTP")
    grant = services.record_decision(access_request=other, actor=world["doc_approver"]).grant
    assert grant.valid_to == expiry


def test_record_decision_needs_every_required_signature_and_lists_the_missing(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    with pytest.raises(PortalError) as caught:
        services.record_decision(access_request=access_request, actor=world["doc_approver"])
    assert caught.value.messages == [
        "ONCD has not signed its position yet.",
        "OSTP has not signed its position yet.",
    ]


@pytest.mark.parametrize(
    "who", ["doc_reviewer", "doc_admin", "oncd_approver", "officer", "auditor", "portal_admin"]
)
def test_only_a_lead_agency_approver_decides(world, who):
    access_request = all_concur(world, submitted(world))
    with pytest.raises(PortalError):
        services.record_decision(access_request=access_request, actor=world[who])
    assert not Decision.objects.exists()


def test_a_non_concurrence_must_be_escalated_not_decided(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD", "non_concur", rationale="Customer's controls are untested.")
    sign(world, access_request, "OSTP")
    # the last signature escalates the case by itself; the lead approvers hear "escalated"
    assert refresh(access_request).status == AccessRequest.Status.ESCALATED
    escalation = Escalation.objects.get(access_request=access_request)
    assert "ONCD does not concur: Customer's controls are untested." in escalation.reason
    mail = Notification.objects.filter(recipient=world["doc_approver"], object_label=str(access_request))
    assert mail.filter(event="request_escalated").exists()
    assert not mail.filter(event="ready_for_decision").exists()
    with pytest.raises(PortalError, match="resolve the escalation"):
        services.record_decision(access_request=access_request, actor=world["doc_approver"])


def test_escalation_needs_a_non_concurrence(world):
    access_request = all_concur(world, submitted(world))
    with pytest.raises(PortalError, match="record the decision instead"):
        services.escalate_request(access_request=access_request, actor=world["doc_approver"], reason="x")


def escalated(world, **kwargs):
    access_request = submitted(world, **kwargs)
    sign(world, access_request, "DOC", "concur_with_conditions", conditions=[{"text": "Logs kept 1 year"}])
    sign(world, access_request, "ONCD", "non_concur", rationale="Untested controls.")
    sign(world, access_request, "OSTP")
    return refresh(access_request)


def test_resolve_escalation_by_approving_with_more_conditions(world):
    access_request = escalated(world)
    decision = services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver2"],
        outcome="approve_with_conditions",
        rationale="ONCD's concern is met by a seat cap.",
        conditions=[{"kind": "seat_cap", "text": "", "seat_cap": 25}],
    )
    assert refresh(access_request).status == AccessRequest.Status.APPROVED
    assert sorted(decision.conditions.values_list("agency__code", "text")) == [
        ("DOC", "Cap on the number of seats"),
        ("DOC", "Logs kept 1 year"),
    ]
    assert decision.rationale == "ONCD's concern is met by a seat cap."
    with pytest.raises(PortalError):
        services.resolve_escalation(
            access_request=access_request, actor=world["doc_approver"], outcome="approve", rationale="again"
        )


def test_intent_to_deny_then_the_vendors_response_then_the_denial(world):
    access_request = escalated(world)
    intent = services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Risk.",
    )
    assert intent.respond_by == timezone.localdate() + timedelta(days=20)
    assert notified("intent_to_deny", world["officer"]).count() == 1
    with pytest.raises(PortalError, match="has until"):
        services.finalise_denial(access_request=access_request, actor=world["doc_approver"])
    with pytest.raises(PortalError):
        services.respond_to_intent_to_deny(
            access_request=access_request, actor=world["viewer"], response="no"
        )
    services.respond_to_intent_to_deny(
        access_request=access_request, actor=world["officer"], response="We disagree."
    )
    assert refresh(intent).status == IntentToDeny.Status.RESPONDED
    assert notified("intent_to_deny_response", world["doc_approver"]).count() == 1
    with pytest.raises(PortalError, match="already been recorded"):
        services.respond_to_intent_to_deny(
            access_request=access_request, actor=world["officer"], response="Again"
        )
    decision = services.finalise_denial(
        access_request=access_request, actor=world["doc_approver"], rationale="Final."
    )
    assert decision.outcome == Decision.Outcome.DENIED
    assert refresh(access_request).status == AccessRequest.Status.DENIED
    assert not Grant.objects.exists()
    assert "The request is DENIED" in decision.letter_text
    assert notified("decision_denied", world["officer"]).count() == 1


def test_denial_after_the_window_closes_without_a_response(world):
    access_request = escalated(world)
    intent = services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Risk.",
    )
    with time_machine.travel(noon(intent.respond_by + timedelta(days=1)), tick=False):
        with pytest.raises(PortalError, match="window to respond closed"):
            services.respond_to_intent_to_deny(
                access_request=access_request, actor=world["officer"], response="Late"
            )
        decision = services.finalise_denial(access_request=access_request, actor=world["doc_approver"])
    assert decision.rationale == "Risk."
    assert refresh(intent).status == IntentToDeny.Status.WINDOW_CLOSED


def test_a_second_intent_to_deny_is_refused_but_approval_after_a_response_is_possible(world):
    access_request = escalated(world)
    services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Risk.",
    )
    with pytest.raises(PortalError, match="already issued"):
        services.resolve_escalation(
            access_request=access_request,
            actor=world["doc_approver"],
            outcome="intent_to_deny",
            rationale="Again",
        )
    services.respond_to_intent_to_deny(
        access_request=access_request, actor=world["officer"], response="Mitigated."
    )
    services.resolve_escalation(
        access_request=access_request, actor=world["doc_approver"], outcome="approve", rationale="Convinced."
    )
    assert refresh(access_request).status == AccessRequest.Status.APPROVED


# ---------------------------------------------------------------------------------------------
# The snapshot


def test_the_snapshot_hash_is_stable_and_changes_with_the_reviewed_data(world):
    access_request = submitted(world)
    first = services.decision_snapshot(access_request)
    again = services.decision_snapshot(refresh(access_request))
    assert services.snapshot_sha256(first) == services.snapshot_sha256(again)
    assert services.canonical_json(first) == services.canonical_json(again)
    # key order does not matter; content does
    reordered = dict(reversed(list(first.items())))
    assert services.snapshot_sha256(reordered) == services.snapshot_sha256(first)
    PartnerCustomer.objects.filter(pk=world.partner_customer.pk).update(intended_use="Something else")
    changed = services.decision_snapshot(refresh(access_request))
    assert services.snapshot_sha256(changed) != services.snapshot_sha256(first)


def test_the_decision_keeps_what_was_reviewed_when_the_customer_changes_later(world):
    access_request = all_concur(world, submitted(world))
    decision = services.record_decision(access_request=access_request, actor=world["doc_approver"])
    PartnerCustomer.objects.filter(pk=world.partner_customer.pk).update(intended_use="Changed afterwards")
    decision = refresh(decision)
    assert decision.snapshot["customer"]["intended_use"] != "Changed afterwards"
    assert services.snapshot_sha256(decision.snapshot) == decision.snapshot_sha256


# ---------------------------------------------------------------------------------------------
# Reminders


def test_clock_reminders_are_sent_once_per_occasion(world):
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.assign_officials(referral=doc, actor=world["doc_reviewer"], officials=[world["doc_reviewer"]])
    due = refresh(doc).due_date
    # five days before: one reminder per referral to assigned officials and approvers
    services.send_clock_reminders(today=due - timedelta(days=5))
    assert notified("referral_due_soon", world["doc_reviewer"]).count() == 1
    assert notified("referral_due_soon", world["oncd_approver"]).count() == 1
    assert notified("referral_due_soon", world["doc_reviewer2"]).count() == 0
    services.send_clock_reminders(today=due - timedelta(days=5))
    services.send_clock_reminders(today=due - timedelta(days=3))
    assert notified("referral_due_soon", world["doc_reviewer"]).count() == 1
    # overdue: one a day
    services.send_clock_reminders(today=due + timedelta(days=1))
    services.send_clock_reminders(today=due + timedelta(days=1))
    assert notified("referral_overdue", world["doc_reviewer"]).count() == 1
    services.send_clock_reminders(today=due + timedelta(days=2))
    assert notified("referral_overdue", world["doc_reviewer"]).count() == 2


def test_no_reminder_while_the_clock_is_stopped(world):
    access_request = submitted(world)
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    due = referral(access_request, "DOC").due_date
    assert services.send_clock_reminders(today=due + timedelta(days=1)) == 0


def test_grant_expiry_notices_at_30_and_7_days(world):
    access_request = all_concur(world, submitted(world))
    grant = services.record_decision(access_request=access_request, actor=world["doc_approver"]).grant
    services.send_clock_reminders(today=grant.valid_to - timedelta(days=31))
    assert not notified("grant_expiring").exists()
    services.send_clock_reminders(today=grant.valid_to - timedelta(days=30))
    services.send_clock_reminders(today=grant.valid_to - timedelta(days=29))
    assert notified("grant_expiring", world["officer"]).count() == 1
    services.send_clock_reminders(today=grant.valid_to - timedelta(days=7))
    services.send_clock_reminders(today=grant.valid_to - timedelta(days=6))
    assert notified("grant_expiring", world["officer"]).count() == 2
    assert notified("grant_expiring", world["viewer"]).count() == 0


def test_group_names_are_unique_per_agency(world):
    assert Group.objects.filter(name="agency DOC officials").count() == 1
    with pytest.raises(PortalError):
        services.create_agency(
            organisation=OrganisationFactory(kind=Organisation.Kind.AGENCY),
            code="DOC",
            actor=system_user(),
            reason="r",
        )
