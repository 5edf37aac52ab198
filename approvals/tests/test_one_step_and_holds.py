"""One-step work (draft and sign on one page where no second person is required; "Assign to me"
in one click), the case on hold shown as it is, and the decision after the vendor's answer to an
intent to deny on a page that shows both side by side."""

import re

import pytest
from django.test import Client

from approvals import policies, services
from approvals.models import AccessRequest, Agency, Position, Referral
from approvals.tests.factories import referral, refresh, sign, submitted
from portal.errors import PortalError
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db

BASIS = {"legal_basis": "Statute 1, section 2.", "findings": "Findings of fact."}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def _case(access_request, page="change"):
    return f"/admin/approvals/accessrequest/{access_request.pk}/{page}/"


def test_an_approver_without_the_two_person_rule_drafts_and_signs_on_one_page(world):
    access_request = submitted(world)
    client = _signed_in(world["doc_approver"])
    page = text(client.get(_case(access_request, "position")))
    assert 'value="Sign as final"' in page
    assert 'value="Save draft"' in page
    response = client.post(
        _case(access_request, "position"),
        {"version": refresh(access_request).version, "stance": "concur", "rationale": "", "sign": "1"},
    )
    assert response.status_code == 302
    position = Position.objects.get(referral=referral(access_request, "DOC"))
    assert position.is_signed
    assert position.signed_by == world["doc_approver"]
    assert referral(access_request, "DOC").status == Referral.Status.SIGNED
    # nobody is asked to sign what is already signed
    assert not Notification.objects.filter(
        event="position_drafted", object_label=str(access_request)
    ).exists()


def test_save_draft_leaves_it_unsigned(world):
    access_request = submitted(world)
    client = _signed_in(world["doc_approver"])
    client.post(
        _case(access_request, "position"),
        {"version": refresh(access_request).version, "stance": "concur", "rationale": "", "save": "1"},
    )
    assert not Position.objects.get(referral=referral(access_request, "DOC")).is_signed


def test_the_two_person_rule_keeps_two_steps(world):
    Agency.objects.filter(code="DOC").update(requires_two_persons=True)
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    assert not policies.can_draft_and_sign(world["doc_approver"], doc)
    page = text(_signed_in(world["doc_approver"]).get(_case(access_request, "position")))
    assert 'value="Sign as final"' not in page
    assert "requires two persons" in page
    with pytest.raises(PortalError, match="DOC requires two persons"):
        services.draft_and_sign_position(referral=doc, actor=world["doc_approver"], stance="concur")
    assert not Position.objects.filter(referral=doc).exists()


def test_a_reviewer_cannot_sign_in_one_step(world):
    access_request = submitted(world)
    with pytest.raises(PortalError, match="Only agency approvers of DOC"):
        services.draft_and_sign_position(
            referral=referral(access_request, "DOC"), actor=world["doc_reviewer"], stance="concur"
        )


def test_assign_to_me_is_one_click_from_the_case_page(world):
    access_request = submitted(world)
    client = _signed_in(world["doc_reviewer"])
    page = text(client.get(_case(access_request)))
    form = re.search(r'<form method="post" action="([^"]+)"[^>]*>.{0,300}?Assign to me</button>', page)
    assert form, "one-click Assign to me"
    response = client.post(form.group(1), {"version": refresh(access_request).version})
    assert response.status_code == 302
    assert list(referral(access_request, "DOC").assigned_officials.all()) == [world["doc_reviewer"]]
    # and once assigned, the button is gone; a late POST (a second tab) changes nothing and says so
    # in a warning
    assert "Assign to me" not in text(client.get(_case(access_request)))
    late = client.post(form.group(1), {"version": refresh(access_request).version}, follow=True)
    assert '<li class="warning">' in late.content.decode()
    assert "already assigned to you" in text(late)
    assert list(referral(access_request, "DOC").assigned_officials.all()) == [world["doc_reviewer"]]


def test_assign_to_me_keeps_the_officials_already_assigned(world):
    access_request = submitted(world)
    services.assign_officials(
        referral=referral(access_request, "DOC"),
        actor=world["doc_approver"],
        officials=[world["doc_reviewer"]],
    )
    client = _signed_in(world["doc_approver2"])
    response = client.post(_case(access_request, "assign-me"), {"version": refresh(access_request).version})
    assert response.status_code == 302
    assert set(referral(access_request, "DOC").assigned_officials.all()) == {
        world["doc_reviewer"],
        world["doc_approver2"],
    }


def test_assign_to_me_from_a_page_opened_before_another_change_still_takes_the_referral(world):
    # taking a referral on oneself is right whatever else changed on the case (issue 16: stale-safe)
    access_request = submitted(world)
    stale = refresh(access_request).version
    services.issue_information_request(
        access_request=access_request, actor=world["oncd_approver"], question="Q?"
    )
    client = _signed_in(world["doc_reviewer"])
    response = client.post(_case(access_request, "assign-me"), {"version": stale})
    assert response.status_code == 302
    assert list(referral(access_request, "DOC").assigned_officials.all()) == [world["doc_reviewer"]]


def test_a_case_on_hold_says_so_and_hides_what_would_be_refused(world):
    access_request = submitted(world)
    services.suspend_model(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    access_request = refresh(access_request)
    assert access_request.on_hold
    action = access_request.held_by_id
    page = text(_signed_in(world["doc_approver"]).get(_case(access_request)))
    assert f"On hold: {access_request.frontier_model} was suspended by enforcement action #{action}" in page
    assert "Draft the position" not in page
    assert "Write the position" not in page
    assert "Ask the vendor" not in page
    with pytest.raises(PortalError, match=f"on hold: .* enforcement action #{action}"):
        services.draft_position(
            referral=referral(access_request, "DOC"), actor=world["doc_approver"], stance="concur"
        )
    with pytest.raises(PortalError, match="on hold"):
        services.issue_information_request(
            access_request=access_request, actor=world["doc_approver"], question="Q"
        )
    vendor_page = text(
        _signed_in(world["officer"]).get(f"/vendor/requests/{access_request.tracking_number}/")
    )
    assert (
        f"On hold: {access_request.frontier_model} was suspended by enforcement action #{action}"
        in vendor_page
    )
    assert "will start their review" not in vendor_page


def test_after_the_vendors_answer_the_lead_decides_on_one_page_with_both_side_by_side(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "OSTP")
    sign(world, access_request, "ONCD", "non_concur", rationale="Untested controls.")
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.ESCALATED
    services.resolve_escalation(
        access_request=access_request,
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="Risky.",
    )
    services.respond_to_intent_to_deny(
        access_request=refresh(access_request), actor=world["officer"], response="We added isolation."
    )
    client = _signed_in(world["doc_approver"])
    case = text(client.get(_case(access_request)))
    assert "Decide: the intent to deny and the vendor&#x27;s answer side by side" in case
    page = text(client.get(_case(access_request, "resolve")))
    side = re.search(r'class="portal-side-by-side">(.*?)</div> </div>', page).group(1)
    assert "Risky." in side
    assert "We added isolation." in side
    assert 'value="intent_to_deny"' not in page  # no second intent to deny
    assert 'value="deny"' in page
    assert 'value="approve_with_conditions"' in page
    response = client.post(
        _case(access_request, "resolve"),
        {
            "version": refresh(access_request).version,
            "outcome": "deny",
            "rationale": "Isolation is unproven.",
        },
    )
    assert response.status_code == 302
    assert refresh(access_request).status == AccessRequest.Status.DENIED
    assert refresh(access_request).decision.rationale == "Isolation is unproven."
