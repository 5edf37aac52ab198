"""Entitlement answers kept in Redis are never served after a change that could alter them
(``api.entitlement_cache``), on the lean path and on the DRF view alike."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from api import entitlement_cache
from api import services as api_services
from api.tests.conftest import bearer, make_token
from api.views import lean_entitlement
from approvals import services
from approvals.models import Grant
from approvals.tests.enforcement_helpers import BASIS, approved, lift, suspend
from portal.accounts.services import deactivate_member
from vendors.services import update_partner_customer, withdraw_frontier_model

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the lean path runs on PostgreSQL"),
]

URL = "/api/v1/entitlements/"
DRF = {"HTTP_ACCEPT": "application/json; indent=2"}  # declined by the lean path: the DRF view answers


@pytest.fixture
def redis_cache(settings, redis_url):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "test-entitlements",
        }
    }
    settings.API_ENTITLEMENT_CACHE_SECONDS = 300
    from django.core.cache import caches

    cache = caches["default"]
    cache.clear()
    yield cache
    cache.clear()


@pytest.fixture
def kept(world, redis_cache, django_capture_on_commit_callbacks):
    """A cleared grant, a token, and a ``change`` helper that commits (its ``on_commit`` runs)."""
    # ``world`` was built in the test's transaction, which never commits: its increment waits
    # (and, pending, would stand for every later one of the transaction). Run it, as a commit would.
    for _, func, _ in connection.run_on_commit:
        if isinstance(func, entitlement_cache._Increment) and not func.done:
            func()
    with django_capture_on_commit_callbacks(execute=True):
        grant = approved(world)
        token, secret = make_token(world)

    class Kept:
        pass

    k = Kept()
    k.grant, k.token, k.client = grant, token, bearer(secret)
    k.query = {"model": world.frontier_model.pk, "customer": grant.partner_customer_id}

    def change(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            result = function(*args, **kwargs)
        assert any(isinstance(c, entitlement_cache._Increment) for c in callbacks), "no increment"
        return result

    k.change = change
    return k


def generation(cache):
    return cache.get(entitlement_cache.GENERATION)


def prime(k, **headers):
    """Ask until the answer is kept; on the lean path the last asking runs no SQL at all."""
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            response = k.client.get(URL, k.query, **headers)
        assert response.status_code == 200
        if not headers and not queries:
            return response.json()
    if headers:
        return response.json()
    raise AssertionError("the lean path never answered from the cache")


def ask(k, **headers):
    response = k.client.get(URL, k.query, **headers)
    return response.status_code, response.json()


def test_a_repeated_check_runs_no_sql_and_says_the_same(kept):
    first = kept.client.get(URL, kept.query).json()
    assert prime(kept) == first
    assert first["cleared"] is True


def _suspend(world, k):
    suspend(world)


def _revoke(world, k):
    services.revoke_grant(grant=k.grant, actor=world["doc_approver"], **BASIS)


def _expire(world, k):
    services.expire_lapsed_grants(today=k.grant.valid_to + timedelta(days=1))


def _withdraw(world, k):
    withdraw_frontier_model(
        frontier_model=world.frontier_model, actor=world["vendor_admin"], reason="Retired."
    )


CHANGES = [
    (_suspend, "suspended"),
    (_revoke, "revoked"),
    (_expire, "expired"),
    (_withdraw, "model_withdrawn"),
]


@pytest.mark.parametrize("path", [{}, DRF], ids=["lean", "drf"])
@pytest.mark.parametrize(("change", "reason"), CHANGES, ids=[c.__name__[1:] for c, _ in CHANGES])
def test_a_kept_cleared_answer_flips_at_once(world, kept, change, reason, path):
    assert prime(kept, **path)["cleared"] is True
    kept.change(change, world, kept)
    status, body = ask(kept, **path)
    assert (status, body["cleared"], body["reason"]) == (200, False, reason)
    if reason == "suspended":
        assert body["enforcement_action"]["reference"].startswith("EA-")


@pytest.mark.parametrize("path", [{}, DRF], ids=["lean", "drf"])
def test_a_kept_suspended_answer_flips_when_lifted(world, kept, path):
    kept.change(suspend, world)
    assert prime(kept, **path)["reason"] == "suspended"
    kept.change(lift, world)
    assert ask(kept, **path)[1]["cleared"] is True


@pytest.mark.parametrize("path", [{}, DRF], ids=["lean", "drf"])
def test_a_revoked_token_or_a_departed_creator_is_refused_at_once(world, kept, path):
    prime(kept, **path)
    kept.change(api_services.revoke_api_token, token=kept.token, actor=world["vendor_admin"])
    assert ask(kept, **path)[0] == 401
    # a second token, its creator deactivated
    _, secret = kept.change(make_token, world)
    kept.client = bearer(secret)
    prime(kept, **path)
    kept.change(deactivate_member, user=world["vendor_admin"], actor=world["doc_approver"], reason="Left.")
    assert ask(kept, **path)[0] in (401, 403)


@pytest.mark.parametrize("path", [{}, DRF], ids=["lean", "drf"])
def test_a_customer_change_shows_at_once(world, kept, path):
    prime(kept, **path)
    customer = kept.grant.partner_customer
    kept.change(
        update_partner_customer,
        partner_customer=customer,
        actor=world["vendor_admin"],
        reason="Their CRM id changed.",
        registration_id="CRM-NEW-1",
    )
    assert ask(kept, **path)[1]["partner_customer"]["reference"] == "CRM-NEW-1"


def test_a_designation_clears_the_kept_answers(world, kept, redis_cache):
    prime(kept)
    before = generation(redis_cache)
    kept.change(
        services.designate_supply_chain_risk, vendor=world.vendor, actor=world["doc_approver"], **BASIS
    )
    assert generation(redis_cache) > before
    with CaptureQueriesContext(connection) as queries:
        assert ask(kept)[1]["cleared"] is True  # a designation does not suspend: read again, same
    assert len(queries) >= 1


def test_the_drf_view_serves_the_kept_answer(kept):
    """A write that bypasses the services (no history, so no increment) is not seen: the DRF
    view answered from the cache, which is what the tests above rely on to mean something."""
    assert prime(kept, **DRF)["grant"]["status_reason"] != "poked"
    Grant.objects.filter(pk=kept.grant.pk).update(status_reason="poked")
    assert ask(kept, **DRF)[1]["grant"]["status_reason"] != "poked"
    assert ask(kept)[1]["grant"]["status_reason"] != "poked"


def test_the_generation_moves_only_after_commit(world, kept, redis_cache, django_capture_on_commit_callbacks):
    prime(kept)
    before = generation(redis_cache)

    def suspend_then_fail():
        with transaction.atomic():
            suspend(world)
            assert generation(redis_cache) == before  # not before commit
            raise RuntimeError("rolled back")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        suspend_then_fail()
    assert callbacks == []
    assert generation(redis_cache) == before
    assert prime(kept)["cleared"] is True  # still kept, still right: the suspension never happened
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        suspend(world)
        assert generation(redis_cache) == before  # inside the transaction still
    increments = [c for c in callbacks if isinstance(c, entitlement_cache._Increment)]
    assert len(increments) == 1  # once per transaction, however many rows it wrote
    assert generation(redis_cache) == before + 1
    assert ask(kept)[1]["reason"] == "suspended"


def test_without_redis_every_check_reads_the_database(
    world, kept, settings, django_capture_on_commit_callbacks
):
    backend = "django.core.cache.backends.redis.RedisCache"
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:1/0"}}
    for path in ({}, DRF):
        assert ask(kept, **path)[1]["cleared"] is True
    with django_capture_on_commit_callbacks(execute=True):
        suspend(world)  # the increment fails (logged); the change is made
    for path in ({}, DRF):
        assert ask(kept, **path)[1]["reason"] == "suspended"


def test_every_table_the_check_reads_is_watched():
    """A model added to the check's statement must be added to ``watched_models`` (or its
    changes would not clear the answers kept)."""
    import re

    from approvals.models import Grant

    read = set(re.findall(r'FROM "(\w+)"|JOIN "(\w+)"', lean_entitlement._statement()))
    tables = {name for pair in read for name in pair if name}
    watched = {model._meta.db_table for model in entitlement_cache.watched_models()}
    watched.add(Grant.conditions.through._meta.db_table)  # m2m_changed
    assert len(tables) >= 9
    assert tables <= watched, tables - watched
