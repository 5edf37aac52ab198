"""No lost update: every registry edit form carries the version it was read at (issue 14, part A)."""

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse

from portal.accounts.models import Role
from portal.audit.versions import version_of
from portal.errors import PortalError
from vendors import services
from vendors.choices import Sector
from vendors.models import PartnerCustomer
from vendors.tests.factories import FrontierModelFactory, PartnerCustomerFactory, member_of

pytestmark = pytest.mark.django_db


def shown_version(response):
    match = re.search(r'name="record_version" value="([^"]*)"', response.content.decode())
    assert match, "the form carries no version"
    return match.group(1)


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def customer_form(customer, **changes):
    data = {
        "legal_name": customer.legal_name,
        "country": customer.country,
        "sector": customer.sector,
        "registration_id": customer.registration_id,
        "intended_use": customer.intended_use,
        "ownership": customer.ownership,
        "security_contact_name": customer.security_contact_name,
        "security_contact_email": customer.security_contact_email,
        "attestation": "on" if customer.attestation else "",
        "reason": "",
    }
    data.update(changes)
    return data


def test_two_officers_edit_one_customer_the_second_is_refused_with_the_first_ones_name(client, world):
    customer = PartnerCustomerFactory(vendor=world.vendor, sector=Sector.OTHER)
    first = member_of(world.vendor, Role.VENDOR_OFFICER, full_name="Bea First")
    second = world.officer
    url = reverse("vendors:customer_edit", args=[customer.pk])

    # given both officers opened the edit page
    client.force_login(second)
    seen_by_second = shown_version(client.get(url))
    client.force_login(first)
    seen_by_first = shown_version(client.get(url))
    assert seen_by_first == seen_by_second == str(version_of(customer))

    # when the first saves a new intended use, and the second then saves the page they opened
    response = client.post(
        url, customer_form(customer, intended_use="Grid telemetry", record_version=seen_by_first)
    )
    assert response.status_code == 302
    client.force_login(second)
    typed = customer_form(customer, sector=Sector.ENERGY, record_version=seen_by_second)
    response = client.post(url, typed)

    # then the second is refused, told who changed what, and their typing is kept
    assert response.status_code == 200
    page = text(response)
    assert "changed while you were editing it: Bea First" in page
    assert "intended use" in page
    assert re.search(r'<option value="energy" selected>', response.content.decode())
    customer.refresh_from_db()
    assert customer.intended_use == "Grid telemetry"
    assert customer.sector == Sector.OTHER
    # the form now carries the version they were told about: saving again is deliberate and wins
    assert shown_version(response) == str(version_of(customer))
    again = customer_form(customer, sector=Sector.ENERGY, record_version=shown_version(response))
    assert client.post(url, again).status_code == 302
    customer.refresh_from_db()
    assert customer.sector == Sector.ENERGY
    assert customer.intended_use == "Grid telemetry"


def test_a_garbled_version_is_refused_as_stale_not_a_server_error(client, world):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    client.force_login(world.officer)
    url = reverse("vendors:customer_edit", args=[customer.pk])
    for garbled in ("abc", "-1", "99999999999999999999999", "1e3", "9" * 5000):
        response = client.post(url, customer_form(customer, intended_use="x", record_version=garbled))
        assert response.status_code == 200
        assert "changed while you were editing it" in text(response)
    customer.refresh_from_db()
    assert customer.intended_use != "x"


def test_no_version_submitted_means_no_check(world):
    customer = PartnerCustomerFactory(vendor=world.vendor)
    services.update_partner_customer(partner_customer=customer, actor=world.officer, intended_use="Research")
    assert PartnerCustomer.objects.get(pk=customer.pk).intended_use == "Research"


def test_stale_model_edit_is_refused_naming_who(world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    seen = version_of(frontier_model)
    services.update_frontier_model(frontier_model=frontier_model, actor=world.admin, description="v2 notes")
    with pytest.raises(
        PortalError, match=rf"changed while you were editing it: .*{world.admin.email}.* description"
    ):
        services.update_frontier_model(
            frontier_model=frontier_model, actor=world.officer, expected_version=seen, description="mine"
        )
    frontier_model.refresh_from_db()
    assert frontier_model.description == "v2 notes"


def test_model_edit_page_carries_its_version(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    client.force_login(world.officer)
    response = client.get(reverse("vendors:model_edit", args=[frontier_model.pk]))
    assert shown_version(response) == str(version_of(frontier_model))


def test_two_officers_edit_one_model_the_second_is_refused_with_the_first_ones_name(client, world):
    frontier_model = FrontierModelFactory(vendor=world.vendor)
    first = member_of(world.vendor, Role.VENDOR_OFFICER, full_name="Mo First")
    url = reverse("vendors:model_edit", args=[frontier_model.pk])
    client.force_login(world.officer)
    seen = shown_version(client.get(url))
    form = {
        "name": frontier_model.name,
        "version": frontier_model.version,
        "training_compute_flop": f"{frontier_model.training_compute_flop:e}",
        "description": frontier_model.description,
        "capability_summary": frontier_model.capability_summary,
        "cyber_evaluation_summary": frontier_model.cyber_evaluation_summary,
        "intended_release": frontier_model.intended_release,
        "reason": "",
    }
    client.force_login(first)
    first_form = {**form, "description": "First's notes", "record_version": shown_version(client.get(url))}
    assert client.post(url, first_form).status_code == 302

    client.force_login(world.officer)
    response = client.post(url, {**form, "description": "Second's typing", "record_version": seen})
    assert response.status_code == 200
    assert "changed while you were editing it: Mo First" in text(response)
    assert "Second&#x27;s typing" in response.content.decode()  # what was typed is kept
    frontier_model.refresh_from_db()
    assert frontier_model.description == "First's notes"


def test_stale_profile_edit_is_refused(client, world):
    client.force_login(world.admin)
    url = reverse("vendors:profile_edit")
    seen = shown_version(client.get(url))
    other_admin = member_of(world.vendor, Role.VENDOR_ADMIN, full_name="Cy Colleague")
    services.update_vendor_profile(vendor=world.vendor, actor=other_admin, primary_contact_name="Cy")
    response = client.post(
        url,
        {
            "legal_name": world.vendor.legal_name,
            "primary_contact_phone": "+1 555 0100",
            "record_version": seen,
        },
    )
    assert response.status_code == 200
    assert "The vendor profile changed while you were editing it: Cy Colleague" in text(response)
    assert 'value="+1 555 0100"' in response.content.decode()  # what was typed is kept
    world.vendor.refresh_from_db()
    assert world.vendor.primary_contact_phone == ""


def test_stale_team_member_change_is_refused(client, world):
    client.force_login(world.admin)
    url = reverse("vendors:team_member", args=[world.viewer.pk])
    seen = shown_version(client.get(url))
    other_admin = member_of(world.vendor, Role.VENDOR_ADMIN, full_name="Cy Colleague")
    services.change_member_role(
        vendor=world.vendor, member=world.viewer, role=Role.VENDOR_OFFICER, actor=other_admin
    )
    response = client.post(
        url, {"action": "role", "role": Role.VENDOR_ADMIN, "reason": "", "record_version": seen}
    )
    assert response.status_code == 200
    assert "changed while you were editing it: Cy Colleague" in text(response)
    assert re.search(r'<option value="vendor_admin"[^>]* selected', response.content.decode())  # kept
    world.viewer.refresh_from_db()
    assert world.viewer.role == Role.VENDOR_OFFICER


class _FormValues(HTMLParser):
    """What a browser would submit from the page's form: inputs, checked boxes, selected options,
    text areas."""

    def __init__(self):
        super().__init__()
        self.values, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        name = attrs.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            if attrs.get("type") == "checkbox":
                if "checked" in attrs:
                    self.values[name] = attrs.get("value") or "on"
            else:
                self.values[name] = attrs.get("value") or ""
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = name
            self.values[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.values[self._textarea] += data.removeprefix("\n")


def form_values(response):
    parser = _FormValues()
    parser.feed(response.content.decode())
    return parser.values


def test_a_refused_form_shows_the_colleagues_change_where_nothing_was_typed_and_saving_again_keeps_it(
    client, world
):
    customer = PartnerCustomerFactory(vendor=world.vendor, sector=Sector.TRANSPORTATION, attestation=True)
    first = member_of(world.vendor, Role.VENDOR_OFFICER, full_name="Al First")
    url = reverse("vendors:customer_edit", args=[customer.pk])

    # given both officers opened the edit page
    client.force_login(world.officer)
    opened_by_second = form_values(client.get(url))
    client.force_login(first)
    opened_by_first = form_values(client.get(url))

    # when the first saves the sector Energy, and the second then saves a new intended use and
    # registration id on the page they opened (which still shows Transportation)
    response = client.post(url, {**opened_by_first, "sector": Sector.ENERGY})
    assert response.status_code == 302
    client.force_login(world.officer)
    typed = {"intended_use": "Second's typing", "registration_id": "REG-SECOND"}
    response = client.post(url, {**opened_by_second, **typed})

    # then the refused form shows the first one's sector, keeps the second one's typing, says so
    assert response.status_code == 200
    page = text(response)
    assert "changed while you were editing it: Al First" in page
    assert "The form now shows their sector: you had not changed it." in page
    shown = form_values(response)
    assert shown["sector"] == Sector.ENERGY
    assert shown["intended_use"] == "Second's typing"
    assert shown["registration_id"] == "REG-SECOND"
    assert shown.get("attestation") == "on"  # nobody changed it: as it was

    # and saving the form as shown again keeps the first one's sector
    assert client.post(url, shown).status_code == 302
    customer.refresh_from_db()
    assert customer.sector == Sector.ENERGY
    assert customer.intended_use == "Second's typing"
    assert customer.registration_id == "REG-SECOND"


def test_a_field_both_changed_keeps_what_the_second_typed(client, world):
    customer = PartnerCustomerFactory(vendor=world.vendor, sector=Sector.TRANSPORTATION)
    first = member_of(world.vendor, Role.VENDOR_OFFICER, full_name="Al First")
    url = reverse("vendors:customer_edit", args=[customer.pk])
    client.force_login(world.officer)
    opened_by_second = form_values(client.get(url))
    client.force_login(first)
    assert client.post(url, {**form_values(client.get(url)), "sector": Sector.ENERGY}).status_code == 302

    client.force_login(world.officer)
    response = client.post(url, {**opened_by_second, "sector": Sector.WATER})
    assert response.status_code == 200
    assert form_values(response)["sector"] == Sector.WATER  # their typing: a deliberate second save
    assert "The form now shows their" not in text(response)  # nothing else was changed by the first
