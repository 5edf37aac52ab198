"""The review services between submission and decision: assignment, positions, internal notes and
information requests; happy paths, refusals, and what each leaves behind."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals import services
from approvals.models import (
    AccessRequest,
    Condition,
    InformationRequest,
    InternalNote,
    Position,
    Referral,
)
from approvals.tests.factories import (
    document,
    referral,
    refresh,
    sign,
    submitted,
)
from approvals.tests.service_checks import last_history, notified
from portal import permissions
from portal.accounts.services import system_user
from portal.audit.history import save_with_history
from portal.errors import PortalError

pytestmark = pytest.mark.django_db


# ---------------------------------------------------------------------------------------------
# Assignment and positions


def test_an_approver_assigns_a_reviewer_who_may_then_draft(world):
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    reviewer = world["doc_reviewer"]
    with pytest.raises(PortalError, match="Assign the referral to yourself"):
        services.draft_position(referral=doc, actor=reviewer, stance="concur")
    services.assign_officials(referral=doc, actor=world["doc_approver"], officials=[reviewer])
    assert list(refresh(doc).assigned_officials.all()) == [reviewer]
    assert refresh(access_request).status == AccessRequest.Status.IN_REVIEW
    assert notified("referral_assigned", reviewer).count() == 1
    assert "Assigned to" in last_history(refresh(doc)).history_change_reason
    position = services.draft_position(referral=doc, actor=reviewer, stance="concur")
    assert position.drafted_by == reviewer
    assert refresh(doc).status == Referral.Status.DRAFTED


def test_a_reviewer_may_take_a_referral_but_not_give_it_to_someone_else(world):
    doc = referral(submitted(world), "DOC")
    with pytest.raises(PortalError, match="only to themselves"):
        services.assign_officials(
            referral=doc, actor=world["doc_reviewer"], officials=[world["doc_reviewer2"]]
        )
    services.assign_officials(referral=doc, actor=world["doc_reviewer"], officials=[world["doc_reviewer"]])
    assert permissions.has_object_permission(world["doc_reviewer"], doc, "change")


def test_assignment_is_within_the_agency(world):
    doc = referral(submitted(world), "DOC")
    with pytest.raises(PortalError, match="not a reviewer or approver of DOC"):
        services.assign_officials(
            referral=doc, actor=world["doc_approver"], officials=[world["oncd_reviewer"]]
        )
    for who in ("oncd_approver", "officer", "auditor", "portal_admin"):
        with pytest.raises(PortalError):
            services.assign_officials(referral=doc, actor=world[who], officials=[world["doc_reviewer"]])


def test_reassignment_takes_the_right_to_draft_away(world):
    doc = referral(submitted(world), "DOC")
    services.assign_officials(referral=doc, actor=world["doc_admin"], officials=[world["doc_reviewer"]])
    services.assign_officials(referral=doc, actor=world["doc_admin"], officials=[world["doc_reviewer2"]])
    assert not permissions.has_object_permission(world["doc_reviewer"], doc, "change")
    with pytest.raises(PortalError, match="Assign the referral"):
        services.draft_position(referral=doc, actor=world["doc_reviewer"], stance="concur")


def test_draft_position_validates_rationale_and_conditions(world):
    doc = referral(submitted(world), "DOC")
    approver = world["doc_approver"]
    with pytest.raises(PortalError) as caught:
        services.draft_position(referral=doc, actor=approver, stance="non_concur")
    assert caught.value.field == "rationale"
    with pytest.raises(PortalError, match="at least one condition"):
        services.draft_position(referral=doc, actor=approver, stance="concur_with_conditions")
    with pytest.raises(PortalError, match="number of seats"):
        services.draft_position(
            referral=doc, actor=approver, stance="concur_with_conditions", conditions=[{"kind": "seat_cap"}]
        )
    with pytest.raises(PortalError, match="Concur with conditions"):
        services.draft_position(referral=doc, actor=approver, stance="concur", conditions=[{"text": "Logs"}])
    with pytest.raises(PortalError) as caught:
        services.draft_position(referral=doc, actor=approver, stance="maybe")
    assert caught.value.field == "stance"
    assert not Position.objects.exists()


def test_redrafting_replaces_the_unsigned_conditions(world):
    doc = referral(submitted(world), "DOC")
    approver = world["doc_approver"]
    services.draft_position(
        referral=doc,
        actor=approver,
        stance="concur_with_conditions",
        conditions=[{"text": "Keep logs"}, {"kind": "seat_cap", "text": "", "seat_cap": 50}],
    )
    assert Condition.objects.count() == 2
    services.draft_position(
        referral=doc, actor=approver, stance="concur_with_conditions", conditions=[{"text": "One"}]
    )
    assert list(Condition.objects.values_list("text", flat=True)) == ["One"]
    assert Position.objects.get().history.count() == 2


def test_only_officials_of_the_referred_agency_draft(world):
    doc = referral(submitted(world), "DOC")
    for who in ("oncd_approver", "cisa_approver", "officer", "auditor", "portal_admin", "doc_admin"):
        with pytest.raises(PortalError):
            services.draft_position(referral=doc, actor=world[who], stance="concur")


def test_sign_position_makes_it_final(world):
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.draft_position(referral=doc, actor=world["doc_approver"], stance="concur")
    position = services.sign_position(referral=doc, actor=world["doc_approver2"])
    assert position.signed_by == world["doc_approver2"]
    assert refresh(doc).status == Referral.Status.SIGNED
    assert last_history(position).history_change_reason.startswith("Position signed by")
    with pytest.raises(PortalError, match="signed and final"):
        services.draft_position(
            referral=doc, actor=world["doc_approver"], stance="non_concur", rationale="No"
        )
    with pytest.raises(PortalError, match="a signed position is final"):
        services.sign_position(referral=doc, actor=world["doc_approver"])


def test_sign_position_refusals(world):
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    with pytest.raises(PortalError, match="no drafted position"):
        services.sign_position(referral=doc, actor=world["doc_approver"])
    services.assign_officials(referral=doc, actor=world["doc_reviewer"], officials=[world["doc_reviewer"]])
    services.draft_position(referral=doc, actor=world["doc_reviewer"], stance="concur")
    for who in ("doc_reviewer", "oncd_approver", "officer", "auditor", "portal_admin"):
        with pytest.raises(PortalError):
            services.sign_position(referral=doc, actor=world[who])
    with pytest.raises(PortalError, match="changed after you opened it"):
        services.sign_position(
            referral=doc, actor=world["doc_approver"], expected_drafted_at="2020-01-01T00:00:00"
        )
    assert not Position.objects.get().is_signed


def test_two_person_rule_refuses_signing_ones_own_draft(world):
    # given DOC set up for the two-person rule (as a portal administrator sets it)
    doc_agency = world.agency("DOC")
    doc_agency.requires_two_persons = True
    save_with_history(
        doc_agency, actor=world["portal_admin"], reason="Two persons.", update_fields=["requires_two_persons"]
    )
    doc = referral(submitted(world), "DOC")
    services.draft_position(referral=doc, actor=world["doc_approver"], stance="concur")
    with pytest.raises(PortalError, match="requires two persons"):
        services.sign_position(referral=doc, actor=world["doc_approver"])
    services.sign_position(referral=doc, actor=world["doc_approver2"])
    assert refresh(doc).status == Referral.Status.SIGNED


def test_signing_the_last_required_position_tells_the_lead_approvers(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD")
    assert not notified("ready_for_decision").exists()
    sign(world, access_request, "OSTP")
    assert set(notified("ready_for_decision").values_list("recipient", flat=True)) == {
        world["doc_approver"].pk,
        world["doc_approver2"].pk,
    }


# ---------------------------------------------------------------------------------------------
# Internal notes


def test_internal_notes_belong_to_the_writers_agency(world):
    access_request = submitted(world)
    note = services.add_internal_note(
        access_request=access_request, actor=world["oncd_reviewer"], body="Check X"
    )
    assert note.agency.code == "ONCD"
    assert note.author == world["oncd_reviewer"]
    for who in ("officer", "cisa_approver", "auditor"):
        with pytest.raises(PortalError):
            services.add_internal_note(access_request=access_request, actor=world[who], body="x")
    with pytest.raises(PortalError) as caught:
        services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body=" ")
    assert caught.value.field == "body"
    assert InternalNote.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# Information requests


def test_issue_information_request_stops_every_clock_and_asks_the_vendor(world):
    access_request = submitted(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=2), tick=False):
        question = services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Who are the end users?"
        )
        assert question.deadline == timezone.localdate() + timedelta(days=10)
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.INFO_REQUESTED
    assert all(r.clock_stopped for r in access_request.referrals.all())
    assert notified("information_request_issued", world["officer"]).count() == 1
    assert notified("information_request_issued", world["viewer"]).count() == 0
    assert permissions.has_object_permission(world["viewer"], question, "view")
    assert permissions.has_object_permission(world["ostp_approver"], question, "view")
    assert not permissions.has_object_permission(world["other_officer"], question, "view")
    assert last_history(access_request).history_change_reason.startswith("DOC asked the vendor a question")


def test_only_officials_of_a_referred_agency_ask(world):
    access_request = submitted(world)
    for who in ("cisa_approver", "officer", "auditor", "portal_admin", "doc_admin"):
        with pytest.raises(PortalError):
            services.issue_information_request(access_request=access_request, actor=world[who], question="Q")
    with pytest.raises(PortalError) as caught:
        services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question=""
        )
    assert caught.value.field == "question"
    with pytest.raises(PortalError) as caught:
        services.issue_information_request(
            access_request=access_request,
            actor=world["doc_reviewer"],
            question="Q",
            deadline=timezone.localdate(),
        )
    assert caught.value.field == "deadline"


def test_answer_resumes_the_clocks_only_when_the_last_question_is_answered(world):
    access_request = submitted(world)
    first = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="A?"
    )
    second = services.issue_information_request(
        access_request=access_request, actor=world["oncd_approver"], question="B?"
    )
    services.answer_information_request(information_request=first, actor=world["officer"], answer="A.")
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.INFO_REQUESTED
    assert all(r.clock_stopped for r in access_request.referrals.all())
    services.answer_information_request(
        information_request=second, actor=world["vendor_admin"], answer="B.", documents=[document("b.txt")]
    )
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.IN_REVIEW
    assert not any(r.clock_stopped for r in access_request.referrals.all())
    assert refresh(second).documents.count() == 1
    assert notified("information_answered", world["oncd_approver"]).count() == 1


def test_answer_refusals(world):
    access_request = submitted(world)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    for who in ("viewer", "other_officer", "doc_approver", "auditor"):
        with pytest.raises(PortalError):
            services.answer_information_request(information_request=question, actor=world[who], answer="A")
    with pytest.raises(PortalError) as caught:
        services.answer_information_request(information_request=question, actor=world["officer"], answer="")
    assert caught.value.field == "answer"
    services.answer_information_request(information_request=question, actor=world["officer"], answer="A")
    with pytest.raises(PortalError, match="cannot be answered now"):
        services.answer_information_request(
            information_request=question, actor=world["officer"], answer="Again"
        )


def test_unanswered_questions_return_the_request_without_action(world):
    access_request = submitted(world)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    # on the deadline itself nothing happens
    assert services.return_lapsed_requests(today=question.deadline) == 0
    assert refresh(access_request).status == AccessRequest.Status.INFO_REQUESTED
    # the day after, the request is returned, once
    assert services.return_lapsed_requests(today=question.deadline + timedelta(days=1)) == 1
    assert services.return_lapsed_requests(today=question.deadline + timedelta(days=2)) == 0
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.RETURNED
    assert "was not answered by" in access_request.closed_reason
    assert refresh(question).status == InformationRequest.Status.LAPSED
    assert set(access_request.referrals.values_list("status", flat=True)) == {Referral.Status.CLOSED}
    record = last_history(access_request)
    assert record.history_user == system_user()
    assert record.history_change_reason.startswith("Returned without action")
    assert notified("request_returned", world["officer"]).count() == 1
