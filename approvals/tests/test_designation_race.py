"""A request submitted at the same moment as its vendor is designated a supply-chain risk still
gets the DOD referral (PostgreSQL: real row locks, two connections).

The interleaving is forced, not left to chance: the submission reads the vendor for routing,
then waits (up to two seconds) for the designation to finish. Unless the submission holds the
vendor row, the designation commits in that gap without seeing the request, and the request is
submitted on the stale routing without DOD."""

import threading

import pytest

from approvals import services
from approvals.services import requests as request_services
from approvals.tests.enforcement_helpers import BASIS
from approvals.tests.factories import build_world, draft, new_customer, refresh, submitted
from approvals.tests.test_concurrency import race

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_submission_racing_a_designation_is_referred_to_dod(postgres_only, monkeypatch):
    world = build_world()
    submitted(world)  # the vendor is known to the agencies
    racing = draft(world, partner_customer=new_customer(world))
    routed = threading.Event()
    designated = threading.Event()
    route = request_services.route

    def route_then_let_the_designation_run(access_request):
        routes = route(access_request)
        routed.set()
        designated.wait(timeout=2)  # with the lock, the designation waits for us instead
        return routes

    monkeypatch.setattr(request_services, "route", route_then_let_the_designation_run)

    def designate():
        routed.wait(timeout=10)
        try:
            return services.designate_supply_chain_risk(
                vendor=world.vendor, actor=world["doc_approver"], **BASIS
            )
        finally:
            designated.set()

    outcomes = race(
        lambda: services.submit_request(access_request=racing, actor=world["officer"]),
        designate,
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    racing = refresh(racing)
    assert racing.status != "draft"
    assert racing.referrals.filter(agency__code="DOD").exists(), "the racing request missed the DOD referral"
    world.vendor.refresh_from_db()
    assert world.vendor.is_supply_chain_risk
