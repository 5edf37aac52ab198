"""The integration engineer's journey (issue 15): a token and a webhook made in the vendor pages,
everything else through the API, the answer flipping with the agencies' decision and DOC's
suspension, and each change arriving at a real local HTTP receiver, signed.

In the browser: Aurora's compliance admin creates a read-write token and registers a webhook
endpoint (the receiver), copying each secret off the page it is shown on once. Through the API
(``requests`` against the live server, as the engineer's scripts would): a customer is registered,
a request drafted, its document attached and the request submitted. The agencies' positions and
DOC's decision, and DOC pulling the model offline, go through the services here: the same steps
in the browser are journeys 2 and 4 (``test_journey_review.py``, ``test_journey_enforcement.py``).
Webhooks go the production way: outbox row, task on Redis after the commit, a real Celery worker
posting to the receiver (the ``mailbox`` fixture's worker, on PostgreSQL and Redis).
"""

import base64
import hashlib
import hmac
import time

import pytest
import requests

from api.tests.receiver import Receiver
from approvals import services
from approvals.models import AccessRequest
from tests.browser.conftest import real_stack_available
from tests.browser.journeys import look, signed_in
from tests.browser.world import review_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BASIS = {
    "legal_basis": "Executive Order 14110, section 4.2(a)",
    "findings": "Leaked weights of the model are being used against water utilities.",
}


@pytest.fixture
def receiver():
    with Receiver() as running:
        yield running


def verified(secret, received):
    """Standard Webhooks verification, from the specification: HMAC-SHA256, keyed with the
    base64 part of ``whsec_…``, over ``id.timestamp.body``; the event is returned if it holds."""
    headers, body = received["headers"], received["body"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    signatures = [s.split(",", 1)[1] for s in headers["webhook-signature"].split()]
    assert any(hmac.compare_digest(s, expected) for s in signatures), "a bad signature"
    assert abs(int(headers["webhook-timestamp"]) - time.time()) < 300
    return received


def wait_for_event(receiver, event_type, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for received, event in zip(list(receiver.received), receiver.events(), strict=True):
            if event["type"] == event_type:
                return received, event
        time.sleep(0.1)
    raise AssertionError(f"no {event_type} event in {timeout}s; got {[e['type'] for e in receiver.events()]}")


class Api:
    """The engineer's client: the token in every call, JSON problems shown on failure."""

    def __init__(self, base, secret):
        self.base, self.session = base, requests.Session()
        self.session.headers["Authorization"] = f"Bearer {secret}"

    def call(self, method, path, expect, **kwargs):
        response = self.session.request(method, self.base + path, timeout=30, **kwargs)
        assert response.status_code == expect, (response.status_code, response.text[:2000])
        return response.json()

    def entitlement(self, model, customer):
        return self.call("GET", "/api/v1/entitlements/", 200, params={"model": model, "customer": customer})


def test_an_integration_sees_the_clearance_flip_and_hears_of_it_signed(
    open_page, live_server, mailbox, receiver
):
    # given Aurora Labs, its model in limited preview, and the three agencies
    world = review_world()
    if real_stack_available():  # webhooks then go through the Celery worker on Redis
        assert mailbox.mode == "celery worker on Redis"

    # the compliance admin creates a read-write token in the vendor pages and copies it
    admin = signed_in(open_page, world.admin, "vendor-admin", lands_on="/vendor/")
    admin.goto("/vendor/api/tokens/")
    admin.get_by_role("link", name="Create a token").click()
    admin.get_by_label("Name").fill("Provisioning system")
    admin.get_by_label("Scope").select_option("read_write")
    admin.get_by_label("Expires after (days)").fill("30")
    admin.get_by_role("button", name="Create the token").click()
    secret = admin.locator("#api-token").input_value()
    assert secret.startswith("fap_")
    look(admin, "api-token-created")

    # … and registers the receiver as a webhook endpoint, copying its signing secret
    admin.goto("/vendor/api/webhooks/")
    admin.get_by_role("link", name="Add an endpoint").click()
    admin.get_by_label("HTTPS address").fill(receiver.url)
    admin.get_by_role("button", name="Add the endpoint").click()
    signing_secret = admin.locator("#webhook-secret").input_value()
    assert signing_secret.startswith("whsec_")
    look(admin, "api-webhook-created")

    # the engineer's scripts register a customer and file and submit a request through the API
    api = Api(live_server.url, secret)
    customer = api.call(
        "POST",
        "/api/v1/customers/",
        201,
        json={
            "legal_name": "Harbor Water Authority",
            "country": "US",
            "sector": "other",
            "registration_id": "CRM-0042",
            "intended_use": "Triage of intrusion alerts in the security operations centre.",
            "security_contact_name": "Pat Doe",
            "security_contact_email": "pat@harbor.example",
            "attestation": True,
        },
        headers={"Idempotency-Key": "customer-CRM-0042"},
    )
    model = api.call("GET", "/api/v1/models/", 200)["results"][0]
    assert model["id"] == world.frontier_model.pk
    draft = api.call(
        "POST",
        "/api/v1/access-requests/",
        201,
        json={
            "frontier_model": model["id"],
            "partner_customer": customer["id"],
            "use_case": "Triage of intrusion alerts in the security operations centre.",
            "scope": "200 analyst seats; U.S. region only.",
            "requested_duration_days": 365,
        },
    )
    reference = draft["reference"]
    api.call(
        "POST",
        f"/api/v1/access-requests/{reference}/documents/",
        201,
        files={"file": ("end-use.txt", b"End-use statement.\n", "text/plain")},
    )
    submitted = api.call("POST", f"/api/v1/access-requests/{reference}/submit/", 200, json={})
    assert submitted["status"] == "submitted"
    asked = (f"{model['name']} {model['version']}", "CRM-0042")  # by name and the vendor's reference
    assert api.entitlement(*asked)["reason"] == "no_grant"

    # the agencies concur and DOC approves (through the services; in the browser: journey 2)
    access_request = AccessRequest.objects.get(tracking_number=submitted["tracking_number"])
    for referral in access_request.referrals.select_related("agency"):
        approver = world.approvers[referral.agency.code]
        services.draft_position(
            referral=referral, actor=approver, stance="concur", rationale="", conditions=()
        )
        services.sign_position(referral=referral, actor=approver)
    services.record_decision(access_request=access_request, actor=world.approvers["DOC"])

    # the entitlement flips to cleared, and the grant arrives at the receiver, signed
    cleared = api.entitlement(*asked)
    assert (cleared["cleared"], cleared["reason"]) == (True, "cleared")
    received, event = wait_for_event(receiver, "grant.created")
    verified(signing_secret, received)
    assert event["data"]["entitlement"]["grant"]["id"] == cleared["grant"]["id"]

    # DOC pulls the model offline (through the services; in the browser: journey 4)
    doc = world.approvers["DOC"]
    action = services.suspend_model(frontier_model=world.frontier_model, actor=doc, **BASIS)
    started = time.monotonic()

    # not cleared, with the action's reference; the suspension arrives within seconds, signed
    answer = api.entitlement(*asked)
    assert (answer["cleared"], answer["reason"]) == (False, "suspended")
    assert answer["enforcement_action"]["reference"] == f"EA-{action.pk}"
    received, event = wait_for_event(receiver, "grant.suspended", timeout=10)
    verified(signing_secret, received)
    assert time.monotonic() - started < 10
    assert event["data"]["action"]["reference"] == f"EA-{action.pk}"
    assert {"pk": cleared["grant"]["id"], "partner_customer_id": customer["id"]} in event["data"]["grants"]
    # every event the receiver got was signed with the endpoint's secret, each id once
    for each in receiver.received:
        verified(signing_secret, each)
    ids = [r["headers"]["webhook-id"] for r in receiver.received]
    assert len(ids) == len(set(ids))

    # the webhooks page lists the deliveries
    admin.goto("/vendor/api/webhooks/")
    assert "grant.suspended" in admin.locator("main").inner_text()
    look(admin, "api-webhooks-delivered", picture=True)
