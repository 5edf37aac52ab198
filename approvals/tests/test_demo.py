"""``seed_demo`` builds requests in every lifecycle state, through the services, once."""

import pytest
from django.core.management import call_command

from approvals.models import AccessRequest, Agency, Grant, InformationRequest, IntentToDeny, RoutingRule
from approvals.selectors import is_customer_cleared

pytestmark = pytest.mark.django_db


def world():
    return sorted(
        AccessRequest.objects.values_list("vendor__legal_name", "partner_customer__legal_name", "status")
    )


def test_seed_demo_builds_every_state_once():
    call_command("seed_demo", verbosity=0)
    first = world()
    call_command("seed_demo", verbosity=0)
    assert world() == first
    assert set(AccessRequest.objects.values_list("status", flat=True)) == set(AccessRequest.Status.values)
    assert set(AccessRequest.objects.values_list("vendor__organisation__name", flat=True)) == {
        "Aurora Labs",
        "Basalt AI",
    }
    assert list(Agency.objects.values_list("code", flat=True)) == [
        "DOC",
        "CISA",
        "DOD",
        "ONCD",
        "OSTP",
        "STATE",
    ]
    assert Agency.objects.get(code="DOC").is_lead
    assert RoutingRule.objects.count() == 6
    assert InformationRequest.objects.filter(status="open").exists()
    assert InformationRequest.objects.filter(status="answered").exists()
    assert IntentToDeny.objects.exists()
    assert {"active", "expired"} <= set(Grant.objects.values_list("status", flat=True))
    approved = AccessRequest.objects.get(partner_customer__legal_name="Great Lakes Grid Operations LLC")
    agencies = set(approved.decision.conditions.values_list("agency__code", flat=True))
    assert agencies == {"DOC", "ONCD"}
    clearance = is_customer_cleared(
        frontier_model=approved.frontier_model, partner_customer=approved.partner_customer
    )
    assert clearance is not None
    assert len(clearance.conditions) == 3
    expired = Grant.objects.get(status="expired")
    assert (
        is_customer_cleared(frontier_model=expired.frontier_model, partner_customer=expired.partner_customer)
        is None
    )
