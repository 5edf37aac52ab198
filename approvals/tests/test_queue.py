"""One queue for everything with a clock on the agency dashboard (selectors/queue.py): referrals,
incident reports due, designation answer windows and pre-release reviews, most urgent first."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from approvals import services
from approvals.models import IncidentReport
from approvals.selectors.queue import clock_queue
from approvals.tests.factories import bulk_submitted, refresh, submitted

pytestmark = pytest.mark.django_db

BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "Findings of fact."}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def _incident_due_tomorrow(world):
    # a critical-infrastructure report is due two days after detection: detected yesterday
    return services.report_incident(
        frontier_model=world.frontier_model,
        actor=world["officer"],
        category="misuse_other",
        severity=IncidentReport.Severity.CRITICAL_INFRASTRUCTURE,
        description="Misuse against a water utility's controls.",
        detected_on=timezone.localdate() - timedelta(days=1),
    )


def _designation_closing_in_seven_days(world):
    action = services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    type(action).objects.filter(pk=action.pk).update(respond_by=timezone.localdate() + timedelta(days=7))
    return action


def test_docs_queue_has_the_incident_due_tomorrow_and_the_designation_window_in_order(world):
    referral_request = submitted(world)
    incident = _incident_due_tomorrow(world)
    designation = _designation_closing_in_seven_days(world)
    items = clock_queue(world["doc_approver"])
    kinds = [item.kind for item in items]
    assert kinds.index("incident") < kinds.index("designation") < kinds.index("referral")
    by_kind = {item.kind: item for item in items}
    assert by_kind["incident"].days_left == 1
    assert by_kind["incident"].url.endswith(f"/incidentreport/{incident.pk}/change/")
    assert by_kind["designation"].days_left == 7
    assert by_kind["designation"].url.endswith(f"/enforcementaction/{designation.pk}/change/")
    assert referral_request.tracking_number in by_kind["referral"].label
    page = text(_signed_in(world["doc_approver"]).get("/admin/"))
    queue = page.split('id="clocks-h"')[1].split("</table>")[0]
    assert "due tomorrow" in queue or "1 day" in queue
    assert "answer window" in queue
    assert queue.index("Incident report") < queue.index("answer window")


def test_a_pending_prerelease_review_waits_on_the_lead_agency_only(world):
    from vendors.tests.factories import EvidenceDocumentFactory, FrontierModelFactory

    model = FrontierModelFactory(vendor=world.vendor, training_compute_flop=3e26)
    EvidenceDocumentFactory(vendor=world.vendor, frontier_model=model)
    services.submit_for_prerelease_review(frontier_model=model, actor=world["officer"], summary="Please.")
    assert [i.kind for i in clock_queue(world["doc_approver"])] == ["review"]
    assert "review" not in [i.kind for i in clock_queue(world["oncd_approver"])]


def test_vendors_have_no_queue(world):
    _incident_due_tomorrow(world)
    assert clock_queue(world["officer"]) == []


def test_the_queue_costs_the_same_queries_for_a_longer_backlog(world):
    submitted(world)
    with CaptureQueriesContext(connection) as few:
        clock_queue(refresh(world["doc_approver"]))
    bulk_submitted(world, 40)
    with CaptureQueriesContext(connection) as many:
        items = clock_queue(refresh(world["doc_approver"]))
    assert len(items) == 15  # cut to the limit
    assert len(many) == len(few)


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client
