"""The review services, from agencies to a submitted request: agencies, routing, drafts, submission
and withdrawal; happy paths, refusals, and what each leaves behind (the review itself:
``test_services_review.py``)."""

from datetime import date

import pytest
import time_machine

from approvals import services
from approvals.models import (
    AccessRequest,
    InformationRequest,
    Referral,
    RoutingRule,
    TrackingCounter,
)
from approvals.tests.factories import (
    document,
    draft,
    new_customer,
    official,
    referral,
    refresh,
    submitted,
)
from approvals.tests.service_checks import last_history, noon, notified
from portal import permissions
from portal.accounts.models import Organisation, Role
from portal.accounts.services import system_user
from portal.errors import PortalError
from portal.tests.factories import OrganisationFactory, UserFactory
from vendors.choices import Sector
from vendors.models import FrontierModel, Vendor
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db


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
