"""API tokens: created by compliance admins only, shown once, stored hashed, expiring, revocable,
rate-limited, and read-only unless read-write."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from api import services
from api.models import ApiToken, ApiTokenUse
from api.models.tokens import hash_secret
from api.tests.conftest import bearer, make_token
from portal.errors import PortalError

pytestmark = pytest.mark.django_db

ENTITLEMENTS = "/api/v1/entitlements/"


def test_token_is_stored_only_as_a_hash_with_history(world):
    token, secret = make_token(world)
    assert secret.startswith("fap_")
    assert len(secret) > 40
    stored = ApiToken.objects.get(pk=token.pk)
    assert secret not in {stored.prefix, stored.secret_sha256, stored.name}
    assert stored.secret_sha256 == hash_secret(secret)
    assert secret.startswith(stored.prefix)
    row = stored.history.get()
    assert row.history_user == world["vendor_admin"]
    assert "created" in row.history_change_reason


@pytest.mark.parametrize("who", ["officer", "viewer", "other_officer", "doc_approver", "auditor"])
def test_only_the_vendors_compliance_admin_creates_tokens(world, who):
    with pytest.raises(PortalError, match="Only a compliance admin"):
        services.create_api_token(
            vendor=world.vendor, actor=world[who], name="x", scope="read", expires_in_days=10
        )


@pytest.mark.parametrize("days", [0, 366, "soon"])
def test_a_token_lives_at_most_a_year(world, days):
    with pytest.raises(PortalError, match=r"between 1 and 365 days|lifetime in days"):
        make_token(world, expires_in_days=days)


def test_unknown_missing_and_malformed_tokens_are_refused_as_problems(world):
    for client in (bearer("fap_nope"), bearer("garbage"), bearer("")):
        response = client.get(ENTITLEMENTS, {"model": "1", "customer": "1"})
        assert response.status_code == 401
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["status"] == 401


def test_revoked_and_expired_tokens_stop_working(world):
    token, secret = make_token(world)
    client = bearer(secret)
    query = {"model": world.frontier_model.pk, "customer": world.partner_customer.pk}
    assert client.get(ENTITLEMENTS, query).status_code == 200
    with time_machine.travel(timezone.localtime() + timedelta(days=31)):
        assert client.get(ENTITLEMENTS, query).status_code == 401
    services.revoke_api_token(token=token, actor=world["vendor_admin"])
    assert client.get(ENTITLEMENTS, query).status_code == 401
    with pytest.raises(PortalError, match="already revoked"):
        services.revoke_api_token(token=token, actor=world["vendor_admin"])


def test_a_token_dies_with_its_creators_membership(world):
    _, secret = make_token(world)
    admin = world["vendor_admin"]
    admin.is_active = False
    admin.save(update_fields=["is_active"])
    assert bearer(secret).get(ENTITLEMENTS, {"model": "1", "customer": "1"}).status_code == 401


def test_last_use_is_recorded(world):
    token, secret = make_token(world)
    query = {"model": world.frontier_model.pk, "customer": world.partner_customer.pk}
    bearer(secret).get(ENTITLEMENTS, query)
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_a_read_token_cannot_write(world, ro_client):
    response = ro_client.post("/api/v1/entitlements/batch/", {"pairs": []}, format="json")
    assert response.status_code == 403
    assert "only read" in response.json()["detail"]


def test_every_write_is_attributed_to_the_token_and_its_creator(world):
    token, secret = make_token(world)
    pair = {"model": str(world.frontier_model.pk), "customer": str(world.partner_customer.pk)}
    response = bearer(secret).post("/api/v1/entitlements/batch/", {"pairs": [pair]}, format="json")
    assert response.status_code == 200
    use = ApiTokenUse.objects.get()
    assert (use.token, use.acting_user, use.method, use.status_code) == (
        token,
        world["vendor_admin"],
        "POST",
        200,
    )


def test_tokens_are_rate_limited_each_on_its_own(world, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "api_token": "3/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    from api.throttling import TokenRateThrottle

    original = TokenRateThrottle.THROTTLE_RATES
    TokenRateThrottle.THROTTLE_RATES = rates
    try:
        first, second = bearer(make_token(world)[1]), bearer(make_token(world, name="other")[1])
        query = {"model": world.frontier_model.pk, "customer": world.partner_customer.pk}
        codes = [first.get(ENTITLEMENTS, query).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert second.get(ENTITLEMENTS, query).status_code == 200
    finally:
        TokenRateThrottle.THROTTLE_RATES = original


def test_session_writes_need_the_csrf_token(world):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(world["officer"])
    pair = {"model": str(world.frontier_model.pk), "customer": str(world.partner_customer.pk)}
    assert client.get(ENTITLEMENTS, pair).status_code == 200
    response = client.post("/api/v1/entitlements/batch/", {"pairs": [pair]}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
