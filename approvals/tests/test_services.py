"""The review services: happy paths, refusals, and what each leaves behind."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import timezone

from approvals import services
from approvals.models import (
    AccessRequest,
    Condition,
    Decision,
    Escalation,
    Grant,
    InformationRequest,
    IntentToDeny,
    InternalNote,
    Position,
    Referral,
    RoutingRule,
    TrackingCounter,
)
from approvals.tests.factories import (
    all_concur,
    document,
    draft,
    new_customer,
    official,
    referral,
    refresh,
    sign,
    submitted,
)
from portal import permissions
from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.notifications.models import Notification
from portal.tests.factories import OrganisationFactory, UserFactory
from vendors.choices import Sector
from vendors.models import FrontierModel, PartnerCustomer, Vendor
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db


def noon(day):
    """Midday in the portal's time zone on ``day``, so that the local date is ``day``."""
    return datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.TIME_ZONE))


def notified(event, user=None):
    rows = Notification.objects.filter(event=event)
    if user is not None:
        rows = rows.filter(recipient=user)
    return rows


def last_history(obj):
    return obj.history.order_by("-history_id").first()


# ---------------------------------------------------------------------------------------------
# Agencies


def test_create_agency_makes_its_officials_group_and_puts_existing_officials_in_it():
    organisation = OrganisationFactory(kind=Organisation.Kind.AGENCY, name="Department of Energy")
    person = UserFactory(organisation=organisation, role=Role.AGENCY_REVIEWER)
    agency = services.create_agency(
        organisation=organisation, code="doe", actor=system_user(), reason="New agency"
    )
    assert agency.code == "DOE"
    assert agency.name == "Department of Energy"
    assert person.groups.filter(pk=agency.officials_group.pk).exists()
    record = last_history(agency)
    assert record.history_change_reason == "New agency"


def test_create_agency_refusals(world):
    admin = world["portal_admin"]
    with pytest.raises(PortalError, match="Only portal administrators"):
        services.create_agency(
            organisation=OrganisationFactory(kind=Organisation.Kind.AGENCY),
            code="X",
            actor=world["doc_approver"],
            reason="r",
        )
    with pytest.raises(PortalError, match="not an agency"):
        services.create_agency(organisation=world.vendor.organisation, code="X", actor=admin, reason="r")
    with pytest.raises(PortalError, match="already uses the code DOC"):
        services.create_agency(
            organisation=OrganisationFactory(kind=Organisation.Kind.AGENCY),
            code="doc",
            actor=admin,
            reason="r",
        )
    with pytest.raises(PortalError, match="already a lead agency"):
        services.create_agency(
            organisation=OrganisationFactory(kind=Organisation.Kind.AGENCY),
            code="NEW",
            is_lead=True,
            actor=admin,
            reason="r",
        )


def test_officials_follow_their_role_and_leave_the_group_when_deactivated(world):
    doc = world.agency("DOC")
    person = official(doc, Role.AGENCY_REVIEWER)
    assert person.groups.filter(pk=doc.officials_group.pk).exists()
    person.is_active = False
    person.save()
    assert not person.groups.filter(pk=doc.officials_group.pk).exists()
    vendor_person = world["officer"]
    services.sync_official_groups(vendor_person)
    assert not vendor_person.groups.filter(agency_officials__isnull=False).exists()


def test_default_routing_rules_are_created_once(world):
    assert RoutingRule.objects.count() == 6
    assert services.ensure_default_routing_rules(actor=system_user()) == []
    assert set(RoutingRule.objects.values_list("agency__code", "condition")) == {
        ("DOC", "always"),
        ("ONCD", "always"),
        ("OSTP", "always"),
        ("CISA", "critical_infrastructure"),
        ("STATE", "outside_united_states"),
        ("DOD", "supply_chain_risk"),
    }


# ---------------------------------------------------------------------------------------------
# Routing


def codes(access_request):
    return sorted(access_request.referrals.values_list("agency__code", flat=True))


def test_routing_defaults_refer_doc_oncd_and_ostp(world):
    assert codes(submitted(world)) == ["DOC", "ONCD", "OSTP"]


def test_routing_adds_cisa_for_critical_infrastructure_and_state_outside_the_us(world):
    customer = new_customer(world, sector=Sector.ENERGY, country="DE")
    access_request = submitted(world, partner_customer=customer)
    assert codes(access_request) == ["CISA", "DOC", "ONCD", "OSTP", "STATE"]
    assert referral(access_request, "CISA").routing_reason.startswith(
        "CISA: Customer in a critical-infrastructure"
    )


def test_routing_adds_dod_for_a_supply_chain_risk_vendor(world):
    Vendor.objects.filter(pk=world.vendor.pk).update(status=Vendor.Status.SUPPLY_CHAIN_RISK)
    assert codes(submitted(world)) == ["DOC", "DOD", "ONCD", "OSTP"]


def test_a_rule_change_never_reroutes_an_open_referral(world):
    # given a request referred under the rule "ONCD always"
    access_request = submitted(world)
    before = referral(access_request, "ONCD").routing_reason
    # when the portal administrators make ONCD optional and switch OSTP off
    oncd_rule = RoutingRule.objects.get(agency__code="ONCD")
    oncd_rule.required = False
    oncd_rule.note = "Optional from now on"
    oncd_rule.save()
    RoutingRule.objects.filter(agency__code="OSTP").update(is_active=False)
    # then the open referrals are untouched, and only new requests follow the new rules
    access_request = refresh(access_request)
    assert codes(access_request) == ["DOC", "ONCD", "OSTP"]
    assert referral(access_request, "ONCD").required is True
    assert referral(access_request, "ONCD").routing_reason == before
    newer = submitted(world, partner_customer=new_customer(world))
    assert codes(newer) == ["DOC", "ONCD"]
    assert referral(newer, "ONCD").required is False
    assert "Optional from now on" in referral(newer, "ONCD").routing_reason


def test_the_lead_agency_is_referred_even_without_a_rule(world):
    RoutingRule.objects.filter(agency__code="DOC").delete()
    access_request = submitted(world)
    assert "lead agency" in referral(access_request, "DOC").routing_reason
    assert referral(access_request, "DOC").required


# ---------------------------------------------------------------------------------------------
# Drafts


def test_create_draft_shares_it_with_the_vendor_team_only(world):
    access_request = draft(world, with_document=False)
    assert access_request.status == AccessRequest.Status.DRAFT
    assert access_request.tracking_number is None
    assert permissions.has_object_permission(world["viewer"], access_request, "view")
    assert permissions.has_object_permission(world["officer"], access_request, "change")
    assert not permissions.has_object_permission(world["viewer"], access_request, "change")
    for outsider in ("other_officer", "doc_approver", "oncd_approver"):
        assert not permissions.has_object_permission(world[outsider], access_request, "view")
    assert last_history(access_request).history_change_reason.startswith("Draft started by")
    assert last_history(access_request).history_user == world["officer"]


@pytest.mark.parametrize("who", ["viewer", "other_officer", "doc_approver", "auditor", "portal_admin"])
def test_create_draft_refuses_anyone_but_the_vendor_officers(world, who):
    with pytest.raises(PortalError):
        draft(world, actor=world[who], with_document=False)
    assert not AccessRequest.objects.exists()


@pytest.mark.parametrize(
    "phase",
    [p for p in FrontierModel.ReleasePhase.values if p != FrontierModel.ReleasePhase.LIMITED_PREVIEW],
)
def test_create_draft_needs_a_model_in_limited_preview(world, phase):
    model = FrontierModelFactory(vendor=world.vendor, release_phase=phase)
    with pytest.raises(PortalError, match="limited preview") as caught:
        draft(world, frontier_model=model, with_document=False)
    assert caught.value.field == "frontier_model"


def test_create_draft_needs_a_customer_of_the_same_vendor(world):
    foreign = PartnerCustomerFactory(vendor=world.other_vendor)
    with pytest.raises(PortalError, match="your own partner customers") as caught:
        draft(world, partner_customer=foreign, with_document=False)
    assert caught.value.field == "partner_customer"


def test_create_draft_refuses_a_duration_over_a_year(world):
    with pytest.raises(PortalError) as caught:
        draft(world, requested_duration_days=400, with_document=False)
    assert caught.value.field == "requested_duration_days"


def test_update_draft_changes_fields_and_raises_the_version(world):
    access_request = draft(world, with_document=False)
    version = access_request.version
    services.update_draft(
        access_request=access_request, actor=world["vendor_admin"], scope="10 seats", expected_version=version
    )
    access_request = refresh(access_request)
    assert access_request.scope == "10 seats"
    assert access_request.version == version + 1
    assert last_history(access_request).history_change_reason.startswith("Draft edited by")


def test_update_draft_refuses_a_stale_form(world):
    access_request = draft(world, with_document=False)
    stale = access_request.version
    services.update_draft(access_request=access_request, actor=world["officer"], scope="first")
    with pytest.raises(PortalError, match="changed while you were looking at it"):
        services.update_draft(
            access_request=access_request, actor=world["vendor_admin"], scope="second", expected_version=stale
        )
    assert refresh(access_request).scope == "first"


def test_update_draft_refuses_after_submission_and_for_viewers(world):
    access_request = draft(world, with_document=False)
    with pytest.raises(PortalError, match="Viewers"):
        services.update_draft(access_request=access_request, actor=world["viewer"], scope="x")
    access_request = submitted(world, partner_customer=new_customer(world))
    with pytest.raises(PortalError, match="cannot be edited"):
        services.update_draft(access_request=access_request, actor=world["officer"], scope="x")


def test_attach_document_checks_the_content_and_records_its_hash(world):
    access_request = draft(world, with_document=False)
    attached = services.attach_request_document(
        access_request=access_request, actor=world["officer"], uploaded_file=document(), title="End use"
    )
    assert attached.content_type == "text/plain"
    assert len(attached.sha256) == 64
    assert attached.title == "End use"
    with pytest.raises(PortalError, match="not a PDF or a plain-text"):
        services.attach_request_document(
            access_request=access_request,
            actor=world["officer"],
            uploaded_file=document("x.pdf", b"\x89PNG\r\n\x1a\n\x00\x00binary"),
        )
    assert access_request.documents.count() == 1


def test_discard_draft_removes_it_but_not_a_submitted_request(world):
    access_request = draft(world)
    services.discard_draft(access_request=access_request, actor=world["officer"])
    assert not AccessRequest.objects.filter(pk=access_request.pk).exists()
    assert AccessRequest.history.filter(id=access_request.pk, history_type="-").exists()
    access_request = submitted(world)
    with pytest.raises(PortalError, match="withdraw it instead"):
        services.discard_draft(access_request=access_request, actor=world["officer"])


# ---------------------------------------------------------------------------------------------
# Submission


def test_the_completeness_check_lists_every_defect_at_once(world):
    # given a draft with nothing filled in, for an unattested customer without a security contact
    customer = new_customer(world, attestation=False, security_contact_name="", intended_use="")
    access_request = services.create_draft_request(
        actor=world["officer"], frontier_model=world.frontier_model, partner_customer=customer
    )
    # when it is submitted
    with pytest.raises(PortalError) as caught:
        services.submit_request(access_request=access_request, actor=world["officer"])
    # then every defect is listed, and nothing was numbered, referred or frozen
    messages = caught.value.messages
    assert len(messages) == 7, messages
    for fragment in (
        "use case",
        "scope",
        "duration",
        "attested",
        "intended use",
        "security contact",
        "document",
    ):
        assert any(fragment in m for m in messages), fragment
    assert caught.value.message == "The request is not complete yet: 7 things to fix."
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.DRAFT
    assert not Referral.objects.exists()
    assert not TrackingCounter.objects.exists()
    assert refresh(customer).identity_frozen_at is None


def test_the_completeness_check_refuses_a_second_open_request_and_a_model_no_longer_in_preview(world):
    submitted(world)
    second = draft(world)
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(release_phase="suspended")
    with pytest.raises(PortalError) as caught:
        services.submit_request(access_request=second, actor=world["officer"])
    assert len(caught.value.messages) == 2
    assert any("already has an open request" in m for m in caught.value.messages)
    assert any("limited preview" in m for m in caught.value.messages)


def test_submit_numbers_refers_freezes_and_notifies(world):
    with time_machine.travel(noon(date(2026, 3, 10)), tick=False):
        access_request = submitted(world)
    assert access_request.tracking_number == "FAR-2026-000001"
    assert access_request.status == AccessRequest.Status.SUBMITTED
    assert access_request.submitted_at is not None
    # referrals: due 30 calendar days after referral
    for ref in access_request.referrals.all():
        assert ref.due_date == date(2026, 4, 9)
        assert ref.required
        assert ref.status == Referral.Status.OPEN
        assert last_history(ref).history_change_reason.startswith("Referred by routing")
    # the customer's identity is fixed
    assert refresh(world.partner_customer).identity_frozen_at is not None
    # referred agencies see the case and what it concerns; others do not
    for who in ("doc_reviewer", "oncd_approver", "ostp_approver"):
        user = world[who]
        assert permissions.has_object_permission(user, access_request, "view")
        assert permissions.has_object_permission(user, world.frontier_model, "view")
        assert permissions.has_object_permission(user, world.partner_customer, "view")
    assert not permissions.has_object_permission(world["cisa_approver"], access_request, "view")
    assert not permissions.has_object_permission(
        world["oncd_approver"], referral(access_request, "DOC"), "view"
    )
    # notifications: receipt to the compliance team (not viewers); referral notices to officials
    assert set(notified("request_submitted").values_list("recipient", flat=True)) == {
        world["officer"].pk,
        world["vendor_admin"].pk,
    }
    assert notified("referral_received", world["oncd_approver"]).count() == 1
    assert notified("referral_received", world["cisa_approver"]).count() == 0
    record = last_history(access_request)
    assert record.history_user == world["officer"]
    assert record.history_change_reason.startswith("Submitted by")


def test_tracking_numbers_are_sequential_per_year_and_never_reused(world):
    with time_machine.travel(noon(date(2026, 12, 31)), tick=False):
        first = submitted(world)
        services.withdraw_request(
            access_request=first, actor=world["officer"], reason="Customer changed plans"
        )
        second = submitted(world, partner_customer=new_customer(world))
    with time_machine.travel(noon(date(2027, 1, 1)), tick=False):
        third = submitted(world, partner_customer=new_customer(world))
    assert [first.tracking_number, second.tracking_number, third.tracking_number] == [
        "FAR-2026-000001",
        "FAR-2026-000002",
        "FAR-2027-000001",
    ]


def test_a_failed_submission_does_not_consume_a_number(world):
    incomplete = draft(world, with_document=False)
    with pytest.raises(PortalError):
        services.submit_request(access_request=incomplete, actor=world["officer"])
    assert submitted(world, partner_customer=new_customer(world)).tracking_number.endswith("000001")


@pytest.mark.parametrize("who", ["viewer", "other_officer", "doc_approver", "auditor"])
def test_submit_refuses_anyone_but_the_vendor_officers(world, who):
    access_request = draft(world)
    with pytest.raises(PortalError):
        services.submit_request(access_request=access_request, actor=world[who])
    assert refresh(access_request).status == AccessRequest.Status.DRAFT


def test_submit_twice_is_refused(world):
    access_request = submitted(world)
    with pytest.raises(PortalError, match="already been submitted"):
        services.submit_request(access_request=access_request, actor=world["officer"])


# ---------------------------------------------------------------------------------------------
# Withdrawal


def test_withdraw_closes_referrals_and_questions_and_tells_the_agencies(world):
    access_request = submitted(world)
    services.issue_information_request(
        access_request=access_request, actor=world["doc_approver"], question="Who?"
    )
    services.withdraw_request(
        access_request=access_request, actor=world["vendor_admin"], reason="No longer needed"
    )
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.WITHDRAWN
    assert access_request.closed_reason == "No longer needed"
    assert set(access_request.referrals.values_list("status", flat=True)) == {Referral.Status.CLOSED}
    assert access_request.information_requests.get().status == InformationRequest.Status.CLOSED
    assert notified("request_withdrawn", world["oncd_approver"]).count() == 1
    assert last_history(access_request).history_change_reason == (
        f"Withdrawn by {world['vendor_admin'].full_name}: No longer needed"
    )


def test_withdraw_needs_a_reason_and_is_refused_for_drafts(world):
    with pytest.raises(PortalError, match="discard it instead"):
        services.withdraw_request(access_request=draft(world), actor=world["officer"], reason="x")
    access_request = submitted(world, partner_customer=new_customer(world))
    with pytest.raises(PortalError) as caught:
        services.withdraw_request(access_request=access_request, actor=world["officer"], reason="  ")
    assert caught.value.field == "reason"


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
