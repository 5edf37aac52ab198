"""Bookkeeping fields (``portal.audit.history.BOOKKEEPING_FIELDS``) stay out of what people read
as "what changed": history diffs on every page and the words of a stale refusal (issue 14)."""

import re

import pytest
from django.urls import reverse

from approvals import services
from approvals.models import AccessRequest, EnforcementAction, Grant
from approvals.tests.factories import new_customer, refresh, submitted
from portal.audit.history import bookkeeping_fields, history_rows
from portal.audit.versions import stale_message, version_of
from vendors import services as vendor_services
from vendors.choices import Sector
from vendors.models import FrontierModel, PartnerCustomer
from vendors.tests.factories import FrontierModelFactory

pytestmark = pytest.mark.django_db

BOOKKEEPING_LABELS = ("version", "updated at", "identity frozen at", "followed through at", "next due")


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def labels(rows):
    return {str(label).lower() for _record, changes in rows for label, _old, _new in changes}


def a_case_and_its_customer(world):
    customer = new_customer(world, sector=Sector.OTHER)
    access_request = submitted(world, partner_customer=customer)  # freezes the customer's identity
    vendor_services.update_partner_customer(
        partner_customer=refresh(customer),
        actor=world["officer"],
        intended_use="Grid telemetry",
        reason="The customer now runs grid telemetry.",
    )
    return access_request, refresh(customer)


def test_history_diffs_on_pages_leave_out_bookkeeping(world):
    access_request, customer = a_case_and_its_customer(world)
    assert customer.identity_frozen_at is not None
    assert access_request.version > 1

    request_labels = labels(history_rows(access_request))
    assert "status" in request_labels  # the diff is there
    customer_labels = labels(history_rows(customer))
    assert "intended use" in customer_labels
    for bookkeeping in BOOKKEEPING_LABELS:
        assert bookkeeping not in request_labels
        assert bookkeeping not in customer_labels


def test_a_frontier_models_own_version_is_a_fact_and_stays_in_the_diff(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor, version="1.0")
    vendor_services.update_frontier_model(
        frontier_model=frontier_model, actor=world["officer"], version="2.0"
    )
    (_newest, changes), *_ = history_rows(refresh(frontier_model))
    assert ("version", "1.0", "2.0") in [(str(label), old, new) for label, old, new in changes]


def test_admin_history_pages_leave_out_bookkeeping(client, world):
    access_request, customer = a_case_and_its_customer(world)
    client.force_login(world["auditor"])
    page = text(client.get(f"/admin/approvals/accessrequest/{access_request.pk}/history/"))
    assert "Status:" in page
    assert "Version:" not in page
    assert "Updated at" not in page
    page = text(client.get(f"/admin/vendors/partnercustomer/{customer.pk}/history/"))
    assert "Intended use:" in page
    assert "Identity frozen at" not in page
    assert "Updated at" not in page


def test_the_case_page_history_leaves_out_the_version(client, world):
    access_request, _customer = a_case_and_its_customer(world)
    services.assign_officials(
        referral=access_request.referrals.get(agency__code="DOC"),
        actor=world["doc_reviewer"],
        officials=[world["doc_reviewer"]],
    )
    client.force_login(world["doc_approver"])
    page = text(client.get(f"/admin/approvals/accessrequest/{access_request.pk}/change/"))
    assert re.search(r"status: Submitted → In review", page)  # the case page's history table
    assert not re.search(r"version: \d+ → \d+", page)


def test_a_stale_refusal_names_what_people_changed_not_bookkeeping(world):
    customer = new_customer(world, sector=Sector.OTHER)
    seen = version_of(customer)
    submitted(world, partner_customer=customer)  # stamps identity_frozen_at
    vendor_services.update_partner_customer(
        partner_customer=refresh(customer),
        actor=world["vendor_admin"],
        sector=Sector.ENERGY,
        reason="Reclassified.",
    )
    message = stale_message(refresh(customer), seen)
    assert "sector" in message
    assert "identity frozen at" not in message
    assert "Identity fixed: first submitted in" in message  # the row's reason says what happened
    assert "changed Identity fixed" not in message
    assert "updated at" not in message


def test_the_bookkeeping_of_each_model():
    assert bookkeeping_fields(AccessRequest) == {"version", "next_due"}
    assert bookkeeping_fields(PartnerCustomer) == {"updated_at", "identity_frozen_at", "normalised_name"}
    assert bookkeeping_fields(EnforcementAction) == {"followed_through_at"}
    assert bookkeeping_fields(Grant) == {"status_changed_at"}
    assert "version" not in bookkeeping_fields(FrontierModel)  # "2.0" is a fact
    assert bookkeeping_fields(PartnerCustomer.history.model) == bookkeeping_fields(PartnerCustomer)


def test_the_vendors_customer_page_history_leaves_out_bookkeeping(client, world):
    _access_request, customer = a_case_and_its_customer(world)
    client.force_login(world["officer"])
    page = text(client.get(reverse("vendors:customer_detail", args=[customer.pk])))
    assert "Grid telemetry" in page
    assert "Identity frozen at" not in page
    assert "Updated at" not in page
