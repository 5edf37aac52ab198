"""Pulling a model offline, lifting the suspension, revoking a grant: the cascade and its reversal."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, EnforcementAction, Grant, Referral
from approvals.tests.conftest import fresh
from approvals.tests.enforcement_helpers import BASIS, approved, lift, suspend
from approvals.tests.factories import all_concur, new_customer, referral, refresh, sign, submitted
from conftest import RolledBackAtTheEnd
from portal.errors import PortalError
from portal.notifications.models import Notification
from vendors.models import FrontierModel
from vendors.tests.factories import FrontierModelFactory

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase


def recipients(event):
    return set(Notification.objects.filter(event=event).values_list("recipient__email", flat=True))


# ---------------------------------------------------------------------------------------------
# Who may act

NOT_LEAD_APPROVERS = [
    "doc_reviewer",
    "doc_admin",
    "oncd_approver",
    "dod_approver",
    "officer",
    "vendor_admin",
    "viewer",
    "auditor",
    "portal_admin",
]


@pytest.fixture(scope="class")
def suspended_once(module_world, django_db_blocker):
    """Two approved grants of the world's model, suspended: built once for the class."""
    assert module_world is not None
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            grants = [approved(world), approved(world)]
            suspend(world)
        yield [grant.pk for grant in grants]


class TestWhoMaySuspend:
    @pytest.mark.parametrize("who", NOT_LEAD_APPROVERS)
    def test_only_lead_agency_approvers_may_suspend(self, approved_once, world, who):
        with pytest.raises(PortalError, match="Only an approver of the lead agency"):
            services.suspend_model(frontier_model=world.frontier_model, actor=world[who], **BASIS)
        assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
        assert Grant.objects.get(pk=approved_once).status == Grant.Status.ACTIVE
        assert not EnforcementAction.objects.exists()


class TestWhoMayLiftOrRevoke:
    @pytest.mark.parametrize("who", NOT_LEAD_APPROVERS)
    def test_only_lead_agency_approvers_may_lift_or_revoke(self, suspended_once, world, who):
        grant, other = Grant.objects.filter(pk__in=suspended_once).order_by("pk")
        with pytest.raises(PortalError, match="Only an approver of the lead agency"):
            services.lift_suspension(frontier_model=world.frontier_model, actor=world[who], **BASIS)
        with pytest.raises(PortalError, match="Only an approver of the lead agency"):
            services.revoke_grant(grant=grant, actor=world[who], **BASIS)
        assert refresh(world.frontier_model).release_phase == Phase.SUSPENDED
        assert refresh(other).status == Grant.Status.SUSPENDED
        assert refresh(grant).status == Grant.Status.SUSPENDED


def test_a_lead_approver_cannot_act_on_a_model_they_may_not_see(world):
    # a model never referred to an agency nor submitted for review is unknown to the agencies
    unknown = FrontierModelFactory(vendor=world.other_vendor, release_phase=Phase.GENERAL_AVAILABILITY)
    with pytest.raises(PortalError, match="may not pull a model offline on this record"):
        services.suspend_model(frontier_model=unknown, actor=world["doc_approver"], **BASIS)


def test_legal_basis_and_findings_are_required(world):
    approved(world)
    with pytest.raises(PortalError) as error:
        services.suspend_model(
            frontier_model=world.frontier_model, actor=world["doc_approver"], legal_basis=" ", findings=""
        )
    assert error.value.field == "legal_basis"
    assert len(error.value.messages) == 2
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW


# ---------------------------------------------------------------------------------------------
# The cascade


def test_suspension_suspends_the_model_and_every_active_grant_and_holds_open_requests(world):
    # given two active grants, a revoked one, an expired one, an open request and another model's grant
    first, second = approved(world), approved(world)
    revoked = approved(world)
    services.revoke_grant(grant=revoked, actor=world["doc_approver"], **BASIS)
    expired = approved(world)
    open_request = submitted(world, partner_customer=new_customer(world))
    other_model = FrontierModelFactory(vendor=world.vendor, release_phase=Phase.LIMITED_PREVIEW)
    elsewhere = approved(world, frontier_model=other_model)
    with time_machine.travel(timezone.localtime() + timedelta(days=400)):
        services.expire_lapsed_grants()
    assert refresh(expired).status == Grant.Status.EXPIRED
    for g in (first, second, elsewhere):  # the expiry run above lapsed them too; make them current
        g.refresh_from_db()
    Grant.objects.filter(pk__in=[first.pk, second.pk, elsewhere.pk]).update(status=Grant.Status.ACTIVE)

    # when DOC's approver pulls the model offline
    action = suspend(world, expected_grants=2, expected_requests=1)

    # then the model and exactly the active grants are suspended, marked with the action
    assert refresh(world.frontier_model).release_phase == Phase.SUSPENDED
    assert action.phase_before == Phase.LIMITED_PREVIEW
    assert (action.grants_affected, action.requests_affected) == (2, 1)
    for grant in (first, second):
        grant = refresh(grant)
        assert grant.status == Grant.Status.SUSPENDED
        assert grant.suspended_by == action
        assert "pulled offline" in grant.status_reason
    assert refresh(revoked).status == Grant.Status.REVOKED
    assert refresh(expired).status == Grant.Status.EXPIRED
    assert refresh(elsewhere).status == Grant.Status.ACTIVE
    # the open request is on hold with its clocks stopped
    held = refresh(open_request)
    assert held.on_hold
    assert held.held_by == action
    assert held.version == open_request.version + 1
    assert all(r.clock_stopped for r in held.referrals.all())


def test_suspension_notifies_the_vendor_team_and_the_agencies_concerned(world):
    approved(world)
    submitted(world, partner_customer=new_customer(world, sector="energy"))  # refers CISA too
    action = suspend(world)
    expected_vendor = {world["officer"].email, world["vendor_admin"].email}
    agency_people = {
        world[p].email for p in ("oncd_approver", "ostp_approver", "cisa_approver", "doc_reviewer")
    }
    got = recipients("model_suspended")
    assert expected_vendor <= got
    assert agency_people <= got
    assert world["viewer"].email not in got  # viewers are not the compliance team
    assert world["dod_approver"].email not in got  # DOD holds nothing for the model
    assert world["doc_approver"].email not in got  # the actor
    vendor_mail = Notification.objects.get(event="model_suspended", recipient=world["officer"])
    # the vendor's message leads to what it must do now: attest the cut-off, customer by customer
    assert vendor_mail.link == f"/vendor/enforcement/{action.pk}/attest/"
    assert "1 grant suspended" in vendor_mail.subject


def test_suspension_writes_history_with_the_actor_and_the_basis_for_every_change(world):
    grants = [approved(world) for _ in range(3)]
    open_request = submitted(world, partner_customer=new_customer(world))
    action = suspend(world)
    for grant in grants:
        record = grant.history.order_by("-history_id").first()
        assert record.status == Grant.Status.SUSPENDED
        assert record.history_user == world["doc_approver"]
        assert f"by DOC, action #{action.pk}" in record.history_change_reason
        assert BASIS["legal_basis"] in record.status_reason  # the full basis, on the grant itself
    model_record = world.frontier_model.history.order_by("-history_id").first()
    assert model_record.release_phase == Phase.SUSPENDED
    assert f"by DOC, action #{action.pk}: Executive Order 14999" in model_record.history_change_reason
    assert model_record.history_change_reason.endswith(BASIS["legal_basis"])  # the basis, whole
    assert model_record.history_user == world["doc_approver"]
    request_record = open_request.history.order_by("-history_id").first()
    assert request_record.on_hold is True
    assert "On hold" in request_record.history_change_reason
    referral_record = referral(open_request, "DOC").history.order_by("-history_id").first()
    assert "Clock stopped" in referral_record.history_change_reason
    assert action.history.get(history_type="+").history_user == world["doc_approver"]


def test_a_suspended_model_cannot_be_suspended_again_and_refuses_new_requests(world):
    approved(world)
    suspend(world)
    with pytest.raises(PortalError, match="already suspended"):
        suspend(world)
    with pytest.raises(PortalError, match="limited preview"):
        services.create_draft_request(
            actor=world["officer"], frontier_model=world.frontier_model, partner_customer=new_customer(world)
        )


def test_stale_confirmation_figures_refuse_the_suspension(world):
    approved(world)
    with pytest.raises(PortalError, match="changed"):
        suspend(world, expected_grants=2)
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    assert not EnforcementAction.objects.exists()


def test_a_request_on_hold_cannot_be_decided(world):
    access_request = all_concur(world, submitted(world))
    suspend(world)
    with pytest.raises(PortalError, match="on hold"):
        services.record_decision(access_request=refresh(access_request), actor=world["doc_approver"])


def test_a_question_answered_during_the_hold_leaves_the_clocks_stopped(world):
    access_request = submitted(world)
    question = services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Why?"
    )
    suspend(world)
    services.answer_information_request(
        information_request=question, actor=world["officer"], answer="Because."
    )
    assert all(r.clock_stopped for r in refresh(access_request).referrals.all())


# ---------------------------------------------------------------------------------------------
# Lifting


def test_lift_restores_the_phase_and_the_grants_the_suspension_took(world):
    first, second = approved(world), approved(world)
    suspended = suspend(world)
    lifted = lift(world, expected_grants=2)
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    assert refresh(suspended).status == EnforcementAction.Status.LIFTED
    assert lifted.reverses == suspended
    assert lifted.grants_affected == 2
    for grant in (first, second):
        grant = refresh(grant)
        assert grant.status == Grant.Status.ACTIVE
        assert "lifted" in grant.status_reason
        assert grant.history.order_by("-history_id").first().history_user == world["doc_approver"]
    assert recipients("model_suspension_lifted") >= {world["officer"].email, world["oncd_approver"].email}


def test_a_grant_revoked_while_suspended_stays_revoked_when_the_suspension_is_lifted(world):
    # given a suspended model with two suspended grants
    kept, revoked = approved(world), approved(world)
    suspend(world)
    # when one grant is revoked during the suspension, and the suspension is then lifted
    services.revoke_grant(grant=refresh(revoked), actor=world["doc_approver"], **BASIS)
    lift(world)
    # then only the other grant comes back
    assert refresh(kept).status == Grant.Status.ACTIVE
    assert refresh(revoked).status == Grant.Status.REVOKED


def test_a_grant_whose_term_ran_out_during_the_suspension_expires_when_it_is_lifted(world):
    short = approved(world)
    Grant.objects.filter(pk=short.pk).update(valid_to=timezone.localdate() + timedelta(days=3))
    longer = approved(world)
    suspend(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=10)):
        services.expire_lapsed_grants()  # the job leaves suspended grants alone
        assert refresh(short).status == Grant.Status.SUSPENDED
        lift(world)
    assert refresh(short).status == Grant.Status.EXPIRED
    assert refresh(longer).status == Grant.Status.ACTIVE


def test_lift_only_touches_grants_of_that_suspension(world):
    # a grant suspended by an earlier, lifted suspension and revoked since is not restored by a later lift
    first = approved(world)
    suspend(world)
    lift(world)
    second_action = suspend(world)
    services.revoke_grant(grant=refresh(first), actor=world["doc_approver"], **BASIS)
    later = lift(world)
    assert later.reverses == second_action
    assert refresh(first).status == Grant.Status.REVOKED


def test_lift_resumes_held_requests_and_adds_the_stopped_days(world):
    access_request = submitted(world)
    due_before = referral(access_request, "DOC").due_date
    suspend(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=6)):
        lift(world)
    resumed = refresh(access_request)
    assert not resumed.on_hold
    doc = referral(resumed, "DOC")
    assert not doc.clock_stopped
    assert doc.due_date == due_before + timedelta(days=6)
    assert doc.paused_days == 6
    # and it can be decided again
    all_concur(world, resumed)
    services.record_decision(access_request=refresh(resumed), actor=world["doc_approver"])
    assert refresh(resumed).status == AccessRequest.Status.APPROVED


def test_lift_keeps_the_clocks_stopped_while_a_question_is_open(world):
    access_request = submitted(world)
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    suspend(world)
    lift(world)
    assert all(r.clock_stopped for r in refresh(access_request).referrals.all())


def test_lift_refuses_a_model_that_is_not_suspended(world):
    approved(world)
    with pytest.raises(PortalError, match="not suspended"):
        lift(world)


def test_a_model_suspended_in_review_returns_to_review(world):
    frontier_model = world.frontier_model
    approved(world)
    FrontierModel.objects.filter(pk=frontier_model.pk).update(release_phase=Phase.GENERAL_AVAILABILITY)
    suspend(world)
    lift(world)
    assert refresh(frontier_model).release_phase == Phase.GENERAL_AVAILABILITY


# ---------------------------------------------------------------------------------------------
# Revoking one grant


def test_revoke_is_immediate_and_leaves_a_record(world):
    grant = approved(world)
    action = services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    grant = refresh(grant)
    assert grant.status == Grant.Status.REVOKED
    assert action.kind == EnforcementAction.Kind.REVOKE_GRANT
    assert action.grant == grant
    record = grant.history.order_by("-history_id").first()
    assert record.history_user == world["doc_approver"]
    assert "Revoked by DOC" in record.history_change_reason
    assert world["officer"].email in recipients("grant_revoked")
    assert world["oncd_approver"].email in recipients("grant_revoked")
    with pytest.raises(PortalError, match="already revoked"):
        services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)


def test_an_expired_grant_cannot_be_revoked(world):
    grant = approved(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=400)):
        services.expire_lapsed_grants()
    with pytest.raises(PortalError, match="already expired"):
        services.revoke_grant(grant=refresh(grant), actor=world["doc_approver"], **BASIS)


def test_the_vendor_sees_its_actions_and_the_agencies_see_those_concerning_their_cases(world):
    from portal import permissions

    approved(world)
    action = suspend(world)
    assert permissions.has_object_permission(world["viewer"], action)
    assert permissions.has_object_permission(world["oncd_approver"], action)  # referred on the model
    assert not permissions.has_object_permission(world["dod_approver"], action)  # no case of it (README)
    assert not permissions.has_object_permission(world["other_officer"], action)


# ---------------------------------------------------------------------------------------------
# The preview cap at decision time (a change to the review's own decision)


def test_the_preview_cap_is_enforced_when_deciding(world):
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(preview_customer_cap=1)
    first = approved(world)
    second = all_concur(world, submitted(world, partner_customer=new_customer(world)))
    with pytest.raises(PortalError, match="at most 1 partner customers"):
        services.record_decision(access_request=second, actor=world["doc_approver"])
    assert refresh(second).status == AccessRequest.Status.IN_REVIEW
    # a renewal for a customer already cleared does not count as a new one
    renewal = services.request_grant_renewal(grant=first, actor=world["officer"])
    from approvals.tests.factories import document

    services.attach_request_document(access_request=renewal, actor=world["officer"], uploaded_file=document())
    renewal = services.submit_request(access_request=refresh(renewal), actor=world["officer"])
    services.record_decision(access_request=all_concur(world, renewal), actor=world["doc_approver"])
    assert refresh(renewal).status == AccessRequest.Status.APPROVED


def test_a_held_request_is_not_worked_until_the_suspension_is_lifted(world):
    # the review is paused while the model is suspended: positions and questions wait (issue 16)
    access_request = submitted(world)
    suspend(world)
    with pytest.raises(PortalError, match=r"is on hold: .* You cannot draft a position until the suspension"):
        sign(world, refresh(access_request), "ONCD")
    assert referral(access_request, "ONCD").status == Referral.Status.OPEN
