"""The entitlement check: cleared or not and why, one pair or a batch, the same answer on the pages."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api.tests.conftest import bearer, make_token
from approvals import services
from approvals.models import Grant
from approvals.selectors.entitlements import Reason, entitlement
from approvals.tests.enforcement_helpers import BASIS, approved, bulk_grants, lift, suspend
from approvals.tests.factories import new_customer, sign, submitted
from portal import permissions
from vendors.models import PartnerCustomer
from vendors.services import withdraw_frontier_model

pytestmark = pytest.mark.django_db

URL = "/api/v1/entitlements/"


def ask(client, model, customer):
    return client.get(URL, {"model": model, "customer": customer})


def test_cleared_with_grant_validity_conditions_and_phase(world, rw_client):
    customer = new_customer(world, registration_id="CRM-0042")
    access_request = submitted(world, partner_customer=customer)
    for ref in access_request.referrals.select_related("agency"):
        code = ref.agency.code
        conditions = [{"kind": "text", "text": "U.S.-only data residency."}] if code == "ONCD" else ()
        stance = "concur_with_conditions" if conditions else "concur"
        sign(world, access_request, code, stance, conditions=conditions)
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    grant = Grant.objects.get(access_request=access_request)

    # by id, by reference, by model name and by "name version": the same answer
    for model, ref in [
        (world.frontier_model.pk, customer.pk),
        (world.frontier_model.name, "CRM-0042"),
        (f"{world.frontier_model.name} {world.frontier_model.version}", "CRM-0042"),
    ]:
        body = ask(rw_client, model, ref).json()
        assert body["cleared"] is True
        assert body["reason"] == "cleared"
        assert body["grant"]["id"] == grant.pk
        assert body["grant"]["valid_to"] == grant.valid_to.isoformat()
        assert body["frontier_model"]["release_phase"] == "limited_preview"
        assert [(c["text"], c["proposed_by"]) for c in body["grant"]["conditions"]] == [
            ("U.S.-only data residency.", "ONCD")
        ]


def test_not_cleared_without_a_grant(world, rw_client):
    body = ask(rw_client, world.frontier_model.pk, world.partner_customer.pk).json()
    assert (body["cleared"], body["reason"], body["grant"]) == (False, "no_grant", None)


def test_suspension_answers_with_the_actions_reference_and_a_lift_restores(world, rw_client):
    grant = approved(world)
    action = suspend(world)
    body = ask(rw_client, world.frontier_model.pk, grant.partner_customer_id).json()
    assert (body["cleared"], body["reason"]) == (False, "suspended")
    assert body["enforcement_action"]["reference"] == f"EA-{action.pk}"
    assert body["frontier_model"]["release_phase"] == "suspended"
    lift(world)
    assert ask(rw_client, world.frontier_model.pk, grant.partner_customer_id).json()["cleared"] is True


def test_revoked_expired_and_withdrawn(world, rw_client):
    revoked = approved(world)
    action = services.revoke_grant(grant=revoked, actor=world["doc_approver"], **BASIS)
    body = ask(rw_client, world.frontier_model.pk, revoked.partner_customer_id).json()
    assert (body["reason"], body["enforcement_action"]["reference"]) == ("revoked", f"EA-{action.pk}")

    lapsing = approved(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=400)):
        rw_client = bearer(make_token(world, name="later")[1])  # the first token has expired too
        assert (
            ask(rw_client, world.frontier_model.pk, lapsing.partner_customer_id).json()["reason"] == "expired"
        )
        services.expire_lapsed_grants()
        assert (
            ask(rw_client, world.frontier_model.pk, lapsing.partner_customer_id).json()["reason"] == "expired"
        )

    withdraw_frontier_model(frontier_model=world.frontier_model, actor=world["officer"], reason="Retired.")
    body = ask(rw_client, world.frontier_model.pk, lapsing.partner_customer_id).json()
    assert (body["cleared"], body["reason"]) == (False, "model_withdrawn")


def test_another_vendors_model_or_customer_is_not_found(world, rw_client):
    theirs = PartnerCustomer.objects.create(
        vendor=world.other_vendor,
        legal_name="Their Customer",
        country="US",
        sector="other",
        intended_use="x",
        security_contact_name="x",
        security_contact_email="x@example.com",
    )
    response = ask(rw_client, world.frontier_model.pk, theirs.pk)
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "customer"
    response = ask(rw_client, "no such model", world.partner_customer.pk)
    assert response.json()["errors"][0]["field"] == "model"


@pytest.mark.parametrize(
    "query", [{}, {"model": "1"}, {"model": "x" * 500, "customer": "1"}, {"model": "\x00"}]
)
def test_bad_queries_are_problems_not_500s(world, rw_client, query):
    response = rw_client.get(URL, query)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]


def test_batch_answers_in_order_with_unknowns_flagged(world, rw_client):
    grant = approved(world)
    pairs = [
        {"model": str(world.frontier_model.pk), "customer": str(grant.partner_customer_id)},
        {"model": str(world.frontier_model.pk), "customer": str(world.partner_customer.pk)},
        {"model": "999999", "customer": "1"},
    ]
    results = rw_client.post(URL + "batch/", {"pairs": pairs}, format="json").json()["results"]
    assert [r["found"] for r in results] == [True, True, False]
    assert [r.get("entitlement", {}).get("reason") for r in results] == ["cleared", "no_grant", None]


def test_batch_refuses_more_than_1000_pairs(world, rw_client):
    pairs = [{"model": "1", "customer": str(n)} for n in range(1001)]
    response = rw_client.post(URL + "batch/", {"pairs": pairs}, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "pairs"


@pytest.mark.parametrize("size", [10, 100])
def test_batch_costs_the_same_queries_at_any_size(world, django_assert_max_num_queries, size):
    grants = bulk_grants(world, size, share=True)
    customers = list(PartnerCustomer.objects.filter(pk__in=[g.partner_customer_id for g in grants]))
    permissions.grant_many("view", world.vendor.members_group, customers)
    _, secret = make_token(world)
    client = bearer(secret)
    pairs = [{"model": str(world.frontier_model.pk), "customer": str(c.pk)} for c in customers]
    # token, throttle-free cache, models, customers, grants, conditions, token use (a POST)
    with django_assert_max_num_queries(12):
        response = client.post(URL + "batch/", {"pairs": pairs}, format="json")
    results = response.json()["results"]
    assert len(results) == size
    assert all(r["entitlement"]["cleared"] for r in results)


def test_the_selector_agrees_with_is_customer_cleared(world):
    from approvals.selectors.grants import is_customer_cleared

    grant = approved(world)
    answer = entitlement(frontier_model=world.frontier_model, partner_customer=grant.partner_customer)
    assert answer.reason == Reason.CLEARED
    assert is_customer_cleared(frontier_model=world.frontier_model, partner_customer=grant.partner_customer)
