"""Every step of a review leaves history naming who acted and why."""

import pytest

from approvals import services
from approvals.models import Condition, Decision, Escalation, Grant, IntentToDeny, Position, Referral
from approvals.tests.factories import referral, refresh, sign, submitted

pytestmark = pytest.mark.django_db


def rows(model, **lookup):
    return list(model.history.filter(**lookup).select_related("history_user").order_by("history_id"))


def test_a_whole_review_leaves_a_reason_and_a_user_on_every_history_row(world):
    # given a request taken through questions, positions, an escalation and an approval
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.assign_officials(referral=doc, actor=world["doc_approver"], officials=[world["doc_reviewer"]])
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q"
    )
    services.answer_information_request(information_request=question, actor=world["officer"], answer="A")
    services.draft_position(
        referral=doc,
        actor=world["doc_reviewer"],
        stance="concur_with_conditions",
        conditions=[{"text": "Logs"}],
    )
    services.sign_position(referral=doc, actor=world["doc_approver"])
    sign(world, access_request, "ONCD", "non_concur", rationale="No")
    sign(world, access_request, "OSTP")
    services.add_internal_note(access_request=access_request, actor=world["oncd_approver"], body="Note")
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="R",
    )
    services.respond_to_intent_to_deny(
        access_request=access_request, actor=world["officer"], response="Reply"
    )
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver2"],
        outcome="approve",
        rationale="OK",
    )
    # then every history row of every record of the case says who and why
    records = (
        rows(type(access_request), id=access_request.pk)
        + rows(Referral, access_request_id=access_request.pk)
        + rows(Position, referral__access_request_id=access_request.pk)
        + rows(Condition, access_request_id=access_request.pk)
        + rows(type(question), access_request_id=access_request.pk)
        + rows(Escalation, access_request_id=access_request.pk)
        + rows(IntentToDeny, access_request_id=access_request.pk)
        + rows(Decision, access_request_id=access_request.pk)
        + rows(Grant, access_request_id=access_request.pk)
    )
    assert len(records) > 30
    for record in records:
        assert record.history_change_reason, record
        assert record.history_user is not None, record
    reasons = [r.history_change_reason for r in rows(type(access_request), id=access_request.pk)]
    assert reasons[0] == f"Draft started by {world['officer'].full_name}."
    expected_fragments = [
        "Submitted by",
        "Review started by DOC.",
        "DOC asked the vendor a question",
        "DOC's question answered; review resumed.",
        "DOC completed its review.",
        "ONCD completed its review.",
        "OSTP completed its review.",
        "Escalated: the agencies did not all concur.",
        "Intent to deny issued",
        "The vendor responded to the intent to deny.",
        "Approved by the lead agency",
    ]
    joined = " | ".join(reasons)
    positions = [joined.index(fragment) for fragment in expected_fragments]
    assert positions == sorted(positions), joined


def test_the_words_people_type_are_on_the_history_row_of_the_verb(world):
    """Issue 14: a rationale, the reasons of an intent to deny, the vendor's response, the
    decision's rationale and a revocation's legal basis read on the history row of their verb."""
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.assign_officials(referral=doc, actor=world["doc_approver"], officials=[world["doc_reviewer"]])
    services.draft_position(
        referral=doc, actor=world["doc_reviewer"], stance="concur", rationale="DOC-FIRST-RATIONALE"
    )
    services.draft_position(
        referral=refresh(doc), actor=world["doc_reviewer"], stance="concur", rationale="DOC-REDRAFTED"
    )
    services.sign_position(referral=refresh(doc), actor=world["doc_approver"])
    sign(world, access_request, "ONCD", "non_concur", rationale="ONCD-OBJECTS")
    sign(world, access_request, "OSTP")
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="INTENT-REASONS",
    )
    services.respond_to_intent_to_deny(
        access_request=refresh(access_request), actor=world["officer"], response="VENDOR-RESPONSE"
    )
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver2"],
        outcome="approve",
        rationale="DECISION-RATIONALE",
    )
    grant = Grant.objects.get(access_request=access_request)
    services.revoke_grant(
        grant=grant, actor=world["doc_approver"], legal_basis="LEGAL-BASIS-15-CFR", findings="Findings."
    )

    def reasons(model, **lookup):
        return [r.history_change_reason for r in rows(model, **lookup)]

    positions = reasons(Position, referral__access_request_id=access_request.pk)
    assert any("drafted by" in r and r.endswith("Rationale: DOC-FIRST-RATIONALE") for r in positions), (
        positions
    )
    assert any("redrafted by" in r and r.endswith("Rationale: DOC-REDRAFTED") for r in positions), positions
    assert any(r.endswith("Rationale: ONCD-OBJECTS") for r in positions), positions
    intents = reasons(IntentToDeny, access_request_id=access_request.pk)
    assert intents[0].startswith("Intent to deny issued by")
    assert intents[0].endswith("Reasons: INTENT-REASONS")
    assert intents[-1].startswith("Response by")
    assert intents[-1].endswith("Response: VENDOR-RESPONSE")
    (decided,) = reasons(Decision, access_request_id=access_request.pk)
    assert decided.startswith("Approved by")
    assert decided.endswith("Rationale: DECISION-RATIONALE")
    assert reasons(Grant, id=grant.pk)[-1].endswith(": LEGAL-BASIS-15-CFR")
