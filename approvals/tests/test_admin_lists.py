"""The admin's lists: scoped rows, filters, search, most urgent first, constant query counts,
and the bulk actions that loop over the services."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.models import AccessRequest, Grant, IncidentReport, Referral
from approvals.tests.conftest import fresh
from approvals.tests.factories import (
    all_concur,
    bulk_case_copies,
    bulk_copies,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)
from conftest import RolledBackAtTheEnd
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db

CHANGELISTS = [
    "/admin/approvals/accessrequest/",
    "/admin/approvals/referral/",
    "/admin/approvals/informationrequest/",
    "/admin/approvals/grant/",
    "/admin/approvals/enforcementaction/",
    "/admin/approvals/incidentreport/",
    "/admin/approvals/prereleasereview/",
    "/admin/approvals/agency/",
    "/admin/approvals/routingrule/",
    "/admin/vendors/vendor/",
    "/admin/vendors/frontiermodel/",
    "/admin/vendors/partnercustomer/",
    "/admin/vendors/evidencedocument/",
    "/admin/accounts/user/",
    "/admin/accounts/organisation/",
]
BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "The customer breached the conditions."}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def rows(page, column):
    return re.findall(rf'class="field-{column}[^"]*">(?:<a [^>]*>)?([^<]+)<', page)


def _grow(world, count):
    """``count`` cases, each with a question and its answer, an assignment, a grant, a revocation
    and an incident report: every list gets ``count`` more rows."""
    for _ in range(count):
        access_request = submitted(world, partner_customer=new_customer(world))
        services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Q?"
        )
        services.answer_information_request(
            information_request=access_request.information_requests.get(), actor=world["officer"], answer="A."
        )
        services.assign_officials(
            referral=referral(access_request, "DOC"),
            actor=world["doc_reviewer"],
            officials=[world["doc_reviewer"]],
        )
        services.record_decision(
            access_request=all_concur(world, access_request), actor=world["doc_approver"]
        )
        services.revoke_grant(
            grant=Grant.objects.get(access_request=access_request), actor=world["doc_approver"], **BASIS
        )
        services.report_incident(
            frontier_model=world.frontier_model,
            actor=world["officer"],
            category="misuse_other",
            severity="serious",
            description="Misuse.",
            detected_on=timezone.localdate(),
        )


LIST_READERS = ["doc_approver", "auditor"]


@pytest.fixture(scope="class")
def list_queries(module_world, django_db_blocker):
    """Each list's query count for each of ``LIST_READERS`` at 5 and at 50 rows: the rows are
    grown once for both, and rolled back after the class."""
    counts = {who: {url: [] for url in CHANGELISTS} for who in LIST_READERS}
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            for size in (5, 45):  # the first five through the services, then copies of the fifth
                if size == 5:
                    _grow(world, size)
                else:
                    bulk_case_copies(AccessRequest.objects.latest("pk"), size)
                    bulk_copies(IncidentReport.objects.latest("pk"), size)
                for who in LIST_READERS:
                    client = Client()
                    client.force_login(world[who])
                    for url in CHANGELISTS:
                        client.get(url)
                        with CaptureQueriesContext(connection) as queries:
                            response = client.get(url)
                        assert response.status_code == 200, url
                        counts[who][url].append(len(queries))
        yield counts


class TestListSizes:
    @pytest.mark.parametrize("who", LIST_READERS)
    def test_every_list_costs_the_same_for_5_and_50_rows(self, list_queries, who):
        counts = list_queries[who]
        print(who, counts)
        unequal = {url: c for url, c in counts.items() if c[0] != c[1]}
        assert not unequal, unequal
        assert max(c[1] for c in counts.values()) <= 25, counts


# ---------------------------------------------------------------------------------------------
# Rows, filters, search, ordering


def test_most_urgent_first_and_the_clock_column(client, world):
    with time_machine.travel(timezone.localtime() - timedelta(days=40), tick=False):
        late = submitted(world, partner_customer=new_customer(world))
    with time_machine.travel(timezone.localtime() - timedelta(days=27), tick=False):
        soon = submitted(world, partner_customer=new_customer(world))
    fresh = submitted(world, partner_customer=new_customer(world))
    waiting = submitted(world, partner_customer=new_customer(world))
    services.issue_information_request(access_request=waiting, actor=world["doc_reviewer"], question="Q?")
    done = all_concur(world, submitted(world, partner_customer=new_customer(world)))
    client.force_login(world["doc_approver"])
    page = text(client.get("/admin/approvals/accessrequest/"))
    order = [t.strip() for t in rows(page, "tracking")]
    assert order[:3] == [late.tracking_number, soon.tracking_number, fresh.tracking_number]
    assert set(order[3:]) == {waiting.tracking_number, done.tracking_number}
    assert "10 days overdue" in page
    assert "due in 3 days" in page
    assert "clock stopped" in page
    referrals = text(
        client.get("/admin/approvals/referral/?agency__id__exact=" + str(world.agency("DOC").pk))
    )
    assert [t.strip() for t in rows(referrals, "case")][:2] == [late.tracking_number, soon.tracking_number]


def test_filters_by_clock_assignment_sector_country_vendor_and_phase(client, world):
    with time_machine.travel(timezone.localtime() - timedelta(days=40), tick=False):
        late = submitted(world, partner_customer=new_customer(world))
    energy = submitted(world, partner_customer=new_customer(world, sector="energy", country="CA"))
    services.assign_officials(
        referral=referral(energy, "DOC"), actor=world["doc_reviewer"], officials=[world["doc_reviewer"]]
    )
    client.force_login(world["doc_reviewer"])
    base = "/admin/approvals/accessrequest/"

    def listed(query, url=base, column="tracking"):
        return {t.strip() for t in rows(text(client.get(url + query)), column)}

    assert listed("?due=overdue") == {late.tracking_number}
    assert listed("?partner_customer__sector=energy") == {energy.tracking_number}
    assert listed("?partner_customer__country=CA") == {energy.tracking_number}
    assert listed("?agency=CISA") == {energy.tracking_number}
    assert listed("?phase=limited_preview") == {late.tracking_number, energy.tracking_number}
    assert listed(f"?vendor__id__exact={world.vendor.pk}") == {late.tracking_number, energy.tracking_number}
    assert listed("?assigned=me", "/admin/approvals/referral/", "case") == {energy.tracking_number}
    assert listed("?assigned=nobody", "/admin/approvals/referral/", "case") == {late.tracking_number}
    assert listed("?due=overdue", "/admin/approvals/referral/", "case") == {late.tracking_number}


def test_search_by_tracking_number_customer_model_and_vendor(client, world):
    target = submitted(world, partner_customer=new_customer(world, legal_name="Zephyr Water Authority"))
    other = submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    for term in (target.tracking_number, "Zephyr", world.frontier_model.name, world.vendor.legal_name[:8]):
        found = {
            t.strip()
            for t in rows(text(client.get("/admin/approvals/accessrequest/", {"q": term})), "tracking")
        }
        assert target.tracking_number in found, term
    found = {t.strip() for t in rows(text(client.get("/admin/approvals/referral/", {"q": "Zephyr"})), "case")}
    assert found == {target.tracking_number}
    assert other.tracking_number not in found


def test_filter_choices_name_only_what_the_official_may_see(client, world):
    # given a request of the other vendor referred to DOC only, with a customer in Japan
    other_model = FrontierModelFactory(vendor=world.other_vendor, release_phase="limited_preview")
    other_customer = PartnerCustomerFactory(vendor=world.other_vendor, country="JP", sector="other")
    from approvals.tests.factories import draft

    hidden = draft(
        world, actor=world["other_officer"], frontier_model=other_model, partner_customer=other_customer
    )
    services.submit_request(access_request=hidden, actor=world["other_officer"])
    submitted(world, partner_customer=new_customer(world, sector="energy"))
    # when CISA's approver opens the lists
    client.force_login(world["cisa_approver"])
    for url in (
        "/admin/approvals/accessrequest/",
        "/admin/vendors/partnercustomer/",
        "/admin/vendors/frontiermodel/",
    ):
        page = text(client.get(url))
        # then neither the other vendor nor its customer's country is offered as a filter
        assert world.other_vendor.legal_name not in page, url
        assert "Japan" not in page, url
    client.force_login(world["doc_approver"])
    assert "Japan" in text(client.get("/admin/approvals/accessrequest/"))


def test_other_agencies_rows_stay_out(client, world):
    routine = submitted(world)
    client.force_login(world["cisa_approver"])
    for url in CHANGELISTS[:4]:
        assert routine.tracking_number not in text(client.get(url)), url


# ---------------------------------------------------------------------------------------------
# Bulk actions


def _action(client, url, action, pks, **extra):
    return client.post(
        url, {"action": action, ACTION_CHECKBOX_NAME: [str(pk) for pk in pks], "index": 0, **extra}
    )


def test_bulk_assignment_goes_through_the_service_and_reports_each_refusal(client, world):
    # given three DOC referrals: one already with the reviewer, one signed (final)
    requests = [submitted(world, partner_customer=new_customer(world)) for _ in range(4)]
    doc = [referral(r, "DOC") for r in requests]
    services.assign_officials(referral=doc[1], actor=world["doc_approver"], officials=[world["doc_reviewer"]])
    sign(world, requests[2], "DOC")
    oncd = referral(requests[3], "ONCD")
    client.force_login(world["doc_approver"])
    url = "/admin/approvals/referral/"
    # when the approver picks the referrals, sees the intermediate page, then picks the reviewer
    page = _action(client, url, "assign_reviewer", [d.pk for d in doc[:3]] + [oncd.pk])
    assert page.status_code == 200
    assert "Assign an official to the selected referrals" in text(page)
    assert str(oncd) not in text(page)  # another agency's referral is not even selectable
    response = _action(
        client,
        url,
        "assign_reviewer",
        [d.pk for d in doc[:3]] + [oncd.pk],
        apply="1",
        reviewer=world["doc_reviewer2"].pk,
    )
    assert response.status_code == 302
    # then the open referrals are assigned, each through the service with a reason
    assert set(refresh(doc[0]).assigned_officials.all()) == {world["doc_reviewer2"]}
    assert set(refresh(doc[1]).assigned_officials.all()) == {world["doc_reviewer"], world["doc_reviewer2"]}
    assert not refresh(doc[2]).assigned_officials.exists()
    assert not refresh(oncd).assigned_officials.exists()
    record = doc[0].history.order_by("-history_id").first()
    assert record.history_user == world["doc_approver"]
    assert record.history_change_reason.startswith("Assigned to")
    # and the refusal is reported by row, not as an error page
    messages = [str(m) for m in response.wsgi_request._messages]
    assert any("assigned to 2 referrals" in m for m in messages), messages
    assert any(str(requests[2]) in m and "signed and final" in m for m in messages), messages


def test_bulk_assignment_needs_a_choice(client, world):
    access_request = submitted(world)
    client.force_login(world["doc_approver"])
    response = _action(
        client,
        "/admin/approvals/referral/",
        "assign_reviewer",
        [referral(access_request, "DOC").pk],
        apply="1",
    )
    assert response.status_code == 200
    assert "This field is required" in text(response)
    assert not Referral.objects.filter(assigned_officials__isnull=False).exists()


def test_a_reviewer_takes_referrals_in_bulk(client, world):
    requests = [submitted(world, partner_customer=new_customer(world)) for _ in range(2)]
    client.force_login(world["doc_reviewer"])
    page = text(client.get("/admin/approvals/referral/"))
    assert "Assign the selected referrals to me" in page
    response = _action(
        client,
        "/admin/approvals/referral/",
        "assign_reviewer",
        [referral(r, "DOC").pk for r in requests],
        apply="1",
        reviewer=world["doc_reviewer"].pk,
    )
    assert response.status_code == 302
    for r in requests:
        assert list(referral(r, "DOC").assigned_officials.all()) == [world["doc_reviewer"]]


def test_auditors_have_no_actions_and_cannot_post_one(client, world):
    access_request = submitted(world)
    client.force_login(world["auditor"])
    for url in CHANGELISTS:
        page = text(client.get(url))
        assert 'name="action"' not in page, url
        assert "addlink" not in page, url
    response = _action(
        client,
        "/admin/approvals/referral/",
        "assign_reviewer",
        [referral(access_request, "DOC").pk],
        apply="1",
        reviewer=world["doc_reviewer"].pk,
    )
    assert response.status_code in (200, 302)
    assert not Referral.objects.filter(assigned_officials__isnull=False).exists()


def test_export_selected_cases(client, world):
    access_request = submitted(world, partner_customer=new_customer(world, legal_name="=cmd|' /C calc'!A0"))
    services.draft_position(
        referral=referral(access_request, "ONCD"),
        actor=world["oncd_approver"],
        stance="non_concur",
        rationale="SECRET",
    )
    sign(world, access_request, "OSTP")
    services.add_internal_note(access_request=access_request, actor=world["oncd_approver"], body="ONCD-NOTE")
    client.force_login(world["doc_approver"])
    response = _action(client, "/admin/approvals/accessrequest/", "export_selected", [access_request.pk])
    assert response["Content-Type"].startswith("text/csv")
    content = response.content.decode()
    table = list(csv.DictReader(io.StringIO(content)))
    assert len(table) == 1
    row = table[0]
    assert row["tracking number"] == access_request.tracking_number
    assert row["partner customer"].startswith("'=")  # no formula reaches a spreadsheet
    assert row["signed positions"] == "OSTP: Concur"
    assert "ONCD: Position drafted" in row["referrals"]
    assert "SECRET" not in content
    assert "ONCD-NOTE" not in content
    # the same export from the referral list
    response = _action(
        client, "/admin/approvals/referral/", "export_selected", [referral(access_request, "DOC").pk]
    )
    assert access_request.tracking_number in response.content.decode()


def test_grants_list_expiring_first(client, world):
    grants = []
    for days in (200, 30):
        access_request = all_concur(
            world, submitted(world, partner_customer=new_customer(world), requested_duration_days=days)
        )
        services.record_decision(access_request=access_request, actor=world["doc_approver"])
        grants.append(Grant.objects.get(access_request=access_request))
    client.force_login(world["doc_approver"])
    page = text(client.get("/admin/approvals/grant/"))
    order = [t.strip() for t in rows(page, "access_request")]
    assert order == [str(grants[1].access_request), str(grants[0].access_request)]
    assert date.today() < grants[1].valid_to < grants[0].valid_to
