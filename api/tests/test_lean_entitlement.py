"""The entitlement check's lean path answers exactly what the DRF view answers, in one query."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from api import services as api_services
from api.tests.conftest import bearer, make_token
from api.views import lean_entitlement
from approvals import services
from approvals.tests.enforcement_helpers import BASIS, approved, suspend
from approvals.tests.factories import new_customer, sign, submitted
from vendors.services import withdraw_frontier_model

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the lean path runs on PostgreSQL"),
]

URL = "/api/v1/entitlements/"
HEADERS = ("Content-Type", "Vary", "Allow")


def both(client, monkeypatch, model, customer):
    """The lean answer and the DRF view's, which must be the same response."""
    query = {"model": model, "customer": customer}
    taken = []
    real = lean_entitlement.answer

    def watched(request):
        response = real(request)
        taken.append(response is not None)
        return response

    with monkeypatch.context() as patch:
        patch.setattr(lean_entitlement, "answer", watched)
        lean = client.get(URL, query)
    with monkeypatch.context() as patch:
        patch.setattr(lean_entitlement, "answer", lambda request: None)
        full = client.get(URL, query)
    assert taken == [True], "the lean path did not answer"
    assert (lean.status_code, lean.json()) == (full.status_code, full.json())
    assert [lean.get(h) for h in HEADERS] == [full.get(h) for h in HEADERS]
    return lean.json()


def test_every_answer_is_the_views_answer(world, rw_client, monkeypatch):
    # cleared, with a condition, asked by id, by reference and by name
    customer = new_customer(world, registration_id="CRM-7")
    access_request = submitted(world, partner_customer=customer)
    for ref in access_request.referrals.select_related("agency"):
        code = ref.agency.code
        conditions = [{"kind": "text", "text": "No use in \u2028 weapons work."}] if code == "ONCD" else ()
        stance = "concur_with_conditions" if conditions else "concur"
        sign(world, access_request, code, stance, conditions=conditions)
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    model = world.frontier_model
    for asked in [(model.pk, customer.pk), (model.name, "CRM-7"), (f"{model.name} {model.version}", "CRM-7")]:
        body = both(rw_client, monkeypatch, *asked)
        assert (body["reason"], body["grant"]["conditions"][0]["proposed_by"]) == ("cleared", "ONCD")

    # no grant
    assert both(rw_client, monkeypatch, model.pk, world.partner_customer.pk)["reason"] == "no_grant"

    # revoked, with the revocation's reference
    revoked = approved(world)
    action = services.revoke_grant(grant=revoked, actor=world["doc_approver"], **BASIS)
    body = both(rw_client, monkeypatch, model.pk, revoked.partner_customer_id)
    assert (body["reason"], body["enforcement_action"]["reference"]) == ("revoked", f"EA-{action.pk}")

    # suspended with the model, with the suspension's reference
    suspension = suspend(world)
    body = both(rw_client, monkeypatch, model.pk, customer.pk)
    assert (body["reason"], body["enforcement_action"]["reference"]) == ("suspended", f"EA-{suspension.pk}")


def test_expired_and_withdrawn_are_the_views_answers(world, monkeypatch):
    lapsing = approved(world)
    with time_machine.travel(timezone.localtime() + timedelta(days=400)):
        client = bearer(make_token(world, name="later")[1])
        body = both(client, monkeypatch, world.frontier_model.pk, lapsing.partner_customer_id)
        assert body["reason"] == "expired"
    withdraw_frontier_model(frontier_model=world.frontier_model, actor=world["officer"], reason="Retired.")
    client = bearer(make_token(world, name="now")[1])
    body = both(client, monkeypatch, world.frontier_model.pk, lapsing.partner_customer_id)
    assert body["reason"] == "model_withdrawn"


def test_one_query_per_check_once_the_last_use_is_noted(world, rw_client, django_assert_num_queries):
    grant = approved(world)
    query = {"model": world.frontier_model.pk, "customer": grant.partner_customer_id}
    rw_client.get(URL, query)  # notes the token's last use
    with django_assert_num_queries(1):
        assert rw_client.get(URL, query).json()["cleared"] is True


def test_a_revoked_token_is_refused_at_once(world, monkeypatch):
    token, secret = make_token(world)
    client = bearer(secret)
    query = {"model": world.frontier_model.pk, "customer": world.partner_customer.pk}
    assert client.get(URL, query).status_code == 200
    api_services.revoke_api_token(token=token, actor=world["vendor_admin"])
    response = client.get(URL, query)
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(
    "query",
    [
        {"model": "1", "customer": "1", "format": "json"},
        {"model": ["1", "2"], "customer": "1"},
        {"model": " ", "customer": "1"},
        {"model": "x" * 201, "customer": "1"},
    ],
)
def test_anything_unusual_goes_to_the_view(world, rw_client, query, monkeypatch):
    calls = []
    real = lean_entitlement.answer
    monkeypatch.setattr(lean_entitlement, "answer", lambda request: calls.append(real(request)) or calls[-1])
    rw_client.get(URL, query)
    pair = {"model": world.frontier_model.pk, "customer": world.partner_customer.pk}
    rw_client.get(URL, pair, HTTP_ACCEPT="application/json; indent=2")
    rw_client.get(URL, pair, HTTP_ACCEPT="text/html")
    rw_client.get(URL, pair)  # the same pair, plainly asked: the lean path answers
    assert calls[:3] == [None, None, None]
    assert calls[3] is not None


def test_without_the_cache_a_suspension_answers_at_once(world, rw_client, settings):
    # answers are kept only in Redis (api/tests/test_entitlement_cache.py); here the cache is
    # in-process memory, which could not hear another process's change: nothing is kept
    assert settings.CACHES["default"]["BACKEND"].endswith("LocMemCache")
    grant = approved(world)
    query = {"model": world.frontier_model.pk, "customer": grant.partner_customer_id}
    assert rw_client.get(URL, query).json()["cleared"] is True
    suspend(world)
    assert rw_client.get(URL, query).json()["reason"] == "suspended"
