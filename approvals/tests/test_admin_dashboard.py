"""The agency dashboard (the admin's home page): who opens it, what each role finds on it, and
what it costs."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.tests.conftest import fresh
from approvals.tests.factories import (
    all_concur,
    bulk_case_copies,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)
from conftest import RolledBackAtTheEnd

pytestmark = pytest.mark.django_db

DASHBOARD = "/admin/"


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def section(page, heading_id):
    """The HTML from a heading of the dashboard to the next heading."""
    match = re.search(rf'id="{heading_id}">(.*?)(?=<h[23] )', page)
    assert match, heading_id
    return match.group(1)


def take(world, access_request, who="doc_reviewer"):
    services.assign_officials(
        referral=referral(access_request, "DOC"), actor=world[who], officials=[world[who]]
    )


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("doc_reviewer", 200),
        ("doc_approver", 200),
        ("oncd_approver", 200),
        ("auditor", 200),
        ("portal_admin", 200),
    ],
)
def test_dashboard_role_matrix(client, world, who, expected):
    client.force_login(world[who])
    assert client.get(DASHBOARD, follow=True).status_code == expected


@pytest.mark.parametrize("who", ["officer", "viewer"])
def test_a_vendor_opening_the_agency_dashboard_lands_on_the_vendor_dashboard(client, world, who):
    client.force_login(world[who])
    response = client.get(DASHBOARD, follow=True)
    assert response.redirect_chain[-1][0] == "/vendor/"
    assert response.status_code == 200


def test_anonymous_is_sent_to_sign_in(client, world):
    response = client.get(DASHBOARD, follow=True)
    assert response.redirect_chain[-1][0].startswith("/accounts/login/")


def test_reviewer_finds_their_queue_most_urgent_first(client, world):
    # given three DOC referrals: one taken by the reviewer, one unassigned, one nearly due
    with time_machine.travel(timezone.localtime() - timedelta(days=28), tick=False):
        old = submitted(world, partner_customer=new_customer(world, legal_name="Old Customer"))
    mine = submitted(world, partner_customer=new_customer(world, legal_name="Mine Customer"))
    take(world, mine)
    spare = submitted(world, partner_customer=new_customer(world, legal_name="Spare Customer"))
    energy = submitted(world, partner_customer=new_customer(world, sector="energy", legal_name="Grid Co"))
    # when the reviewer opens the dashboard
    client.force_login(world["doc_reviewer"])
    page = text(client.get(DASHBOARD))
    # then each list holds the right referrals, the nearest clock first
    assert old.tracking_number in section(page, "urgent-h")
    assert "due in 2 days" in section(page, "urgent-h")
    assert mine.tracking_number not in section(page, "urgent-h")
    assert mine.tracking_number in section(page, "mine-h")
    assert spare.tracking_number not in section(page, "mine-h")
    unassigned = section(page, "unassigned-h")
    assert unassigned.index(old.tracking_number) < unassigned.index(spare.tracking_number)
    assert energy.tracking_number in unassigned
    assert re.search(r"<strong>1</strong>assigned to me", page)
    assert re.search(r"<strong>3</strong>unassigned at DOC", page)
    assert re.search(r"<strong>1</strong>due within 5 days", page)
    # a reviewer signs nothing: no signature queue
    assert 'id="sign-h"' not in page
    # the first link of the most urgent list opens the case
    first = re.search(r'id="urgent-h">.*?href="([^"]+)"', page).group(1)
    assert first == f"/admin/approvals/accessrequest/{old.pk}/change/"


def test_overdue_referrals_and_the_clock_chart(client, world):
    with time_machine.travel(timezone.localtime() - timedelta(days=35), tick=False):
        late = submitted(world)
    client.force_login(world["doc_approver"])
    page = text(client.get(DASHBOARD))
    assert "5 days overdue" in section(page, "urgent-h")
    assert re.search(r"<strong>1</strong>overdue", page)
    chart = re.search(r'<table class="portal-chart">(.*?)</table>', page).group(1)
    assert re.search(r"Overdue</a></th> <td class=\"portal-chart__n\">1</td>", chart)
    assert '<rect width="100%" height="100%"/>' in chart
    assert late.tracking_number in page


def test_other_agencies_queues_stay_out(client, world):
    routine = submitted(world)
    critical = submitted(world, partner_customer=new_customer(world, sector="energy"))
    client.force_login(world["cisa_approver"])
    page = text(client.get(DASHBOARD))
    assert critical.tracking_number in page
    assert routine.tracking_number not in page
    assert "CISA: your queue" in page
    assert 'id="decide-h"' not in page  # not the lead agency


def test_approver_sees_positions_waiting_for_signature(client, world):
    access_request = submitted(world)
    take(world, access_request)
    services.draft_position(
        referral=referral(access_request, "DOC"), actor=world["doc_reviewer"], stance="concur"
    )
    client.force_login(world["doc_approver"])
    page = text(client.get(DASHBOARD))
    assert access_request.tracking_number in section(page, "sign-h")
    assert re.search(r"<strong>1</strong>positions to sign", page)
    # another agency's approver has nothing to sign
    client.force_login(world["oncd_approver"])
    assert access_request.tracking_number not in section(text(client.get(DASHBOARD)), "sign-h")


def test_two_persons_rule_keeps_ones_own_draft_out_of_the_signature_queue(client, world):
    agency = world.agency("DOC")
    agency.requires_two_persons = True
    agency.save()
    access_request = submitted(world)
    services.draft_position(
        referral=referral(access_request, "DOC"), actor=world["doc_approver"], stance="concur"
    )
    client.force_login(world["doc_approver"])
    assert access_request.tracking_number not in section(text(client.get(DASHBOARD)), "sign-h")
    client.force_login(world["doc_approver2"])
    assert access_request.tracking_number in section(text(client.get(DASHBOARD)), "sign-h")


def test_lead_approver_sees_cases_for_decision_and_escalations(client, world):
    ready = all_concur(world, submitted(world))
    objected = submitted(world, partner_customer=new_customer(world))
    sign(world, objected, "DOC")
    sign(world, objected, "ONCD", "non_concur", rationale="No.")
    sign(world, objected, "OSTP")
    escalated = submitted(world, partner_customer=new_customer(world))
    sign(world, escalated, "DOC")
    sign(world, escalated, "ONCD", "non_concur", rationale="No.")
    sign(world, escalated, "OSTP")
    services.record_decision(access_request=ready, actor=world["doc_approver"])
    pending = all_concur(world, submitted(world, partner_customer=new_customer(world)))
    client.force_login(world["doc_approver"])
    page = text(client.get(DASHBOARD))
    assert pending.tracking_number in section(page, "decide-h")
    assert objected.tracking_number not in section(page, "decide-h")
    assert objected.tracking_number in section(page, "escalated-h")  # escalated by itself
    assert escalated.tracking_number in section(page, "escalated-h")
    assert ready.tracking_number in page.split("<h3>Recent decisions</h3>")[1]
    client.force_login(world["oncd_approver"])
    assert 'id="decide-h"' not in text(client.get(DASHBOARD))


def test_auditor_overview_counts_everything_and_offers_no_button(client, world):
    submitted(world)
    submitted(world, partner_customer=new_customer(world, sector="energy"))
    all_concur(world, submitted(world, partner_customer=new_customer(world)))
    client.force_login(world["auditor"])
    page = text(client.get(DASHBOARD))
    assert "Overview on" in page
    assert "read-only" in page
    assert re.search(r"\(\d+ in all\)", page)
    assert re.search(r"<strong>2</strong>submitted", page)
    for forbidden in ('class="button"', "addlink", "changelink", 'name="action"'):
        assert forbidden not in page
    # the only form on the page is signing out
    assert page.count("<form") == 1
    assert 'id="logout-form"' in page


def _grow(world, count):
    for _ in range(count):
        access_request = submitted(world, partner_customer=new_customer(world))
        take(world, access_request)
        services.draft_position(
            referral=referral(access_request, "DOC"), actor=world["doc_reviewer"], stance="concur"
        )
        for code in ("ONCD", "OSTP"):
            sign(world, access_request, code)
        services.add_internal_note(access_request=access_request, actor=world["doc_reviewer"], body="n")
    return access_request


PEOPLE = ["doc_reviewer", "doc_approver", "auditor"]
# what each person's dashboard counts one of per case: the size must show on the page, so that
# the 50 cases are really there (bulk copies are retallied by ``bulk_case_copies``)
PER_CASE = {
    "doc_reviewer": r"<strong>(\d+)</strong>assigned to me",
    "doc_approver": r"<strong>(\d+)</strong>positions to sign",
    "auditor": r"<strong>(\d+)</strong>in review",
}


@pytest.fixture(scope="class")
def dashboard_queries(module_world, django_db_blocker):
    """The dashboard's query count for each of ``PEOPLE`` at 5 and at 50 cases: five cases
    through the services, then 45 bulk copies of the fifth (each with its referrals, assignment
    and positions, tallied for the dashboard); rolled back after the class."""
    counts = {who: [] for who in PEOPLE}
    with RolledBackAtTheEnd(django_db_blocker):
        with django_db_blocker.unblock():
            world = fresh(module_world)
            last = refresh(_grow(world, 5))  # as the services left it (copies copy the object)
            for size in (5, 50):
                if size == 50:
                    bulk_case_copies(last, 45)
                for who in PEOPLE:
                    client = Client()
                    client.force_login(world[who])
                    client.get(DASHBOARD)
                    with CaptureQueriesContext(connection) as queries:
                        response = client.get(DASHBOARD)
                    assert response.status_code == 200
                    shown = re.search(PER_CASE[who], text(response))
                    assert shown, (who, size)
                    assert shown.group(1) == str(size), (who, size, shown.group(0))
                    counts[who].append(len(queries))
        yield counts


class TestDashboardSize:
    @pytest.mark.parametrize("who", PEOPLE)
    def test_dashboard_costs_the_same_for_5_and_50_cases(self, dashboard_queries, who):
        counts = dashboard_queries[who]
        print(who, counts)
        assert counts[0] == counts[1], counts
        assert counts[1] <= 40, counts
