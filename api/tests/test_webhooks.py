"""Webhooks: Standard-Webhooks signatures, the outbox, retries with backoff, order, once per event,
the redeliver button; checked against a real HTTP server on 127.0.0.1."""

import base64
import hashlib
import hmac
from datetime import timedelta

import pytest
from django.utils import timezone

from api import services
from api.models import WebhookDelivery
from api.services.webhooks import deliver_pending, sweep_webhooks
from api.tests.receiver import Receiver
from approvals import services as approvals_services
from approvals.tests.enforcement_helpers import BASIS, approved, lift, suspend
from portal.errors import PortalError

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


@pytest.fixture
def endpoint(world, receiver):
    return services.register_webhook_endpoint(
        vendor=world.vendor, actor=world["vendor_admin"], url=receiver.url
    )


def verify(secret, headers, body):
    """Standard Webhooks verification, written from the specification (not the portal's code)."""
    key = base64.b64decode(secret.split("_", 1)[1])
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(sig.split(",", 1)[1] == expected for sig in headers["webhook-signature"].split())


def test_a_grant_arrives_signed(world, endpoint, receiver, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        grant = approved(world)
    types = [e["type"] for e in receiver.events()]
    assert types == ["decision.approved", "grant.created"]
    for request in receiver.received:
        assert verify(endpoint.secret, request["headers"], request["body"])
        assert abs(int(request["headers"]["webhook-timestamp"]) - timezone.now().timestamp()) < 60
    created = receiver.events()[1]
    assert created["data"]["entitlement"]["cleared"] is True
    assert created["data"]["entitlement"]["grant"]["id"] == grant.pk
    assert created["id"] == receiver.received[1]["headers"]["webhook-id"]
    tampered = receiver.received[1]["body"].replace(b"true", b"fals")
    assert not verify(endpoint.secret, receiver.received[1]["headers"], tampered)


def test_no_endpoint_no_outbox_rows(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        approved(world)
    assert not WebhookDelivery.objects.exists()


def test_a_failed_delivery_is_retried_with_backoff_and_sent_once(
    world, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        grant = approved(world)
    receiver.received.clear()
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=True):
        approvals_services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    delivery = WebhookDelivery.objects.get(event_type="grant.revoked")
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("pending", 1, 500)
    assert delivery.available_at > timezone.now()  # backoff: not before its time
    assert deliver_pending(endpoint_id=endpoint.pk) is not None
    assert len(receiver.received) == 1
    WebhookDelivery.objects.filter(pk=delivery.pk).update(available_at=timezone.now() - timedelta(seconds=1))
    assert sweep_webhooks() == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert ids == [delivery.event_id, delivery.event_id]
    # a duplicated task or sweep finds nothing to send
    deliver_pending(endpoint_id=endpoint.pk)
    sweep_webhooks()
    assert len(receiver.received) == 2


def test_suspension_then_lift_arrive_in_order_even_after_a_failure(
    world, endpoint, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        grant = approved(world)
    receiver.received.clear()
    receiver.answers = [503]  # the suspension's first attempt fails
    with django_capture_on_commit_callbacks(execute=True):
        action = suspend(world)
    with django_capture_on_commit_callbacks(execute=True):
        lifted = lift(world)
    # the lift waits behind the suspension that has not gone through yet
    assert [e["type"] for e in receiver.events()] == ["grant.suspended"]
    assert WebhookDelivery.objects.get(event_type="grant.lifted").status == "pending"
    WebhookDelivery.objects.update(available_at=timezone.now() - timedelta(seconds=1))
    deliver_pending(endpoint_id=endpoint.pk)
    events = receiver.events()
    assert [e["type"] for e in events] == ["grant.suspended", "grant.suspended", "grant.lifted"]
    assert events[1]["data"]["action"]["reference"] == f"EA-{action.pk}"
    assert events[1]["data"]["grants"] == [{"pk": grant.pk, "partner_customer_id": grant.partner_customer_id}]
    assert events[2]["data"]["action"]["reference"] == f"EA-{lifted.pk}"


def test_a_hopeless_event_is_failed_visible_and_redeliverable(
    world, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    settings.API_WEBHOOK_MAX_ATTEMPTS = 1
    receiver.answers = [500, 500]
    with django_capture_on_commit_callbacks(execute=True):
        approved(world)
    failed = WebhookDelivery.objects.filter(status="failed")
    assert failed.count() == 2
    assert "HTTP 500" in failed.first().last_error
    delivery = failed.order_by("pk").first()
    with pytest.raises(PortalError, match="Only a compliance admin"):
        services.redeliver_webhook(delivery=delivery, actor=world["officer"])
    with django_capture_on_commit_callbacks(execute=True):
        services.redeliver_webhook(delivery=delivery, actor=world["vendor_admin"])
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert receiver.received[-1]["headers"]["webhook-id"] == delivery.event_id


def test_endpoints_must_be_https_outside_local_development(world, settings):
    with pytest.raises(PortalError, match="https://"):
        services.register_webhook_endpoint(
            vendor=world.vendor, actor=world["vendor_admin"], url="http://hooks.example.com/x"
        )
    settings.API_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    with pytest.raises(PortalError, match="https://"):
        services.register_webhook_endpoint(
            vendor=world.vendor, actor=world["vendor_admin"], url="http://127.0.0.1:9/x"
        )
    endpoint = services.register_webhook_endpoint(
        vendor=world.vendor, actor=world["vendor_admin"], url="https://hooks.example.com/x"
    )
    assert endpoint.secret.startswith("whsec_")
    assert endpoint.history.get().history_user == world["vendor_admin"]


def test_information_requests_and_designations_are_sent(
    world, endpoint, receiver, django_capture_on_commit_callbacks
):
    from approvals.tests.factories import submitted

    access_request = submitted(world)
    referral = access_request.referrals.get(agency__code="DOC")
    with django_capture_on_commit_callbacks(execute=True):
        approvals_services.issue_information_request(
            access_request=access_request, actor=world["doc_reviewer"], question="Which regions?"
        )
    assert referral.pk
    with django_capture_on_commit_callbacks(execute=True):
        approvals_services.designate_supply_chain_risk(
            vendor=world.vendor, actor=world["doc_approver"], **BASIS
        )
    types = [e["type"] for e in receiver.events()]
    assert types == ["information_request.issued", "vendor.designated"]
    assert receiver.events()[0]["data"]["question"] == "Which regions?"
