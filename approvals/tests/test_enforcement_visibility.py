"""Who sees an enforcement action: the vendor's members, the lead agency, and the agencies whose
cases it concerns (a referral on a request for the model, on the revoked grant's request, or on
any request of the designated vendor). The same agencies' officials are the ones e-mailed; an
agency given such a case later sees the actions on record for it from then on."""

import pytest

from approvals import selectors, services
from approvals.tests.enforcement_helpers import BASIS, approved, suspend
from approvals.tests.factories import new_customer, submitted
from portal import permissions
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def told(event):
    return set(Notification.objects.filter(event=event).values_list("recipient__email", flat=True))


def test_a_suspension_is_seen_and_told_only_where_it_concerns_a_case(world):
    approved(world)
    action = suspend(world)
    # the lead agency and the agencies referred on the model's requests see it and are told
    for who in ("doc_approver", "doc_reviewer", "oncd_approver", "viewer"):
        assert permissions.has_object_permission(world[who], action), who
    assert world["oncd_approver"].email in told("model_suspended")
    # DOD holds no referral for the model: it neither sees it nor is told
    assert not permissions.has_object_permission(world["dod_approver"], action)
    assert action not in selectors.actions_visible_to(world["dod_approver"])
    assert world["dod_approver"].email not in told("model_suspended")
    assert not permissions.has_object_permission(world["other_officer"], action)


def test_an_agency_referred_later_sees_the_actions_on_record_for_its_case(world):
    approved(world)
    submitted(world, partner_customer=new_customer(world))  # open: the designation refers it to DOD
    action = suspend(world)
    assert not permissions.has_object_permission(world["dod_approver"], action)
    designation = services.designate_supply_chain_risk(
        vendor=world.vendor, actor=world["doc_approver"], **BASIS
    )
    # DOD now holds a referral on a request for the suspended model of the designated vendor
    assert permissions.has_object_permission(world["dod_approver"], designation)
    assert permissions.has_object_permission(world["dod_approver"], action)


def test_a_revocation_is_seen_and_told_only_by_the_agencies_of_that_grant_s_case(world):
    grant = approved(world)  # a U.S. customer: DOC, ONCD, OSTP
    approved(world, partner_customer=new_customer(world, country="DE"))  # STATE: the same model
    action = services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    for who in ("doc_approver", "oncd_approver", "ostp_approver", "viewer"):
        assert permissions.has_object_permission(world[who], action), who
    assert world["oncd_approver"].email in told("grant_revoked")
    # STATE holds a referral on the model, not on the revoked grant's request; DOD holds none
    for who in ("state_approver", "dod_approver", "cisa_approver", "other_officer"):
        assert not permissions.has_object_permission(world[who], action), who
        assert action not in selectors.actions_visible_to(world[who]), who
        assert world[who].email not in told("grant_revoked"), who


def test_a_designation_is_seen_and_told_only_by_the_agencies_with_a_case_of_the_vendor(world):
    approved(world)  # decided: the designation opens no DOD referral
    action = services.designate_supply_chain_risk(vendor=world.vendor, actor=world["doc_approver"], **BASIS)
    for who in ("doc_approver", "oncd_approver", "ostp_approver", "viewer"):
        assert permissions.has_object_permission(world[who], action), who
    assert world["oncd_approver"].email in told("vendor_designated")
    for who in ("state_approver", "dod_approver", "cisa_approver", "other_officer"):
        assert not permissions.has_object_permission(world[who], action), who
        assert action not in selectors.actions_visible_to(world[who]), who
        assert world[who].email not in told("vendor_designated"), who
