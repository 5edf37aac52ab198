"""Pre-release review, designation, incidents, renewal and expiry: each verb by each role."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from approvals import services
from approvals.models import (
    AccessRequest,
    EnforcementAction,
    Grant,
    IncidentReport,
    PrereleaseReview,
    Referral,
    ReviewFinding,
    RoutingRule,
)
from approvals.tests.enforcement_helpers import BASIS, approved
from approvals.tests.factories import new_customer, referral, refresh, submitted
from portal import permissions
from portal.errors import PortalError
from portal.notifications.models import Notification
from vendors.models import FrontierModel, Vendor
from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase
NOT_LEAD_APPROVERS = [
    "doc_reviewer",
    "doc_admin",
    "oncd_approver",
    "officer",
    "viewer",
    "auditor",
    "portal_admin",
]
NOT_VENDOR_ACTORS = ["viewer", "other_officer", "doc_approver", "auditor", "portal_admin"]


def recipients(event):
    return set(Notification.objects.filter(event=event).values_list("recipient__email", flat=True))


def last_reason(obj):
    record = obj.history.order_by("-history_id").first()
    return record.history_user, record.history_change_reason


# ---------------------------------------------------------------------------------------------
# Pre-release review


@pytest.fixture
def registered(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3e26)
    EvidenceDocumentFactory(vendor=world.vendor, frontier_model=frontier_model)
    return frontier_model


def submit(world, frontier_model, who="officer"):
    return services.submit_for_prerelease_review(
        frontier_model=frontier_model, actor=world[who], summary="Red team found limited uplift; mitigated."
    )


def test_submission_puts_the_model_in_review_with_its_evidence_and_tells_every_agency(world, registered):
    review = submit(world, registered)
    assert refresh(registered).release_phase == Phase.IN_REVIEW
    assert review.status == PrereleaseReview.Status.IN_REVIEW
    assert list(review.evidence.all()) == list(registered.evidence_documents.all())
    user, reason = last_reason(refresh(registered))
    assert user == world["officer"]
    assert "Submitted for pre-release review" in reason
    # every agency's officials may read the review and the model; the vendor's members the review
    for who in ("dod_approver", "oncd_reviewer", "viewer"):
        assert permissions.has_object_permission(world[who], review)
    assert permissions.has_object_permission(world["dod_approver"], registered)
    assert not permissions.has_object_permission(world["other_officer"], review)
    assert {world["dod_approver"].email, world["doc_reviewer"].email} <= recipients(
        "prerelease_review_submitted"
    )


@pytest.mark.parametrize("who", NOT_VENDOR_ACTORS)
def test_only_the_vendors_officers_submit(world, registered, who):
    with pytest.raises(PortalError):
        submit(world, registered, who)
    assert refresh(registered).release_phase == Phase.REGISTERED


def test_submission_refusals(world, registered):
    bare = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3e26)
    with pytest.raises(PortalError, match="Attach the model's evidence"):
        submit(world, bare)
    small = FrontierModelFactory(vendor=world.vendor, training_compute_flop=1e24)
    with pytest.raises(PortalError, match="Not frontier"):
        submit(world, small)
    with pytest.raises(PortalError) as error:
        services.submit_for_prerelease_review(frontier_model=registered, actor=world["officer"], summary=" ")
    assert error.value.field == "summary"
    submit(world, registered)
    with pytest.raises(PortalError, match="only a registered model"):
        submit(world, registered)


def test_findings_by_any_agency_official_and_never_by_vendors_or_auditors(world, registered):
    review = submit(world, registered)
    finding = services.record_review_finding(
        review=review,
        actor=world["oncd_reviewer"],
        text="Uplift is limited.",
        recommendation="clear_limited_preview",
    )
    assert finding.agency == world.agency("ONCD")
    assert world["doc_approver"].email in recipients("prerelease_finding_recorded")
    for who in ("officer", "auditor", "portal_admin", "doc_admin"):
        with pytest.raises(PortalError):
            services.record_review_finding(review=review, actor=world[who], text="x")
    with pytest.raises(PortalError) as error:
        services.record_review_finding(review=review, actor=world["dod_approver"], text="  ")
    assert error.value.field == "text"
    assert ReviewFinding.objects.count() == 1


@pytest.mark.parametrize("who", NOT_LEAD_APPROVERS)
def test_only_lead_approvers_clear(world, registered, who):
    submit(world, registered)
    for clear in (services.clear_for_limited_preview, services.clear_for_general_availability):
        with pytest.raises(PortalError, match="lead agency"):
            clear(frontier_model=registered, actor=world[who], basis="Fine.")
    with pytest.raises(PortalError, match="lead agency"):
        services.decline_clearance(frontier_model=registered, actor=world[who], basis="No.")
    assert refresh(registered).release_phase == Phase.IN_REVIEW


def test_clearance_for_limited_preview_with_a_cap_then_general_availability(world, registered):
    review = submit(world, registered)
    services.clear_for_limited_preview(
        frontier_model=registered,
        actor=world["doc_approver"],
        basis="Mitigations verified.",
        preview_customer_cap=3,
    )
    model = refresh(registered)
    assert (model.release_phase, model.preview_customer_cap) == (Phase.LIMITED_PREVIEW, 3)
    review = refresh(review)
    assert review.status == PrereleaseReview.Status.CLEARED_LIMITED_PREVIEW
    assert review.basis == "Mitigations verified."
    user, reason = last_reason(model)
    assert user == world["doc_approver"]
    assert reason.startswith("Cleared for limited preview, at most 3 partner customers by DOC")
    assert world["officer"].email in recipients("model_cleared")
    # then the vendor asks for general availability; the model stays in preview meanwhile
    second = submit(world, model)
    assert second.for_general_availability
    assert refresh(registered).release_phase == Phase.LIMITED_PREVIEW
    services.clear_for_general_availability(
        frontier_model=registered, actor=world["doc_approver"], basis="Ok."
    )
    assert refresh(registered).release_phase == Phase.GENERAL_AVAILABILITY


def test_clearance_refusals(world, registered):
    with pytest.raises(PortalError, match="may not clear it"):  # never submitted: unknown to the agencies
        services.clear_for_limited_preview(frontier_model=registered, actor=world["doc_approver"], basis="x")
    submit(world, registered)
    with pytest.raises(PortalError) as error:
        services.clear_for_limited_preview(frontier_model=registered, actor=world["doc_approver"], basis=" ")
    assert error.value.field == "basis"
    with pytest.raises(PortalError) as error:
        services.clear_for_limited_preview(
            frontier_model=registered, actor=world["doc_approver"], basis="x", preview_customer_cap=0
        )
    assert error.value.field == "preview_customer_cap"
    services.clear_for_limited_preview(frontier_model=registered, actor=world["doc_approver"], basis="x")
    with pytest.raises(PortalError, match="no pre-release review open"):
        services.clear_for_general_availability(
            frontier_model=registered, actor=world["doc_approver"], basis="x"
        )


def test_not_cleared_returns_the_model_to_registered(world, registered):
    review = submit(world, registered)
    services.decline_clearance(
        frontier_model=registered, actor=world["doc_approver"], basis="Uplift too high."
    )
    assert refresh(registered).release_phase == Phase.REGISTERED
    assert refresh(review).status == PrereleaseReview.Status.NOT_CLEARED
    assert world["officer"].email in recipients("model_not_cleared")
    submit(world, registered)  # and it may be submitted again


# ---------------------------------------------------------------------------------------------
# Designation


def designate(world, **kwargs):
    return services.designate_supply_chain_risk(
        vendor=world.vendor, actor=world["doc_approver"], **BASIS, **kwargs
    )


@pytest.mark.parametrize("who", NOT_LEAD_APPROVERS)
def test_only_lead_approvers_designate_or_rescind(world, who):
    submitted(world)
    with pytest.raises(PortalError):
        services.designate_supply_chain_risk(vendor=world.vendor, actor=world[who], **BASIS)
    designate(world)
    with pytest.raises(PortalError):
        services.rescind_designation(vendor=world.vendor, actor=world[who], **BASIS)
    assert refresh(world.vendor).is_supply_chain_risk


def test_designation_refers_open_requests_to_dod_with_the_same_clock_and_permissions(world):
    # given an open request in review, one waiting on a question, a decided one and a draft
    in_review = submitted(world)
    asked = submitted(world, partner_customer=new_customer(world))
    services.issue_information_request(access_request=asked, actor=world["doc_reviewer"], question="Q?")
    decided = approved(world)
    from approvals.tests.factories import draft

    pending = draft(world, partner_customer=new_customer(world))

    # when the vendor is designated
    with time_machine.travel(timezone.localtime() + timedelta(days=2)):
        action = designate(world, expected_requests=2)
        today = timezone.localdate()

    # then each open request gets DOD's referral, due in 30 days, the rule's reason, DOD may read it
    assert action.requests_affected == 2
    assert action.respond_by == today + timedelta(days=30)
    for access_request in (in_review, asked):
        dod = referral(access_request, "DOD")
        assert dod.required
        assert dod.due_date == today + timedelta(days=30)
        assert "Vendor designated a supply-chain risk" in dod.routing_reason
        assert permissions.has_object_permission(world["dod_approver"], access_request)
        assert permissions.has_object_permission(world["dod_approver"], access_request.partner_customer)
    assert not referral(in_review, "DOD").clock_stopped
    assert referral(asked, "DOD").clock_stopped  # a question is open: its clock starts stopped
    assert not Referral.objects.filter(
        access_request__in=[decided.access_request, pending], agency__code="DOD"
    ).exists()
    # the vendor is marked, told, and DOD is notified of the referrals
    vendor = refresh(world.vendor)
    assert vendor.status == Vendor.Status.SUPPLY_CHAIN_RISK
    assert vendor.designated_by == world["doc_approver"]
    assert vendor.designation_legal_basis == BASIS["legal_basis"]
    assert world["officer"].email in recipients("vendor_designated")
    assert (
        Notification.objects.filter(event="referral_received", recipient=world["dod_approver"]).count() == 2
    )
    # and the request's timeline tells the vendor
    _, reason = last_reason(refresh(in_review))
    assert reason.startswith("Referred also to DOD")


def test_a_request_submitted_after_designation_routes_to_dod(world):
    submitted(world)
    designate(world)
    access_request = submitted(world, partner_customer=new_customer(world))
    assert access_request.referrals.filter(agency__code="DOD").exists()


def test_designation_uses_only_the_supply_chain_rule(world):
    # a rule added after submission is not applied to open requests by the designation
    access_request = submitted(world)
    RoutingRule.objects.create(agency=world.agency("STATE"), condition=RoutingRule.Condition.ALWAYS)
    designate(world)
    codes = set(refresh(access_request).referrals.values_list("agency__code", flat=True))
    assert "DOD" in codes
    assert "STATE" not in codes


def test_designation_refusals_and_stale_figures(world):
    with pytest.raises(PortalError, match="none of this vendor's models is known"):
        designate(world)
    submitted(world)
    with pytest.raises(PortalError, match="changed"):
        designate(world, expected_requests=5)
    assert not refresh(world.vendor).is_supply_chain_risk
    designate(world)
    with pytest.raises(PortalError, match="already designated"):
        designate(world)


def test_the_vendor_answers_once_within_the_window(world):
    submitted(world)
    action = designate(world)
    for who in ("viewer", "other_officer", "doc_approver"):
        with pytest.raises(PortalError):
            services.respond_to_designation(action=action, actor=world[who], response="No.")
    with pytest.raises(PortalError) as error:
        services.respond_to_designation(action=action, actor=world["officer"], response=" ")
    assert error.value.field == "response"
    services.respond_to_designation(
        action=action, actor=world["officer"], response="We dispute the findings."
    )
    action = refresh(action)
    assert action.vendor_response == "We dispute the findings."
    assert action.responded_by == world["officer"]
    assert world["doc_approver"].email in recipients("designation_response")
    with pytest.raises(PortalError, match="cannot be changed"):
        services.respond_to_designation(action=action, actor=world["vendor_admin"], response="More.")


def test_the_window_to_answer_closes(world):
    submitted(world)
    action = designate(world)
    with (
        time_machine.travel(timezone.localtime() + timedelta(days=31)),
        pytest.raises(PortalError, match="closed"),
    ):
        services.respond_to_designation(action=action, actor=world["officer"], response="Late.")


def test_rescinding_restores_the_vendor_and_keeps_referrals_under_way(world):
    access_request = submitted(world)
    designation = designate(world)
    rescission = services.rescind_designation(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    vendor = refresh(world.vendor)
    assert vendor.status == Vendor.Status.ACTIVE
    assert vendor.designated_at is None
    assert refresh(designation).status == EnforcementAction.Status.RESCINDED
    assert rescission.reverses == designation
    assert referral(access_request, "DOD").status == Referral.Status.OPEN
    assert world["officer"].email in recipients("vendor_designation_rescinded")
    assert (
        not submitted(world, partner_customer=new_customer(world))
        .referrals.filter(agency__code="DOD")
        .exists()
    )
    with pytest.raises(PortalError, match="not designated"):
        services.rescind_designation(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    user, reason = last_reason(vendor)
    assert user == world["doc_approver"]
    assert reason.startswith(f"Designation rescinded by DOC, action #{rescission.pk}")


# ---------------------------------------------------------------------------------------------
# Incidents


def report(world, severity="serious", who="officer", **kwargs):
    values = {
        "category": "misuse_other",
        "severity": severity,
        "description": "A customer's account was used to generate phishing kits.",
        "detected_on": timezone.localdate(),
    }
    values.update(kwargs)
    return services.report_incident(frontier_model=world.frontier_model, actor=world[who], **values)


@pytest.mark.parametrize(
    ("severity", "days"), [("critical_infrastructure", 2), ("security_breach", 5), ("serious", 15)]
)
def test_the_incident_clock_depends_on_the_severity(world, severity, days):
    incident = report(world, severity=severity)
    assert incident.due_on == timezone.localdate() + timedelta(days=days)
    assert incident.status == IncidentReport.Status.INITIAL


def test_the_clock_is_settable(world, settings):
    settings.INCIDENT_REPORT_DAYS = {"critical_infrastructure": 1}
    assert report(world, severity="critical_infrastructure").due_on == timezone.localdate() + timedelta(
        days=1
    )
    assert report(world, severity="serious").due_on == timezone.localdate() + timedelta(days=15)


def test_an_incident_is_shared_with_the_agencies_and_told_to_those_concerned(world):
    grant = approved(world)
    incident = report(world, affected_customers=[grant.partner_customer])
    assert list(incident.affected_customers.all()) == [grant.partner_customer]
    assert permissions.has_object_permission(world["dod_approver"], incident)
    assert permissions.has_object_permission(world["viewer"], incident)
    assert not permissions.has_object_permission(world["other_officer"], incident)
    got = recipients("incident_reported")
    assert {world["doc_approver"].email, world["oncd_approver"].email} <= got
    assert world["dod_approver"].email not in got  # holds nothing for the model


@pytest.mark.parametrize("who", NOT_VENDOR_ACTORS)
def test_only_the_vendors_officers_report(world, who):
    with pytest.raises(PortalError):
        report(world, who=who)
    assert not IncidentReport.objects.exists()


def test_incident_refusals(world):
    with pytest.raises(PortalError) as error:
        report(world, category="", severity="", description="", detected_on=None)
    assert len(error.value.messages) == 4
    with pytest.raises(PortalError, match="future"):
        report(world, detected_on=timezone.localdate() + timedelta(days=1))
    foreign = new_customer(world)
    foreign.vendor = world.other_vendor
    with pytest.raises(PortalError, match="your own"):
        report(world, affected_customers=[foreign])


def test_an_initial_report_is_completed_later(world):
    incident = report(world)
    with pytest.raises(PortalError) as error:
        services.complete_incident_report(
            incident=incident, actor=world["officer"], root_cause="", remediation=""
        )
    assert len(error.value.messages) == 2
    with pytest.raises(PortalError):
        services.complete_incident_report(
            incident=incident, actor=world["viewer"], root_cause="a", remediation="b"
        )
    services.complete_incident_report(
        incident=incident,
        actor=world["vendor_admin"],
        root_cause="Stolen API key.",
        remediation="Key rotated.",
    )
    incident = refresh(incident)
    assert incident.is_complete
    assert incident.completed_by == world["vendor_admin"]
    assert not incident.completed_late
    assert world["doc_approver"].email in recipients("incident_completed")
    with pytest.raises(PortalError, match="was completed"):
        services.complete_incident_report(
            incident=incident, actor=world["officer"], root_cause="a", remediation="b"
        )
    assert [r.history_change_reason for r in incident.history.order_by("history_id")] == [
        f"Initial report filed by {world['officer'].full_name}.",
        f"Report completed by {world['vendor_admin'].full_name}.",
    ]


def test_a_late_completion_is_marked(world):
    incident = report(world, severity="critical_infrastructure")
    with time_machine.travel(timezone.localtime() + timedelta(days=5)):
        services.complete_incident_report(
            incident=incident, actor=world["officer"], root_cause="a", remediation="b"
        )
    assert refresh(incident).completed_late


def test_a_report_with_root_cause_and_remediation_is_complete_at_once(world):
    incident = report(world, root_cause="Insider.", remediation="Access removed.")
    assert incident.is_complete


# ---------------------------------------------------------------------------------------------
# Expiry and renewal


def test_the_scheduled_job_expires_grants_past_their_end(world):
    grant = approved(world)
    end = refresh(grant).valid_to
    with time_machine.travel(
        timezone.make_aware(timezone.datetime.combine(end, timezone.datetime.min.time()))
    ):
        assert services.expire_lapsed_grants() == 0  # the last valid day
    with time_machine.travel(
        timezone.make_aware(timezone.datetime.combine(end + timedelta(days=1), timezone.datetime.min.time()))
        + timedelta(hours=1)
    ):
        assert services.expire_lapsed_grants() == 1
    grant = refresh(grant)
    assert grant.status == Grant.Status.EXPIRED
    user, reason = last_reason(grant)
    assert user.role == "system"
    assert reason.startswith("Expired")


def test_renewal_opens_a_draft_prefilled_from_the_grant_and_linked_to_it(world):
    grant = approved(world)
    original = grant.access_request
    renewal = services.request_grant_renewal(grant=grant, actor=world["officer"])
    assert renewal.status == AccessRequest.Status.DRAFT
    assert renewal.renewal_of == grant
    assert (renewal.use_case, renewal.scope, renewal.requested_duration_days) == (
        original.use_case,
        original.scope,
        original.requested_duration_days,
    )
    assert (renewal.partner_customer, renewal.frontier_model) == (
        grant.partner_customer,
        grant.frontier_model,
    )
    _, reason = last_reason(renewal)
    assert reason.startswith(f"Renewal of the grant from {original}")
    with pytest.raises(PortalError, match="already under way"):
        services.request_grant_renewal(grant=grant, actor=world["officer"])


def test_an_expired_grant_can_be_renewed_but_not_a_revoked_or_suspended_one(world):
    expired, revoked, suspended = approved(world), approved(world), approved(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=400)):
        services.expire_lapsed_grants()
    assert services.request_grant_renewal(grant=refresh(expired), actor=world["vendor_admin"]).renewal_of_id
    Grant.objects.filter(pk=revoked.pk).update(status=Grant.Status.REVOKED)
    with pytest.raises(PortalError, match="revoked grant"):
        services.request_grant_renewal(grant=refresh(revoked), actor=world["officer"])
    Grant.objects.filter(pk=suspended.pk).update(status=Grant.Status.SUSPENDED)
    with pytest.raises(PortalError, match="suspended"):
        services.request_grant_renewal(grant=refresh(suspended), actor=world["officer"])


class TestWhoMayRenew:
    @pytest.mark.parametrize("who", NOT_VENDOR_ACTORS)
    def test_only_the_vendors_officers_renew(self, approved_once, world, who):
        grant = Grant.objects.get(pk=approved_once)
        refusal = "Viewers can follow" if who == "viewer" else "Only the vendor's compliance team"
        with pytest.raises(PortalError, match=refusal):
            services.request_grant_renewal(grant=grant, actor=world[who])
        assert not AccessRequest.objects.filter(renewal_of=grant).exists()


# ---------------------------------------------------------------------------------------------
# Reminders


def test_reminders_for_incident_reports_and_designation_windows(world):
    submitted(world)
    incident = report(world, severity="critical_infrastructure")  # due in 2 days
    designation = designate(world)  # 30 days to answer
    today = timezone.localdate()
    assert services.send_enforcement_reminders(today=today) == 0
    # the day before it is due, then each day it is late, once a day
    tomorrow = today + timedelta(days=1)
    assert services.send_enforcement_reminders(today=tomorrow) == 2  # officer and admin
    assert services.send_enforcement_reminders(today=tomorrow) == 0
    assert services.send_enforcement_reminders(today=today + timedelta(days=4)) == 2
    assert "overdue" in Notification.objects.filter(event="incident_report_due").latest("pk").subject
    # a complete report is no longer reminded
    services.complete_incident_report(
        incident=incident, actor=world["officer"], root_cause="a", remediation="b"
    )
    assert services.send_enforcement_reminders(today=today + timedelta(days=5)) == 0
    # a week before the window closes, and the day before; not once answered
    assert services.send_enforcement_reminders(today=designation.respond_by - timedelta(days=7)) == 2
    services.respond_to_designation(action=designation, actor=world["officer"], response="We dispute it.")
    assert services.send_enforcement_reminders(today=designation.respond_by - timedelta(days=1)) == 0
    assert recipients("designation_response_due") == {world["officer"].email, world["vendor_admin"].email}
