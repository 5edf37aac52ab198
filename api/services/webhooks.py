"""Webhook endpoints, the outbox of events for them, and their delivery.

An event is written as one ``WebhookDelivery`` row per active endpoint of the vendor, in the
transaction of the change it reports, and queued after commit. Delivery follows the e-mail
outbox's claim → send → mark pattern: a row is claimed from ``pending`` to ``sending`` in its own
committed transaction, so a duplicated or retried task never sends it twice. An endpoint's events
go out in the order they happened: the oldest undelivered one blocks the later ones.
"""

import base64
import hashlib
import hmac
import json
import secrets
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from api import policies
from api.models import WebhookDelivery, WebhookEndpoint
from portal.audit.history import save_with_history
from portal.errors import PortalError

MAX_ENDPOINTS = 5


def new_secret():
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _check_url(url):
    parsed = urlparse(url or "")
    local = parsed.hostname in {"127.0.0.1", "localhost", "::1"}
    if parsed.scheme == "https" and parsed.hostname:
        return
    if parsed.scheme == "http" and local and settings.API_WEBHOOKS_ALLOW_LOCAL_HTTP:
        return
    raise PortalError("A webhook address must start with https://.", field="url")


@transaction.atomic
def register_webhook_endpoint(*, vendor, actor, url, description=""):
    """Register an HTTPS endpoint for ``vendor``; returns it with its new signing secret."""
    policies.require_manage_integrations(actor, vendor)
    url = (url or "").strip()
    _check_url(url)
    if WebhookEndpoint.objects.filter(vendor=vendor, is_active=True).count() >= MAX_ENDPOINTS:
        raise PortalError(f"A vendor has at most {MAX_ENDPOINTS} active webhook endpoints.")
    endpoint = WebhookEndpoint(
        vendor=vendor, url=url, description=(description or "").strip(), secret=new_secret(), created_by=actor
    )
    return save_with_history(endpoint, actor=actor, reason=f"Webhook endpoint {url} registered.")


@transaction.atomic
def deactivate_webhook_endpoint(*, endpoint, actor):
    """Stop sending to an endpoint; its delivery log stays readable."""
    endpoint = WebhookEndpoint.objects.select_for_update().select_related("vendor").get(pk=endpoint.pk)
    policies.require_manage_integrations(actor, endpoint.vendor)
    if not endpoint.is_active:
        raise PortalError("This endpoint is already switched off.")
    endpoint.is_active = False
    return save_with_history(
        endpoint,
        actor=actor,
        reason=f"Webhook endpoint {endpoint.url} switched off.",
        update_fields=["is_active"],
    )


@transaction.atomic
def redeliver_webhook(*, delivery, actor):
    """Send a failed (or delivered) event again, under the same event id: the receiver can tell."""
    delivery = (
        WebhookDelivery.objects.select_for_update().select_related("endpoint__vendor").get(pk=delivery.pk)
    )
    policies.require_manage_integrations(actor, delivery.endpoint.vendor)
    if delivery.status in (WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING):
        raise PortalError("This event is already waiting to be sent.")
    if not delivery.endpoint.is_active:
        raise PortalError("The endpoint is switched off; switch on a new one to receive events.")
    delivery.status = WebhookDelivery.Status.PENDING
    delivery.attempts = 0
    delivery.available_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "available_at"])
    _queue(delivery.endpoint_id)
    return delivery


def _queue(endpoint_id):
    from api.tasks import deliver_webhooks

    transaction.on_commit(lambda: deliver_webhooks.delay(endpoint_id))


def record_webhook_event(*, vendor, event_type, event_id, data):
    """Write the event for each active endpoint of ``vendor`` (once per event id) and queue it."""
    endpoints = list(
        WebhookEndpoint.objects.filter(vendor=vendor, is_active=True).values_list("pk", flat=True)
    )
    if not endpoints:
        return 0
    payload = json.loads(
        json.dumps({"type": event_type, "timestamp": timezone.now(), "data": data}, cls=DjangoJSONEncoder)
    )
    rows = [
        WebhookDelivery(endpoint_id=pk, event_id=event_id, event_type=event_type, payload=payload)
        for pk in endpoints
    ]
    try:
        with transaction.atomic():
            WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True)
    except IntegrityError:  # pragma: no cover - ignore_conflicts covers the unique event id
        return 0
    for pk in endpoints:
        _queue(pk)
    return len(rows)


# ---------------------------------------------------------------------------------------------
# Sending


def sign(secret, event_id, timestamp, body):
    """The Standard Webhooks signature: ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    message = f"{event_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def _backoff(attempts):
    base = settings.API_WEBHOOK_RETRY_BACKOFF_BASE
    return min(settings.API_WEBHOOK_RETRY_BACKOFF_MAX, base * (2 ** max(0, attempts - 1)))


def _next_due(endpoint_id, now):
    """The endpoint's oldest undelivered event, if it is due: events go out in order."""
    head = (
        WebhookDelivery.objects.filter(
            endpoint_id=endpoint_id,
            status__in=[WebhookDelivery.Status.PENDING, WebhookDelivery.Status.SENDING],
        )
        .order_by("created_at", "pk")
        .first()
    )
    if head is None:
        return None, None
    if head.status == WebhookDelivery.Status.SENDING:
        lease = timedelta(seconds=settings.API_WEBHOOK_SENDING_LEASE)
        if head.claimed_at and head.claimed_at > now - lease:
            return None, None  # another worker holds it
    elif head.available_at > now:
        return None, (head.available_at - now).total_seconds()
    claimed = WebhookDelivery.objects.filter(pk=head.pk, status=head.status, attempts=head.attempts).update(
        status=WebhookDelivery.Status.SENDING, claimed_at=now
    )
    return (head if claimed else None), None


def _post(endpoint, delivery):
    body = json.dumps(
        {"id": delivery.event_id, **delivery.payload}, separators=(",", ":"), sort_keys=True
    ).encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the scheme was checked at registration
        endpoint.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "FrontierAccessPortal-Webhooks/1",
            "webhook-id": delivery.event_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": sign(endpoint.secret, delivery.event_id, timestamp, body),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.API_WEBHOOK_TIMEOUT) as response:  # noqa: S310 - checked scheme
            return response.status, ""
    except urllib.error.HTTPError as error:
        return error.code, f"HTTP {error.code}"
    except (urllib.error.URLError, OSError, ValueError) as error:
        return None, str(getattr(error, "reason", error))[:500]


def deliver_pending(*, endpoint_id):
    """Send the endpoint's due events in order until one fails or none is due.

    Returns the seconds until the next retry is due (``None`` when nothing waits)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        return None
    while True:
        now = timezone.now()
        delivery, wait = _next_due(endpoint_id, now)
        if delivery is None:
            return wait
        if not endpoint.is_active:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.FAILED, last_error="The endpoint was switched off."
            )
            continue
        status_code, error = _post(endpoint, delivery)
        attempts = delivery.attempts + 1
        if status_code is not None and 200 <= status_code < 300:
            WebhookDelivery.objects.filter(pk=delivery.pk).update(
                status=WebhookDelivery.Status.DELIVERED,
                attempts=attempts,
                last_status_code=status_code,
                last_error="",
                delivered_at=timezone.now(),
            )
            continue
        gave_up = attempts >= settings.API_WEBHOOK_MAX_ATTEMPTS
        delay = _backoff(attempts)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=WebhookDelivery.Status.FAILED if gave_up else WebhookDelivery.Status.PENDING,
            attempts=attempts,
            last_status_code=status_code,
            last_error=error or f"HTTP {status_code}",
            available_at=timezone.now() + timedelta(seconds=delay),
        )
        if gave_up:
            continue  # a hopeless event no longer holds back the ones after it
        return delay


def sweep_webhooks():
    """Beat job: queue every endpoint with a due event (retries, and rows a lost task left)."""
    from api.tasks import deliver_webhooks

    now = timezone.now()
    lease = now - timedelta(seconds=settings.API_WEBHOOK_SENDING_LEASE)
    due = WebhookDelivery.objects.filter(
        Q(status=WebhookDelivery.Status.PENDING, available_at__lte=now)
        | Q(status=WebhookDelivery.Status.SENDING, claimed_at__lt=lease)
    ).values_list("endpoint_id", flat=True)
    endpoints = sorted(set(due))
    for endpoint_id in endpoints:
        deliver_webhooks.delay(endpoint_id)
    return len(endpoints)
