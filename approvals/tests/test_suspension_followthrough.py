"""Issue 16: a suspension of chosen customers, the vendor's cut-off attestation, confirmations on
identities (not counts), stale orders told as warnings, and "Assign to me" in one click."""

import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from approvals import services
from approvals.models import CutoffAttestation, EnforcementAction, Grant, IncidentReport
from approvals.selectors.queue import clock_queue
from approvals.tests.enforcement_helpers import (
    BASE,
    BASIS,
    approved,
    order,
    shown_records,
    suspend,
    suspend_url,
    text,
)
from approvals.tests.factories import new_customer, refresh, submitted
from portal.errors import PortalError
from portal.notifications.models import Notification
from vendors.models import FrontierModel

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase


def lift_url(world):
    return f"{BASE}models/{world.frontier_model.pk}/lift/"


def taken_section(page):
    """The suspension page's list of grants it takes (the scope chooser above lists every customer)."""
    return page[page.index('id="impact-h"') : page.index("The order</h3>")]


def messages_of(response, level):
    return re.findall(rf'<li class="{level}">(.*?)</li>', text(response))


# ---------------------------------------------------------------------------------------------
# The Done-when, through the pages: the energy-sector customers only, attested, lifted exactly


def test_suspending_the_energy_customers_takes_exactly_their_grants_then_attest_then_lift(
    client, world, django_capture_on_commit_callbacks
):
    # given two energy-sector customers and one other holding grants, and an open request of each kind
    energy = [approved(world, partner_customer=new_customer(world, sector="energy")) for _ in range(2)]
    other = approved(world)
    energy_waiting = submitted(world, partner_customer=new_customer(world, sector="energy"))
    other_waiting = submitted(world, partner_customer=new_customer(world))

    # when DOC's approver previews a suspension of the energy sector
    client.force_login(world["doc_approver"])
    page = text(client.get(suspend_url(world), {"scope": "sector", "sector": "energy"}))
    taken = taken_section(page)
    # then it names exactly those grants and that request, and says the model stays in preview
    for grant in energy:
        assert grant.partner_customer.legal_name in taken
    assert other.partner_customer.legal_name not in taken
    assert energy_waiting.tracking_number in taken
    assert other_waiting.tracking_number not in taken
    assert "<strong>2 active grants</strong> become suspended" in taken
    assert "stays <strong>Limited preview</strong> for every other customer" in taken

    # when the order is given with a 12-hour window to attest (carried out in the background)
    response, job = order(
        client,
        suspend_url(world),
        {
            **BASIS,
            "scope": "sector",
            "sector": "energy",
            "attest_within_hours": 12,
            "shown_records": shown_records(page),
        },
        django_capture_on_commit_callbacks,
        follow=True,
    )
    # then exactly the energy grants are suspended, the energy request is on hold, nothing else
    assert response.status_code == 200
    assert "is being carried out in the background" in messages_of(response, "info")[0]
    assert job.status == job.Status.SUCCEEDED, job.error
    assert "for the customers in the Energy sector: 2 grant(s) suspended" in job.result_summary
    # (the page was drawn before the job ran; drawn again, it shows the result)
    done = text(client.get(f"/jobs/{job.pk}/"))
    assert "for the customers in the Energy sector: 2 grant(s) suspended" in done
    assert "Open the enforcement action" in done
    action = EnforcementAction.objects.get(kind=EnforcementAction.Kind.SUSPEND_MODEL)
    assert action.scope == "the customers in the Energy sector"
    assert set(Grant.objects.filter(status=Grant.Status.SUSPENDED)) == set(energy)
    assert refresh(other).status == Grant.Status.ACTIVE
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    assert refresh(energy_waiting).on_hold
    assert not refresh(other_waiting).on_hold
    assert abs(action.attest_by - (action.taken_at + timedelta(hours=12))) < timedelta(seconds=1)
    rows = list(CutoffAttestation.objects.filter(suspension=action))
    assert {r.grant_id for r in rows} == {g.pk for g in energy}
    page = text(client.get(f"{BASE}{action.pk}/change/"))
    assert "<strong>2 of 2 customers still waiting</strong>" in page

    # when the vendor's officer opens the dashboard: the attestation waits on them
    client.force_login(world["officer"])
    dashboard = text(client.get("/vendor/"))
    waiting = dashboard[dashboard.index("Waiting on you") : dashboard.index("Access requests</h2>")]
    assert "Attest the cut-off" in waiting
    assert f"/vendor/enforcement/{action.pk}/attest/" in waiting
    page = text(client.get(f"/vendor/enforcement/{action.pk}/attest/"))
    assert all(g.partner_customer.legal_name in page for g in energy)
    assert other.partner_customer.legal_name not in page
    # and attests both customers' cut-off
    response = client.post(
        f"/vendor/enforcement/{action.pk}/attest/",
        {"attestations": [r.pk for r in rows], "statement": "API keys revoked at 14:05 UTC."},
        follow=True,
    )
    assert "is attested; the lead agency has been told." in text(response)
    assert all(r.is_attested and r.attested_by == world["officer"] for r in CutoffAttestation.objects.all())
    assert "The cut-off of every customer is attested." in text(response)
    assert Notification.objects.filter(event="cutoff_attested", recipient=world["doc_approver"]).exists()
    history = CutoffAttestation.history.filter(suspension_id=action.pk, history_user=world["officer"])
    assert history.count() == 2
    assert "API keys revoked" in history.first().history_change_reason

    # when DOC lifts the suspension: exactly those grants come back, the model's phase untouched
    client.force_login(world["doc_approver"])
    page = text(client.get(f"{BASE}{action.pk}/change/"))
    assert "Every customer (2)" in page
    assert "API keys revoked at 14:05 UTC." in page
    page = text(client.get(lift_url(world)))
    assert "stays <strong>Limited preview</strong>: this suspension took only the customers" in page
    order(
        client,
        lift_url(world),
        {**BASIS, "shown_records": shown_records(page)},
        django_capture_on_commit_callbacks,
    )
    assert all(refresh(g).status == Grant.Status.ACTIVE for g in energy)
    assert refresh(other).status == Grant.Status.ACTIVE
    assert not refresh(energy_waiting).on_hold
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW


def test_chosen_customers_only_and_an_empty_choice_is_refused(world):
    chosen, left = approved(world), approved(world)
    action = suspend(world, partner_customers=[chosen.partner_customer], scope="one customer")
    assert refresh(chosen).status == Grant.Status.SUSPENDED
    assert refresh(left).status == Grant.Status.ACTIVE
    assert action.scope == "one customer"
    # one suspension at a time: the other customer waits for the lift
    with pytest.raises(PortalError, match="already suspended for one customer"):
        suspend(world, partner_customers=[left.partner_customer])
    services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    with pytest.raises(PortalError, match="Choose at least one customer"):
        suspend(world, partner_customers=[])
    assert refresh(left).status == Grant.Status.ACTIVE


def test_a_request_filed_for_a_covered_customer_during_the_suspension_is_held_until_the_lift(world):
    # given a suspension of two chosen customers, one of whom held nothing for the model yet
    held_grant = approved(world)
    newcomer, outsider = new_customer(world, sector="energy"), new_customer(world)
    action = suspend(world, partner_customers=[held_grant.partner_customer, newcomer], scope="two customers")
    assert set(action.partner_customers.values_list("pk", flat=True)) == {
        held_grant.partner_customer_id,
        newcomer.pk,
    }
    assert action.history.first().partner_customers.count() == 2  # the set is in the action's history
    # when a request is filed for the newcomer, and one for a customer outside the suspension
    covered = refresh(submitted(world, partner_customer=newcomer))
    free = refresh(submitted(world, partner_customer=outsider))
    # then the covered one is on hold by that suspension with its clocks stopped; the other runs
    assert (covered.on_hold, covered.held_by_id) == (True, action.pk)
    assert all(r.clock_stopped_at is not None for r in covered.referrals.all())
    assert "On hold" in covered.history.first().history_change_reason
    assert not free.on_hold
    assert all(r.clock_stopped_at is None for r in free.referrals.all())
    # and the lift releases it with its clocks running again
    services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    covered = refresh(covered)
    assert not covered.on_hold
    assert all(r.clock_stopped_at is None for r in covered.referrals.all())


def test_cutoff_attestations_are_in_the_audit_export_of_who_may_read_the_suspension(world):
    from portal.audit.export import visible_records

    approved(world)
    action = suspend(world)
    rows = set(CutoffAttestation.objects.filter(suspension=action).values_list("pk", flat=True))
    assert rows
    assert set(visible_records(world["doc_approver"], CutoffAttestation).values_list("pk", flat=True)) == rows
    assert visible_records(world["auditor"], CutoffAttestation) is None  # the auditor reads everything
    assert not visible_records(world["officer"], CutoffAttestation)  # not an official: nothing exported


# ---------------------------------------------------------------------------------------------
# Confirmations on identities


def test_the_same_count_with_different_records_is_refused_naming_what_changed(
    client, world, django_capture_on_commit_callbacks
):
    approved(world)
    leaving = submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    page = text(client.get(suspend_url(world)))
    assert leaving.tracking_number in page
    # while the page is open one request is withdrawn and another submitted: the counts still match
    services.withdraw_request(access_request=leaving, actor=world["officer"], reason="Not needed.")
    arriving = submitted(world, partner_customer=new_customer(world))
    response = client.post(
        suspend_url(world),
        {**BASIS, "expected_grants": 1, "expected_requests": 1, "shown_records": shown_records(page)},
    )
    page = text(response)
    assert response.status_code == 200
    assert "Nothing was done: the records this page showed changed" in page
    assert f"Open requests — added {arriving.tracking_number}" in page
    assert f"no longer included {leaving.tracking_number}" in page
    assert not EnforcementAction.objects.exists()
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    # the page now carries the new set: confirming again is deliberate, and works
    response, job = order(
        client,
        suspend_url(world),
        {**BASIS, "shown_records": shown_records(page)},
        django_capture_on_commit_callbacks,
    )
    assert response.status_code == 302
    assert job.status == job.Status.SUCCEEDED, job.error
    assert refresh(arriving).on_hold


def test_a_tampered_record_list_is_refused(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    response = client.post(suspend_url(world), {**BASIS, "shown_records": "forged"})
    assert "could not be read" in text(response)
    assert not EnforcementAction.objects.exists()


def test_the_rescission_closes_only_the_referrals_it_showed(client, world):
    first = submitted(world, partner_customer=new_customer(world))
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    client.force_login(world["doc_approver"])
    url = f"{BASE}vendors/{world.vendor.pk}/rescind/"
    page = text(client.get(url))
    assert f"{first.tracking_number} — DOD" in page
    later = submitted(world, partner_customer=new_customer(world))  # routed to DOD while designated
    response = client.post(url, {**BASIS, "close_referrals": "on", "shown_records": shown_records(page)})
    assert f"Referrals — added {later.tracking_number} — DOD" in text(response)
    assert refresh(world.vendor).is_supply_chain_risk


def test_the_designation_refers_only_the_requests_it_showed(client, world):
    shown = submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    url = f"{BASE}vendors/{world.vendor.pk}/designate/"
    page = text(client.get(url))
    assert f"{shown.tracking_number}" in page
    assert "→ DOD" in page
    later = submitted(world, partner_customer=new_customer(world))
    response = client.post(url, {**BASIS, "shown_records": shown_records(page)})
    assert f"Open requests — added {later.tracking_number}" in text(response)
    assert not refresh(world.vendor).is_supply_chain_risk
    assert not later.referrals.filter(agency__code="DOD").exists()


def test_the_lift_restores_only_what_it_showed(client, world, django_capture_on_commit_callbacks):
    grant, other = approved(world), approved(world)
    suspend(world)
    client.force_login(world["doc_approver"])
    page = text(client.get(lift_url(world)))
    services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)  # meanwhile
    response = client.post(lift_url(world), {**BASIS, "shown_records": shown_records(page)})
    page = text(response)
    assert f"Grants — no longer included {grant.access_request.tracking_number}" in page
    assert refresh(other).status == Grant.Status.SUSPENDED
    # the page now names the revoked grant among those that stay so, and a new confirmation lifts
    assert f"{grant.access_request.tracking_number} ({grant.partner_customer.legal_name}, revoked)" in page
    order(
        client,
        lift_url(world),
        {**BASIS, "shown_records": shown_records(page)},
        django_capture_on_commit_callbacks,
    )
    assert refresh(other).status == Grant.Status.ACTIVE
    assert refresh(grant).status == Grant.Status.REVOKED


def test_a_second_tabs_suspension_is_a_warning_naming_who_acted(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    page = text(client.get(suspend_url(world)))
    action = suspend(world)  # another tab, or another approver
    response = client.post(suspend_url(world), {**BASIS, "shown_records": shown_records(page)}, follow=True)
    (warning,) = messages_of(response, "warning")
    assert "Nothing was done" in warning
    assert f"already pulled offline by {world['doc_approver'].full_name}" in warning
    assert f"(action #{action.pk})" in warning
    assert not messages_of(response, "success")
    assert EnforcementAction.objects.count() == 1


# ---------------------------------------------------------------------------------------------
# The attestation: who may, the clock queue, the reminders


def test_only_the_vendors_compliance_team_attests_and_a_second_tab_is_told(client, world):
    grant = approved(world)
    action = suspend(world)
    row = CutoffAttestation.objects.get(suspension=action)
    url = f"/vendor/enforcement/{action.pk}/attest/"
    client.force_login(world["viewer"])
    page = text(client.get(url))
    assert grant.partner_customer.legal_name in page
    assert "Attest the cut-off</button>" not in page
    assert client.post(url, {"attestations": [row.pk], "statement": "x"}).status_code == 404
    client.force_login(world["other_officer"])
    assert client.get(url).status_code == 404
    client.force_login(world["doc_approver"])
    assert client.get(url).status_code in (302, 404)
    services.attest_cutoff(
        suspension=action, actor=world["vendor_admin"], attestations=[row.pk], statement="Done."
    )
    client.force_login(world["officer"])
    response = client.post(url, {"attestations": [row.pk], "statement": "Done too."}, follow=True)
    page = text(response)
    assert "Nothing was recorded" in page
    assert "already attested" in page
    assert refresh(row).attested_by == world["vendor_admin"]


def test_an_overdue_attestation_is_on_docs_queue_and_mailed_daily(world):
    approved(world)
    action = suspend(world, attest_within_hours=1)
    items = [i for i in clock_queue(world["doc_approver"]) if i.kind == "attestation"]
    assert len(items) == 1
    assert "not yet attested for 1 customer" in items[0].label
    tomorrow = timezone.localdate() + timedelta(days=1)
    mail.outbox.clear()
    sent = services.send_attestation_reminders(today=tomorrow)
    assert sent >= 2  # the vendor's compliance team and DOC's approvers
    assert Notification.objects.filter(event="cutoff_attestation_due", recipient=world["officer"]).exists()
    assert Notification.objects.filter(
        event="cutoff_attestation_due", recipient=world["doc_approver"]
    ).exists()
    assert services.send_attestation_reminders(today=tomorrow) == 0  # once a day
    row = CutoffAttestation.objects.get(suspension=action)
    services.attest_cutoff(suspension=action, actor=world["officer"], attestations=[row.pk], statement="Cut.")
    assert not [i for i in clock_queue(world["doc_approver"]) if i.kind == "attestation"]
    assert services.send_attestation_reminders(today=tomorrow + timedelta(days=1)) == 0


def test_docs_dashboard_shows_an_incident_due_tomorrow_and_a_designation_window_closing_in_7_days(
    client, world, settings
):
    settings.DESIGNATION_RESPONSE_DAYS = 7
    services.report_incident(
        frontier_model=world.frontier_model,
        actor=world["officer"],
        category="misuse_other",
        severity=IncidentReport.Severity.CRITICAL_INFRASTRUCTURE,  # due two days after detection
        description="Misuse against a grid operator.",
        detected_on=timezone.localdate() - timedelta(days=1),
    )
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    client.force_login(world["doc_approver"])
    page = text(client.get("/admin/"))
    queue = page.split('id="clocks-h"')[1].split("</table>")[0]
    assert "Incident report" in queue
    assert "answer window" in queue
    assert re.search(r"Incident report.*?(due tomorrow|1 day)", queue)
    assert re.search(r"answer window.*?7 days", queue)


# ---------------------------------------------------------------------------------------------
# "Assign to me", one click


def test_assign_to_me_is_one_click_from_the_dashboard_and_safe_in_a_second_tab(client, world):
    access_request = submitted(world)
    referral = access_request.referrals.get(agency__code="ONCD")
    client.force_login(world["oncd_approver"])
    page = text(client.get("/admin/"))
    unassigned = page[page.index('id="unassigned-h"') :]
    button = f'action="/admin/approvals/accessrequest/{access_request.pk}/assign-me/"'
    assert button in unassigned
    response = client.post(
        f"/admin/approvals/accessrequest/{access_request.pk}/assign-me/", {"version": 1}, follow=True
    )
    assert "is assigned to you" in messages_of(response, "success")[0]
    assert list(referral.assigned_officials.all()) == [world["oncd_approver"]]
    # a second tab's click: nothing changes, and it says so as a warning
    response = client.post(
        f"/admin/approvals/accessrequest/{access_request.pk}/assign-me/", {"version": 1}, follow=True
    )
    assert "already assigned to you" in messages_of(response, "warning")[0]
    _, added = services.assign_to_me(referral=referral, actor=world["oncd_approver"])
    assert added is False


def test_assign_to_me_keeps_whoever_was_assigned_meanwhile(world):
    # the page showed nobody on DOC's referral; a reviewer took it on before the approver clicked
    referral = submitted(world).referrals.get(agency__code="DOC")
    services.assign_to_me(referral=referral, actor=world["doc_reviewer"])
    _, added = services.assign_to_me(referral=referral, actor=world["doc_approver"])
    assert added
    assert set(referral.assigned_officials.all()) == {world["doc_reviewer"], world["doc_approver"]}
    with pytest.raises(PortalError, match="can assign officials"):
        services.assign_to_me(referral=referral, actor=world["officer"])


# ---------------------------------------------------------------------------------------------
# The notice says whom a suspension covers and by when the cut-off is to be attested


def notice_text(action):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", action.letter.body_html))


def due_words(action):
    due = timezone.localtime(action.attest_by)
    return f"by {due:%B} {due.day}, {due:%Y} at {due:%H:%M} {due.tzname()}."


def test_the_notice_of_a_suspension_of_chosen_customers_says_so_and_gives_the_attestation_deadline(world):
    # given two energy customers with grants and a third customer with one
    energy = [
        approved(world, partner_customer=new_customer(world, legal_name=name, sector="energy"))
        for name in ("Volt Grid Co.", "Amber Power LLC")
    ]
    approved(world, partner_customer=new_customer(world, legal_name="Tidewater Freight"))
    # when only the energy customers are suspended
    action = suspend(
        world,
        partner_customers=[g.partner_customer for g in energy],
        scope="the 2 customers in the energy sector",
        attest_within_hours=48,
    )
    # then the notice says so, with how many and by when to attest
    notice = notice_text(action)
    assert action.letter.subject.endswith("for the 2 customers in the energy sector")
    assert "The model stays available to its other partner customers." in notice
    assert "taken offline at once" not in notice
    assert "Customers covered: 2." in notice
    assert "one attestation per grant suspended (2), " + due_words(action) in notice
    # and names no customer: agencies referred on other requests for the model read the notice
    for name in ("Volt Grid", "Amber Power", "Tidewater"):
        assert name not in notice
    # and the notice of its lift says which suspension it lifts
    lift = services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    assert lift.letter.subject == (
        f"Notice that the suspension of {world.frontier_model} "
        "for the 2 customers in the energy sector is lifted"
    )


def test_the_notice_of_a_whole_model_suspension_gives_the_attestation_deadline(world):
    grant = approved(world, partner_customer=new_customer(world, legal_name="Harbor Analytics"))
    action = suspend(world)
    notice = notice_text(action)
    assert "taken offline at once" in notice
    assert "one attestation per grant suspended (1), " + due_words(action) in notice
    assert grant.partner_customer.legal_name not in notice


def test_an_agency_reads_the_attestations_of_its_own_cases_only(client, world):
    # given a grant for an energy customer (CISA is referred on its request) and one for another
    energy = approved(
        world, partner_customer=new_customer(world, legal_name="Volt Grid Co.", sector="energy")
    )
    other = approved(world, partner_customer=new_customer(world, legal_name="Tidewater Freight"))
    assert energy.access_request.referrals.filter(agency__code="CISA").exists()
    assert not other.access_request.referrals.filter(agency__code="CISA").exists()
    action = suspend(world)
    # when CISA's approver opens the suspension, then only its case's customer is named
    client.force_login(world["cisa_approver"])
    page = text(client.get(f"{BASE}{action.pk}/change/"))
    assert "Volt Grid Co." in page
    assert "Tidewater Freight" not in page
    assert "1 attestation concerns requests your agency is not referred on." in page
    # and the lead agency reads them all
    client.force_login(world["doc_approver"])
    page = text(client.get(f"{BASE}{action.pk}/change/"))
    assert "Volt Grid Co." in page
    assert "Tidewater Freight" in page
    assert "not referred on" not in page


def test_a_long_model_name_and_scope_still_give_a_notice_and_its_lift(world):
    FrontierModel.objects.filter(pk=world.frontier_model.pk).update(name="Long " * 38)
    grant = approved(world)
    scope = "the customers of the northern region " * 5
    action = suspend(world, partner_customers=[grant.partner_customer], scope=scope[:200])
    lift = services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    for letter in (action.letter, lift.letter):
        assert len(letter.subject) <= 300
        assert letter.subject.startswith("Notice")
    assert lift.letter.subject.endswith("…")
