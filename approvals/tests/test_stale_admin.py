"""No lost update on the admin's change pages: routing rules, agencies (issue 14, part A)."""

import re

import pytest

from approvals.models import Agency, RoutingRule
from approvals.tests.factories import refresh
from portal.tests.factories import portal_admin

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def shown_version(response):
    match = re.search(r'name="portal_version" value="(\d+)"', response.content.decode())
    assert match, "the change page carries no version"
    return match.group(1)


def rule_form(rule, **changes):
    data = {
        "agency": rule.agency_id,
        "condition": rule.condition,
        "required": "on" if rule.required else "",
        "is_active": "on" if rule.is_active else "",
        "note": rule.note,
    }
    data.update(changes)
    return data


def test_two_portal_admins_edit_one_routing_rule_the_second_is_refused_with_the_first_ones_name(
    client, world
):
    rule = RoutingRule.objects.get(agency__code="CISA")
    url = f"/admin/approvals/routingrule/{rule.pk}/change/"
    first = portal_admin(full_name="Ada Firstadmin")
    client.force_login(world["portal_admin"])
    seen_by_second = shown_version(client.get(url))
    client.force_login(first)
    seen_by_first = shown_version(client.get(url))
    assert (
        client.post(url, rule_form(rule, note="Energy first", portal_version=seen_by_first)).status_code
        == 302
    )

    client.force_login(world["portal_admin"])
    response = client.post(url, rule_form(rule, required="", note="Mine", portal_version=seen_by_second))
    assert response.status_code == 200
    page = text(response)
    assert "changed while you were editing it: Ada Firstadmin" in page
    assert 'value="Mine"' in response.content.decode()  # what was typed is kept
    rule = refresh(rule)
    assert rule.note == "Energy first"
    assert rule.required is True
    # the page now carries the version it was told about: saving again is deliberate and wins
    again = rule_form(rule, required="", note="Mine", portal_version=shown_version(response))
    assert client.post(url, again).status_code == 302
    assert refresh(rule).note == "Mine"


def test_a_refused_admin_form_shows_the_colleagues_change_where_nothing_was_typed(client, world):
    rule = RoutingRule.objects.get(agency__code="CISA")
    url = f"/admin/approvals/routingrule/{rule.pk}/change/"
    first = portal_admin(full_name="Ada Firstadmin")
    client.force_login(world["portal_admin"])
    seen_by_second = shown_version(client.get(url))
    client.force_login(first)
    first_form = rule_form(rule, note="Energy first", portal_version=shown_version(client.get(url)))
    assert client.post(url, first_form).status_code == 302

    # the second unticks "required" on the page that still shows the old note
    client.force_login(world["portal_admin"])
    response = client.post(url, rule_form(rule, required="", portal_version=seen_by_second))
    assert response.status_code == 200
    page = response.content.decode()
    assert "The form now shows their note: you had not changed it." in text(response)
    assert re.search(r'name="note"[^>]*value="Energy first"|name="note"[^>]*>Energy first<', page)
    assert not re.search(r'name="required"[^>]*checked', page)  # their typing is kept

    # saving the form as shown keeps the first one's note
    again = rule_form(rule, required="", note="Energy first", portal_version=shown_version(response))
    assert client.post(url, again).status_code == 302
    rule = refresh(rule)
    assert rule.note == "Energy first"
    assert rule.required is False


def test_a_stale_agency_settings_change_is_refused(client, world):
    agency = Agency.objects.get(code="OSTP")
    url = f"/admin/approvals/agency/{agency.pk}/change/"
    client.force_login(world["portal_admin"])
    seen = shown_version(client.get(url))
    other = portal_admin(full_name="Bo Otheradmin")
    client.force_login(other)
    data = {"code": "OSTP", "name": "Office of Science", "requires_two_persons": ""}
    assert client.post(url, {**data, "portal_version": seen}).status_code == 302
    client.force_login(world["portal_admin"])
    response = client.post(
        url, {**data, "name": "Mine", "requires_two_persons": "on", "portal_version": seen}
    )
    assert response.status_code == 200
    assert "changed while you were editing it: Bo Otheradmin" in text(response)
    assert refresh(agency).name == "Office of Science"


def test_a_garbled_admin_version_is_stale_not_a_server_error(client, world):
    rule = RoutingRule.objects.get(agency__code="STATE")
    client.force_login(world["portal_admin"])
    url = f"/admin/approvals/routingrule/{rule.pk}/change/"
    response = client.post(url, rule_form(rule, note="x", portal_version="not-a-number"))
    assert response.status_code == 200
    assert refresh(rule).note != "x"


def test_a_stale_user_change_in_the_admin_is_refused(client, world):
    officer = world["officer"]
    url = f"/admin/accounts/user/{officer.pk}/change/"
    data = {
        "email": officer.email,
        "full_name": officer.full_name,
        "organisation": officer.organisation_id,
        "role": officer.role,
        "is_active": "on",
    }
    client.force_login(world["portal_admin"])
    seen = shown_version(client.get(url))
    other = portal_admin(full_name="Eve Otheradmin")
    client.force_login(other)
    assert client.post(url, {**data, "full_name": "Renamed First", "portal_version": seen}).status_code == 302
    client.force_login(world["portal_admin"])
    response = client.post(url, {**data, "full_name": "Renamed Second", "portal_version": seen})
    assert response.status_code == 200
    assert "changed while you were editing it: Eve Otheradmin" in text(response)
    assert refresh(officer).full_name == "Renamed First"
