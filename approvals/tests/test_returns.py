"""The lead agency returns a request, as incomplete (fixed and resubmitted under the same tracking
number, clocks restarted) or without action, from any review state; the vendor sees why."""

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from approvals import policies, services
from approvals.models import AccessRequest, Condition, Escalation, InformationRequest, Position, Referral
from approvals.tests.factories import referral, refresh, sign, submitted
from portal.errors import PortalError
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def _signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_return_incomplete_then_resubmit_keeps_the_number_and_restarts_every_clock(world):
    # given a request ONCD has signed a position on, with a question open
    access_request = submitted(world)
    sign(world, access_request, "ONCD", "concur_with_conditions", conditions=[{"text": "Log all use."}])
    services.issue_information_request(
        access_request=refresh(access_request), actor=world["doc_approver"], question="Which region?"
    )
    number = access_request.tracking_number
    old_due = referral(access_request, "DOC").due_date
    # when DOC returns it as incomplete
    services.return_incomplete(
        access_request=refresh(access_request), actor=world["doc_approver"], reason="Attach the end-use memo."
    )
    access_request = refresh(access_request)
    # then it is back with the vendor, every referral and question closed, the vendor told why
    assert access_request.status == AccessRequest.Status.RETURNED_INCOMPLETE
    assert access_request.closed_reason == "Attach the end-use memo."
    assert set(access_request.referrals.values_list("status", flat=True)) == {"closed", "signed"}
    assert access_request.information_requests.get().status == InformationRequest.Status.CLOSED
    mail = Notification.objects.filter(event="request_returned_incomplete", recipient=world["officer"])
    assert "Attach the end-use memo." in mail.get().body
    assert policies.can_update_draft(world["officer"], access_request)
    assert not policies.can_discard_draft(world["officer"], access_request)
    # when the vendor edits it and submits it again, two days later
    services.update_draft(access_request=access_request, actor=world["officer"], scope="Now with the memo.")
    later = timezone.now() + timedelta(days=2)
    from unittest import mock

    with mock.patch("django.utils.timezone.now", return_value=later):
        services.submit_request(access_request=refresh(access_request), actor=world["officer"])
    access_request = refresh(access_request)
    # then the same number, the referrals open again on new clocks, the old positions superseded
    assert access_request.tracking_number == number
    assert access_request.status == AccessRequest.Status.SUBMITTED
    assert access_request.closed_reason == ""
    doc = referral(access_request, "DOC")
    assert doc.status == Referral.Status.OPEN
    assert doc.due_date == old_due + timedelta(days=2)
    assert set(access_request.referrals.values_list("status", flat=True)) == {Referral.Status.OPEN}
    assert not Position.objects.filter(referral__access_request=access_request).exists()
    assert not Condition.objects.filter(access_request=access_request).exists()
    assert Position.history.filter(history_change_reason__startswith="Superseded").exists()
    received = Notification.objects.filter(event="referral_received", recipient=world["oncd_approver"])
    assert received.count() == 2  # the first referral and the new one


def test_a_returned_request_keeps_its_customer(world):
    access_request = submitted(world)
    services.return_incomplete(access_request=access_request, actor=world["doc_approver"], reason="Fix it.")
    from approvals.tests.factories import new_customer

    with pytest.raises(PortalError, match="keeps its customer and model"):
        services.update_draft(
            access_request=refresh(access_request),
            actor=world["officer"],
            partner_customer=new_customer(world),
        )


def test_return_without_action_from_an_escalated_case(world):
    access_request = submitted(world)
    sign(world, access_request, "DOC")
    sign(world, access_request, "OSTP")
    sign(world, access_request, "ONCD", "non_concur", rationale="Untested controls.")
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.ESCALATED
    services.return_without_action(
        access_request=access_request, actor=world["doc_approver"], reason="The preview cap is full."
    )
    access_request = refresh(access_request)
    assert access_request.status == AccessRequest.Status.RETURNED
    assert not policies.can_withdraw(world["officer"], access_request)
    page = _signed_in(world["officer"]).get(f"/vendor/requests/{access_request.tracking_number}/")
    assert "Returned without action" in text(page)
    assert "The preview cap is full." in text(page)


@pytest.mark.parametrize("who", ["doc_reviewer", "oncd_approver", "officer", "auditor"])
def test_only_a_lead_approver_returns(world, who):
    access_request = submitted(world)
    with pytest.raises(PortalError, match="Only an approver of the lead agency can return"):
        services.return_without_action(access_request=access_request, actor=world[who], reason="No.")
    assert refresh(access_request).status == AccessRequest.Status.SUBMITTED


def test_a_return_needs_reasons_and_an_open_request(world):
    access_request = submitted(world)
    with pytest.raises(PortalError, match="Write the reasons"):
        services.return_incomplete(access_request=access_request, actor=world["doc_approver"], reason="  ")
    services.withdraw_request(access_request=access_request, actor=world["officer"], reason="Not needed")
    with pytest.raises(PortalError, match="only a request under review can be returned"):
        services.return_incomplete(
            access_request=refresh(access_request), actor=world["doc_approver"], reason="x"
        )


def test_the_case_page_offers_both_returns_to_the_lead_approver_only(world):
    access_request = submitted(world)
    url = f"/admin/approvals/accessrequest/{access_request.pk}/change/"
    page = text(_signed_in(world["doc_approver"]).get(url))
    assert "Return as incomplete" in page
    assert "Return without action" in page
    page = text(_signed_in(world["oncd_approver"]).get(url))
    assert "Return as incomplete" not in page
    assert (
        _signed_in(world["oncd_approver"])
        .get(f"/admin/approvals/accessrequest/{access_request.pk}/return-without-action/")
        .status_code
        == 404
    )
    response = _signed_in(world["doc_approver"]).post(
        f"/admin/approvals/accessrequest/{access_request.pk}/return-incomplete/",
        {"version": refresh(access_request).version, "reason": "Scope is missing regions."},
    )
    assert response.status_code == 302
    page = text(_signed_in(world["officer"]).get(f"/vendor/requests/{access_request.tracking_number}/"))
    assert "Returned as incomplete" in page
    assert "Scope is missing regions." in page
    assert "Resubmit the request" in page


def test_escalation_record_is_superseded_on_resubmission(world):
    access_request = submitted(world)
    sign(world, access_request, "ONCD", "non_concur", rationale="No.")
    sign(world, access_request, "DOC")
    sign(world, access_request, "OSTP")
    assert Escalation.objects.filter(access_request=access_request).exists()
    services.return_incomplete(
        access_request=refresh(access_request), actor=world["doc_approver"], reason="Fix."
    )
    services.submit_request(access_request=refresh(access_request), actor=world["officer"])
    assert not Escalation.objects.filter(access_request=access_request).exists()
    assert refresh(access_request).status == AccessRequest.Status.SUBMITTED
