"""Issue 13: routing to an agency nobody can sign for is flagged — on the portal administrator's
dashboard and the routing rule's page, to the lead agency on the case page and its dashboard — and
the enforcement confirmation pages name only the people who will actually be mailed."""

import re

import pytest

from approvals.models import RoutingRule
from approvals.selectors.staffing import officials_told, unstaffed_agencies, unstaffed_routing_rules
from approvals.tests.enforcement_helpers import approved, suspend
from approvals.tests.factories import new_customer, submitted
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def unstaff(world, code):
    person = world[f"{code.lower()}_approver"]
    person.is_active = False
    person.save(update_fields=["is_active"])


def test_an_agency_without_an_active_approver_and_its_rules_are_found(world):
    assert not unstaffed_agencies().exists()
    unstaff(world, "STATE")
    assert [a.code for a in unstaffed_agencies()] == ["STATE"]
    assert [str(r) for r in unstaffed_routing_rules()] == ["STATE: Customer outside the United States"]


def test_the_portal_administrator_s_dashboard_and_the_rule_s_page_flag_it(client, world):
    unstaff(world, "STATE")
    client.force_login(world["portal_admin"])
    dashboard = text(client.get("/admin/"))
    assert "Agencies with no active approver" in dashboard
    assert "STATE: Customer outside the United States" in dashboard
    rule = RoutingRule.objects.get(agency__code="STATE")
    page = text(client.get(f"/admin/approvals/routingrule/{rule.pk}/change/"))
    assert "STATE has no active approver: nobody can sign its positions" in page
    staffed_rule = RoutingRule.objects.get(agency__code="CISA")
    assert "no active approver" not in text(
        client.get(f"/admin/approvals/routingrule/{staffed_rule.pk}/change/")
    )
    changelist = client.get("/admin/approvals/routingrule/")
    assert changelist.status_code == 200
    assert 'alt="False"' in changelist.content.decode()


def test_a_referral_to_an_unstaffed_agency_warns_the_lead_agency(client, world):
    unstaff(world, "STATE")
    access_request = submitted(world, partner_customer=new_customer(world, country="DE"))
    case = f"/admin/approvals/accessrequest/{access_request.pk}/change/"
    client.force_login(world["doc_reviewer"])
    assert "STATE has no active approver" in text(client.get(case))
    assert "Referrals nobody can answer" in text(client.get("/admin/"))
    # another agency's officials are not the ones to act on it
    client.force_login(world["oncd_approver"])
    assert "no active approver" not in text(client.get(case))
    # staffed again: no warning
    world["state_approver"].is_active = True
    world["state_approver"].save(update_fields=["is_active"])
    client.force_login(world["doc_reviewer"])
    assert "no active approver" not in text(client.get(case))


def test_the_suspension_page_names_exactly_the_officials_who_are_mailed(client, world):
    approved(world)
    unstaff(world, "CISA")  # not referred on this U.S. non-critical request anyway
    approver = world["doc_approver"]
    told = dict(officials_told(frontier_model=world.frontier_model, actor=approver))
    assert set(told) == {"DOC", "ONCD", "OSTP"}
    client.force_login(approver)
    page = text(client.get(f"/admin/approvals/enforcementaction/models/{world.frontier_model.pk}/suspend/"))
    for code, names in told.items():
        assert f"of {code} ({', '.join(names)})" in page
    assert approver.full_name not in page.split("Told at once")[1].split("</li>")[0]
    # the same people get the mail
    action = suspend(world)
    mailed = {
        n.recipient.full_name or n.recipient.email
        for n in Notification.objects.filter(
            event="model_suspended", idempotency_key__contains=f":{action.pk}:officials"
        )
    }
    assert mailed == {name for names in told.values() for name in names}


def test_an_agency_with_nobody_to_mail_is_not_named(world):
    approved(world)
    for person in (world["ostp_approver"],):
        person.is_active = False
        person.save(update_fields=["is_active"])
    told = dict(officials_told(frontier_model=world.frontier_model, actor=world["doc_approver"]))
    assert "OSTP" not in told
    assert "ONCD" in told
