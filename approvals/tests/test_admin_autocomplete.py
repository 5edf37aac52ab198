"""The agency admin's customer, model, vendor and official fields are searched, never listed
(issue 17): each is an autocomplete whose search answers only what the official may see."""

import pytest
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.forms import ModelChoiceField
from django.test import RequestFactory
from django.urls import reverse

from approvals.tests.factories import new_customer, submitted
from portal.admin_site import admin_site
from vendors.models import PartnerCustomer
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory

pytestmark = pytest.mark.django_db


def test_every_related_field_of_the_approvals_admin_forms_is_an_autocomplete(world):
    request = RequestFactory().get("/admin/")
    request.user = world["portal_admin"]
    listed = []
    for model, model_admin in admin_site._registry.items():
        if model._meta.app_label != "approvals":
            continue
        form = model_admin.get_form(request)
        for name, form_field in form.base_fields.items():
            if not isinstance(form_field, ModelChoiceField):
                continue
            target = admin_site._registry.get(form_field.queryset.model)
            if target is None or not target.search_fields:
                continue  # reference data (agencies): a short list, nothing to search
            widget = getattr(form_field.widget, "widget", form_field.widget)
            if not isinstance(widget, AutocompleteSelect | AutocompleteSelectMultiple):
                listed.append(f"{model.__name__}.{name}")
    assert listed == [], "fields that list every row instead of searching"


def _search(client, user, model_name, field_name, term):
    client.force_login(user)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "approvals", "model_name": model_name, "field_name": field_name, "term": term},
    )
    if response.status_code != 200:
        return response.status_code
    return sorted(result["text"] for result in response.json()["results"])


@pytest.fixture
def cases(world):
    """One case referred to DOC (not CISA), and a customer and a model of another vendor's."""
    customer = new_customer(world, legal_name="Quarry Referred Ltd")
    access_request = submitted(world, partner_customer=customer)
    PartnerCustomerFactory(vendor=world.other_vendor, legal_name="Quarry Hidden Ltd")
    FrontierModelFactory(vendor=world.other_vendor, name="Hidden Quarry Model")
    return access_request


def test_the_customer_search_answers_only_what_the_official_may_see(client, world, cases):
    # DOC reviews the case: it finds the case's customer, never the other vendor's
    assert _search(client, world["doc_reviewer"], "accessrequest", "partner_customer", "Quarry") == [
        str(cases.partner_customer)
    ]
    # CISA has no case of this vendor's: nothing at all
    assert _search(client, world["cisa_approver"], "accessrequest", "partner_customer", "Quarry") == []
    # the auditor reads everything
    found = _search(client, world["auditor"], "incidentreport", "affected_customers", "Quarry")
    assert found == sorted(str(c) for c in PartnerCustomer.objects.filter(legal_name__startswith="Quarry"))


def test_model_vendor_and_official_searches_are_filtered_too(client, world, cases):
    doc, cisa = world["doc_reviewer"], world["cisa_approver"]
    assert _search(client, doc, "accessrequest", "frontier_model", "Quarry") == []
    assert _search(client, doc, "accessrequest", "frontier_model", cases.frontier_model.name) == [
        str(cases.frontier_model)
    ]
    assert _search(client, cisa, "accessrequest", "frontier_model", cases.frontier_model.name) == []
    found = _search(client, world["auditor"], "enforcementaction", "vendor", world.other_vendor.legal_name)
    assert str(world.other_vendor) in found
    assert _search(client, cisa, "enforcementaction", "vendor", world.other_vendor.legal_name) == []
    officer = world["officer"].email
    assert _search(client, cisa, "referral", "assigned_officials", officer) == []


def test_vendor_members_and_fields_not_offered_get_nothing(client, world, cases):
    assert _search(client, world["officer"], "accessrequest", "partner_customer", "Quarry") == 302
    # a field that is not an autocomplete of that admin is refused, not answered
    assert _search(client, world["auditor"], "accessrequest", "use_case", "Quarry") == 403


def test_a_history_version_lists_no_other_customer(client, world, cases):
    record = cases.history.order_by("history_id").first()
    client.force_login(world["doc_reviewer"])
    page = client.get(
        reverse("admin:approvals_accessrequest_simple_history", args=[cases.pk, record.history_id])
    ).content.decode()
    assert str(cases.partner_customer) in page
    assert "Quarry Hidden Ltd" not in page
    assert "Hidden Quarry Model" not in page
    assert page.count("<option") < 30
