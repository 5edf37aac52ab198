"""Amendments: a material fact changed while the agencies hold the record (issue 14, part A)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from approvals import policies, selectors, services
from approvals.models import Amendment, Grant, GrantFactsChange, Referral
from approvals.tests.factories import all_concur, refresh, submitted
from portal.audit.versions import version_of
from portal.errors import PortalError
from portal.notifications.models import Notification
from vendors.choices import Sector
from vendors.models import FrontierModel
from vendors.tests.factories import FrontierModelFactory

pytestmark = pytest.mark.django_db


def second_model(world):
    return FrontierModelFactory(vendor=world.vendor, release_phase=FrontierModel.ReleasePhase.LIMITED_PREVIEW)


def approved(world, **kwargs):
    access_request = all_concur(world, submitted(world, **kwargs))
    return services.record_decision(access_request=access_request, actor=world["doc_approver"]).grant


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def held(world):
    """The world's customer with an approved grant (first model) and an open request (second)."""
    grant = approved(world)
    open_request = submitted(world, frontier_model=second_model(world))
    return grant, open_request


def amend_sector(world, *, reason="The customer acquired a regional grid operator."):
    customer = refresh(world.partner_customer)
    return services.amend_partner_customer(
        partner_customer=customer,
        actor=world["officer"],
        reason=reason,
        expected_version=version_of(customer),
        sector=Sector.ENERGY,
    )


def amend_the_model_s_evaluation(world):
    """The officer amends the world's model's cyber-evaluation summary, with a reason."""
    return services.amend_frontier_model(
        frontier_model=refresh(world.frontier_model),
        actor=world["officer"],
        reason="New evaluation results.",
        cyber_evaluation_summary="Uplift for exploit development confirmed by a second red team.",
    )


def test_sector_change_under_review_refers_cisa_mails_it_and_marks_the_grant(
    world, held, client, django_capture_on_commit_callbacks
):
    grant, open_request = held
    assert not open_request.referrals.filter(agency__code="CISA").exists()

    # when Aurora's officer moves the customer into the energy sector
    with django_capture_on_commit_callbacks(execute=True):
        customer, amendment = amend_sector(world)

    # then the amendment is kept with what changed, why and who
    assert customer.sector == Sector.ENERGY
    assert amendment.changes == [
        {
            "field": "sector",
            "label": "Sector",
            "old": "Other (not a critical-infrastructure sector)",
            "new": "Energy",
        }
    ]
    assert amendment.reason == "The customer acquired a regional grid operator."
    assert amendment.amended_by == world["officer"]
    assert amendment.added_referrals == [[str(open_request), "CISA"]]
    # CISA has a required referral on the open request, with a running clock, and was mailed
    cisa = open_request.referrals.get(agency__code="CISA")
    assert cisa.required
    assert cisa.status == Referral.Status.OPEN
    assert cisa.clock_stopped_at is None
    assert "amended" in cisa.history.first().history_change_reason
    cisa_mail = [m for m in mail.outbox if world["cisa_approver"].email in m.to]
    assert any("New referral for CISA" in m.subject for m in cisa_mail)
    assert Notification.objects.filter(event="record_amended", recipient=world["oncd_approver"]).exists()
    # the grant of the other request is marked for the lead agency
    change = GrantFactsChange.objects.get(grant=grant)
    assert change.status == GrantFactsChange.Status.PENDING
    assert change.amendment == amendment
    assert Notification.objects.filter(event="record_amended", recipient=world["doc_approver"]).exists()

    # the case page shows the amendment, and the facts as submitted beside today's
    client.force_login(world["cisa_approver"])
    page = text(client.get(reverse("admin:approvals_accessrequest_change", args=[open_request.pk])))
    assert "Amendments since submission" in page
    assert "The customer acquired a regional grid operator." in page
    assert "Sector Other (not a critical-infrastructure sector) Energy" in page

    # DOC's dashboard shows the grant as "facts changed since approval"; CISA's does not
    client.force_login(world["doc_approver"])
    dashboard = text(client.get(reverse("admin:index")))
    assert "Facts changed since approval: 1 grant in force" in dashboard
    assert str(grant.access_request) in dashboard
    client.force_login(world["cisa_approver"])
    assert "Facts changed since approval" not in text(client.get(reverse("admin:index")))


def test_an_amendment_needs_a_reason_and_leaves_nothing_without_one(world, held):
    _, open_request = held
    with pytest.raises(PortalError, match=r"is an amendment: .* Say why the facts changed") as refused:
        amend_sector(world, reason="  ")
    assert refused.value.field == "reason"
    assert refresh(world.partner_customer).sector == Sector.OTHER
    assert not Amendment.objects.exists()
    assert not open_request.referrals.filter(agency__code="CISA").exists()


def test_a_change_to_a_record_nothing_holds_is_a_plain_edit(world):
    customer, amendment = amend_sector(world, reason="")
    assert amendment is None
    assert customer.sector == Sector.ENERGY
    assert not Amendment.objects.exists()


def test_a_change_to_facts_that_are_not_material_is_no_amendment(world, held):
    customer = refresh(world.partner_customer)
    _, amendment = services.amend_partner_customer(
        partner_customer=customer, actor=world["officer"], reason="", registration_id="EIN 12-3456789"
    )
    assert amendment is None
    assert not GrantFactsChange.objects.exists()


def test_model_capabilities_amended_mark_every_active_grant_of_the_model(world):
    grant = approved(world)
    model = refresh(world.frontier_model)
    _, amendment = services.amend_frontier_model(
        frontier_model=model,
        actor=world["officer"],
        reason="New evaluation found autonomous exploit chaining.",
        capability_summary="Autonomous exploit chaining across three hosts.",
    )
    assert amendment.frontier_model == model
    assert amendment.changes[0]["label"] == "Capability summary"
    assert GrantFactsChange.objects.filter(grant=grant, amendment=amendment).exists()


def test_viewers_and_other_vendors_cannot_amend(world, held):
    customer = refresh(world.partner_customer)
    for who in ("viewer", "other_officer"):
        with pytest.raises(PortalError):
            services.amend_partner_customer(
                partner_customer=customer, actor=world[who], reason="x", sector=Sector.ENERGY
            )
    assert not Amendment.objects.exists()


def test_the_lead_agency_confirms_the_grant_on_the_amended_facts(world, held, client):
    grant, _ = held
    amend_sector(world)
    grant = Grant.objects.get(pk=grant.pk)
    assert policies.can_confirm_grant_facts(world["doc_approver"], grant)
    for who in ("doc_reviewer", "oncd_approver", "auditor", "officer"):
        assert not policies.can_confirm_grant_facts(world[who], grant)
    with pytest.raises(PortalError, match="Only an approver of the lead agency"):
        services.confirm_grant_facts(grant=grant, actor=world["oncd_approver"], note="Fine.")

    # the button is on the case page, and its page confirms
    client.force_login(world["doc_approver"])
    case = reverse("admin:approvals_accessrequest_change", args=[grant.access_request_id])
    assert "Confirm the grant on the amended facts" in text(client.get(case))
    url = reverse("admin:approvals_accessrequest_confirm_facts", args=[grant.access_request_id])
    assert client.post(url, {"note": ""}).status_code == 200  # refused, the form shown again
    response = client.post(url, {"note": "Energy use is within the approved scope."})
    assert response.status_code == 302
    change = GrantFactsChange.objects.get(grant=grant)
    assert change.status == GrantFactsChange.Status.CONFIRMED
    assert change.resolved_by == world["doc_approver"]
    assert change.history.first().history_user == world["doc_approver"]
    assert not policies.can_confirm_grant_facts(world["doc_approver"], grant)
    assert client.get(url).status_code == 404
    assert selectors.grants_with_changed_facts(world["doc_approver"]).count() == 0


def test_the_letter_shows_the_facts_as_decided_beside_today(world, held, client):
    grant, _ = held
    amend_sector(world)
    client.force_login(world["officer"])
    letter = reverse("approvals:letter", args=[grant.access_request.tracking_number])
    page = text(client.get(letter))
    assert "Material facts as decided on" in page
    assert "1 material fact changed since the decision" in page
    client.force_login(world["doc_approver"])
    page = text(client.get(reverse("admin:approvals_accessrequest_letter", args=[grant.access_request_id])))
    assert "Sector Other (not a critical-infrastructure sector) Energy" in page


def test_the_vendor_edit_page_says_the_record_is_held_and_refuses_without_reason(world, held, client):
    _, open_request = held
    client.force_login(world["officer"])
    url = reverse("vendors:customer_edit", args=[world.partner_customer.pk])
    page = text(client.get(url))
    assert f"Held by {open_request} (submitted)" in page
    customer = refresh(world.partner_customer)
    form = {
        "record_version": version_of(customer),
        "sector": Sector.ENERGY,
        "registration_id": customer.registration_id,
        "intended_use": customer.intended_use,
        "ownership": "",
        "security_contact_name": customer.security_contact_name,
        "security_contact_email": customer.security_contact_email,
        "attestation": "on" if customer.attestation else "",
        "reason": "",
    }
    page = text(client.post(url, form))
    assert "Say why the facts changed" in page
    assert 'value="energy" selected' in client.post(url, form).content.decode()  # what was typed is kept
    response = client.post(url, {**form, "reason": "Acquired a grid operator."})
    assert response.status_code == 302
    assert open_request.referrals.filter(agency__code="CISA").exists()


def test_the_changed_grants_panel_costs_the_same_for_two_and_five_grants(world):
    from django.db import connection
    from django.template.loader import render_to_string
    from django.test.utils import CaptureQueriesContext

    from approvals.agency_admin.amendment_pages import changed_grants_panel
    from approvals.tests.factories import new_customer

    grants = [approved(world, partner_customer=new_customer(world)) for _ in range(5)]
    amend_the_model_s_evaluation(world)

    class Request:
        user = world["doc_approver"]

    def cost():
        with CaptureQueriesContext(connection) as queries:
            panel = changed_grants_panel(Request)
            html = render_to_string(panel["template"], {"panel": panel["context"]})
        return len(queries), html

    five, html = cost()
    assert "5 grants in force to confirm or act on" in html
    for grant in grants[:3]:
        services.confirm_grant_facts(grant=grant, actor=world["doc_approver"], note="Within scope.")
    two, html = cost()
    assert "2 grants in force to confirm or act on" in html
    assert two == five


def test_revoking_a_grant_with_changed_facts_resolves_them(world, held):
    grant, _ = held
    amend_sector(world)
    services.revoke_grant(
        grant=Grant.objects.get(pk=grant.pk),
        actor=world["doc_approver"],
        legal_basis="15 CFR 700 (demo)",
        findings="The customer's energy operations are outside the approved scope.",
    )
    change = GrantFactsChange.objects.get(grant=grant)
    assert change.status == GrantFactsChange.Status.REVOKED
    assert change.resolved_by == world["doc_approver"]
    assert selectors.grants_with_changed_facts(world["doc_approver"]).count() == 0


def test_only_lead_agency_approvers_open_the_confirm_page_others_get_404(world, held, client):
    grant, _ = held
    amend_sector(world)
    url = reverse("admin:approvals_accessrequest_confirm_facts", args=[grant.access_request_id])
    client.force_login(world["doc_approver"])
    assert client.get(url).status_code == 200
    for who in ("doc_reviewer", "oncd_approver", "cisa_approver", "auditor"):
        client.force_login(world[who])
        assert client.get(url).status_code == 404, who
        # a POST by someone who reads the case is refused with the reason (409); nobody else learns of it
        assert client.post(url, {"note": "x"}).status_code in (404, 409), who
    client.force_login(world["officer"])
    assert client.get(url).status_code in (302, 404)
    assert GrantFactsChange.objects.get(grant=grant).status == GrantFactsChange.Status.PENDING
    # auditors read the dashboard panel (read-only); ONCD's officials do not have it
    client.force_login(world["auditor"])
    assert "Facts changed since approval: 1 grant in force" in text(client.get(reverse("admin:index")))
    client.force_login(world["oncd_approver"])
    assert "Facts changed since approval" not in text(client.get(reverse("admin:index")))


def test_a_stale_draft_edit_names_who_changed_it(world):
    from approvals.tests.factories import draft
    from vendors.tests.factories import member_of

    access_request = draft(world)
    seen = access_request.version
    colleague = member_of(world.vendor, world["officer"].role, full_name="Dana Colleague")
    services.update_draft(access_request=access_request, actor=colleague, scope="Only 10 seats.")
    with pytest.raises(PortalError, match=r"changed while you were looking at it .*Dana Colleague"):
        services.update_draft(
            access_request=access_request, actor=world["officer"], expected_version=seen, scope="x"
        )


def test_done_when_aurora_moves_a_customer_under_review_into_energy_through_its_page(
    world, held, client, django_capture_on_commit_callbacks
):
    """Issue 14's Done-when as a person does it, page by page: the vendor's edit page, CISA's mail
    and case page, DOC's dashboard."""
    grant, open_request = held
    clocks = {r.agency.code: (r.due_date, r.clock_stopped_at) for r in open_request.referrals.all()}
    customer = refresh(world.partner_customer)
    # a week after submission (a restarted clock would end a week later than it does)
    with time_machine.travel(timezone.localtime() + timedelta(days=7), tick=False):
        client.force_login(world["officer"])
        url = reverse("vendors:customer_edit", args=[customer.pk])
        page = client.get(url).content.decode()
        version = re.search(r'name="record_version" value="(\d+)"', page).group(1)
        form = {
            "record_version": version,
            "sector": Sector.ENERGY,
            "registration_id": customer.registration_id,
            "intended_use": customer.intended_use,
            "ownership": customer.ownership,
            "security_contact_name": customer.security_contact_name,
            "security_contact_email": customer.security_contact_email,
            "attestation": "on" if customer.attestation else "",
            "reason": "Acquired a regional grid operator.",
        }
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(url, form).status_code == 302

        # CISA receives a referral, on a clock starting now, and a mail; the running clocks go on
        cisa = open_request.referrals.get(agency__code="CISA", required=True)
        assert cisa.due_date > max(due for due, _ in clocks.values())
        assert {
            r.agency.code: (r.due_date, r.clock_stopped_at)
            for r in open_request.referrals.exclude(pk=cisa.pk)
        } == clocks
        subjects = [m.subject for m in mail.outbox if world["cisa_approver"].email in m.to]
        assert any("New referral for CISA" in subject for subject in subjects), subjects
        # CISA's case page shows the amendment
        client.force_login(world["cisa_approver"])
        case = text(client.get(reverse("admin:approvals_accessrequest_change", args=[open_request.pk])))
        assert "Amendments since submission" in case
        assert "Acquired a regional grid operator." in case
        assert "Sector Other (not a critical-infrastructure sector) Energy" in case
        # the approved grant of the other request shows "facts changed since approval" to DOC
        client.force_login(world["doc_approver"])
        dashboard = text(client.get(reverse("admin:index")))
        assert "Facts changed since approval: 1 grant in force" in dashboard
        assert str(grant.access_request) in dashboard


def test_a_new_legal_name_approved_while_the_vendor_is_held_is_an_amendment(
    world, held, client, django_capture_on_commit_callbacks
):
    """The vendor's legal name is a material fact (issue 14): it changes when a portal
    administrator approves, and then the agencies are told, the grant is marked, the case shows it."""
    from vendors.models import Vendor
    from vendors.onboarding import services as onboarding
    from vendors.services import update_vendor_profile

    grant, open_request = held
    vendor, admin = Vendor.objects.get(pk=world.vendor.pk), world["vendor_admin"]
    old_name = vendor.legal_name
    with pytest.raises(PortalError, match=r"Changing the legal name is an amendment: .* Say why"):
        update_vendor_profile(vendor=vendor, actor=admin, legal_name="Renamed Frontier Labs Inc.")
    client.force_login(admin)  # the profile page says so on its reason field and keeps the typing
    response = client.post(
        reverse("vendors:profile_edit"),
        {"legal_name": "Renamed Frontier Labs Inc.", "reason": "", "record_version": version_of(vendor)},
    )
    assert response.status_code == 200
    assert "Say why the name changes" in text(response)
    assert 'value="Renamed Frontier Labs Inc."' in response.content.decode()
    update_vendor_profile(
        vendor=vendor, actor=admin, legal_name="Renamed Frontier Labs Inc.", reason="Merged into our parent."
    )
    assert not Amendment.objects.exists()  # not before a portal administrator approves
    change = vendor.name_changes.get(status="pending")
    with django_capture_on_commit_callbacks(execute=True):
        onboarding.decide_name_change(
            change=change, actor=world["portal_admin"], approve=True, reason="Certificate of merger seen."
        )

    amendment = Amendment.objects.get()
    assert amendment.record == vendor
    assert (amendment.partner_customer, amendment.frontier_model) == (None, None)
    assert amendment.changes == [
        {"field": "legal_name", "label": "Legal name", "old": old_name, "new": "Renamed Frontier Labs Inc."}
    ]
    assert (amendment.reason, amendment.amended_by) == ("Merged into our parent.", admin)
    # the agencies holding the open request and the grant are told; the grant is marked for DOC
    for official in ("doc_approver", "oncd_approver"):
        assert Notification.objects.filter(event="record_amended", recipient=world[official]).exists()
    assert GrantFactsChange.objects.get(grant=grant).amendment == amendment
    # the case page shows the amendment and the name as submitted beside today's
    client.force_login(world["doc_approver"])
    page = text(client.get(reverse("admin:approvals_accessrequest_change", args=[open_request.pk])))
    assert "Amendments since submission" in page
    assert "Merged into our parent." in page
    assert f"Legal name {old_name} Renamed Frontier Labs Inc." in page
    assert "Facts changed since approval: 1 grant in force" in text(client.get(reverse("admin:index")))


def test_a_suspended_grant_whose_facts_changed_stays_on_the_lead_s_panel(world, held, client):
    grant, _ = held
    amend_sector(world)
    services.suspend_model(
        frontier_model=grant.frontier_model,
        actor=world["doc_approver"],
        legal_basis="Executive Order 14999, section 4.",
        findings="The model's weights were exposed.",
    )
    assert selectors.grants_with_changed_facts(world["doc_approver"]).get() == grant
    client.force_login(world["doc_approver"])
    dashboard = text(client.get(reverse("admin:index")))
    assert "Facts changed since approval: 1 grant in force" in dashboard
    assert "(suspended)" in dashboard


def test_an_amendment_of_many_cases_is_one_mail_per_official_listing_them(world, monkeypatch):
    from collections import Counter

    from approvals.services import amendments
    from approvals.tests.factories import new_customer

    # given three grants of the model and a request for it under review
    grants = [approved(world, partner_customer=new_customer(world)) for _ in range(3)]
    under_review = submitted(world, partner_customer=new_customer(world))
    monkeypatch.setattr(amendments, "NAMED_AT_MOST", 3, raising=False)  # (20 in the portal)
    before = set(Notification.objects.values_list("pk", flat=True))
    # when the vendor amends the model
    amend_the_model_s_evaluation(world)
    # then each official concerned gets one mail, not one per case
    mails = Notification.objects.filter(event="record_amended").exclude(pk__in=before)
    per_person = Counter(mails.values_list("recipient_id", flat=True))
    assert {world[name].pk for name in ("doc_approver", "oncd_approver", "ostp_approver")} <= set(per_person)
    assert set(per_person.values()) == {1}
    # listing the cases (the first ones named, the rest counted) and linking to the dashboard
    mail = mails.get(recipient=world["doc_approver"])
    assert "4 of your cases" in mail.subject
    assert f"{under_review}: under review" in mail.body
    for grant in grants[:2]:
        assert f"{grant.access_request}: approved; the grant's facts changed since approval" in mail.body
    assert str(grants[2].access_request) not in mail.body
    assert "and 1 more: every one is on your dashboard" in mail.body
    assert mail.link == reverse("admin:index")
    assert "for the lead agency to confirm or act on" in mail.body
    assert GrantFactsChange.objects.filter(grant__in=grants).count() == 3


def test_an_amendment_of_requests_under_review_only_says_nothing_of_grants(world):
    from approvals.tests.factories import new_customer

    requests = [submitted(world, partner_customer=new_customer(world)) for _ in range(2)]
    amend_the_model_s_evaluation(world)
    mail = Notification.objects.get(event="record_amended", recipient=world["oncd_approver"])
    assert "2 of your cases" in mail.subject
    assert all(f"{r}: under review" in mail.body for r in requests)
    assert "grant" not in mail.body.split("What changed")[0]
