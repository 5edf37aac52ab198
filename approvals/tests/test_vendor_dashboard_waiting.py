"""The vendor dashboard: one "waiting on you" list, grants ending soon with renewal, each notice once."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import Grant
from approvals.tests.enforcement_helpers import BASIS, approved
from approvals.tests.factories import submitted

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def expiring_section(response):
    page = text(response)
    return page[page.index("Grants ending within 60 days") : page.index("Access requests</h2>")]


def ending_in(grant, days):
    """The grant's end moved, as a renewal test needs it (no service sets an arbitrary end)."""
    Grant.objects.filter(pk=grant.pk).update(valid_to=timezone.localdate() + timedelta(days=days))
    return Grant.objects.get(pk=grant.pk)


def test_grants_ending_within_60_days_are_listed_with_a_renew_button_for_those_who_may(client, world):
    soon = ending_in(approved(world), 20)
    later = ending_in(approved(world), 90)

    client.force_login(world["officer"])
    page = expiring_section(client.get("/vendor/"))
    assert soon.partner_customer.legal_name in page
    assert later.partner_customer.legal_name not in page
    assert f'href="/vendor/grants/{soon.pk}/renew/"' in page
    client.force_login(world["viewer"])
    page = expiring_section(client.get("/vendor/"))
    assert soon.partner_customer.legal_name in page
    assert "/renew/" not in page
    client.force_login(world["other_officer"])
    assert soon.partner_customer.legal_name not in text(client.get("/vendor/"))


def test_one_waiting_list_holds_the_question_and_the_designation_and_the_designation_shows_once(
    client, world
):
    asked = submitted(world)
    services.issue_information_request(
        access_request=asked, actor=world["doc_reviewer"], question="Which regions?"
    )
    services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)

    client.force_login(world["officer"])
    page = text(client.get("/vendor/"))
    waiting = page[page.index("Waiting on you") : page.index("Access requests</h2>")]
    assert f"{asked.tracking_number}</a>: DOC asked a question" in waiting
    assert "Supply-chain-risk designation</a>: your answer to the findings" in waiting
    assert "2 items are waiting on you" in page
    assert "nothing is waiting on you" not in page
    assert page.count("Designated a supply-chain risk") == 1


def test_an_answered_designation_still_shows_once_and_waits_no_more(client, world):
    submitted(world)  # the vendor is known to the lead agency
    designation = services.designate_supply_chain_risk(
        vendor=world.vendor, actor=world["doc_approver"], **BASIS
    )
    services.respond_to_designation(action=designation, actor=world["officer"], response="Replaced in May.")

    client.force_login(world["officer"])
    page = text(client.get("/vendor/"))
    assert page.count("Designated a supply-chain risk") == 1
    assert "nothing is waiting on you" in page


@pytest.mark.parametrize("extra", [2, 12])
def test_the_dashboard_costs_the_same_with_more_expiring_grants(
    client, world, extra, django_assert_max_num_queries
):
    for _ in range(extra):
        ending_in(approved(world), 10)
    client.force_login(world["officer"])
    with django_assert_max_num_queries(45):
        assert client.get("/vendor/").status_code == 200
