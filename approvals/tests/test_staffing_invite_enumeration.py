"""An agency administrator inviting an official is told the same thing whatever the address, so
the staffing pages cannot be used to learn who has an account elsewhere on the portal (issue 19,
as the vendor's team invitation). The owner of an existing account is told by mail instead, and
nothing about that account changes."""

import re

import pytest

from approvals import services
from approvals.models import StaffingChange
from approvals.tests.factories import official
from portal.accounts.models import Role, User
from portal.errors import PortalError
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def invite(actor, email, role=Role.AGENCY_REVIEWER):
    return services.propose_invitation(
        email=email, full_name="Nia New", role=role, actor=actor, reason="Export desk."
    )


def test_an_address_with_an_account_elsewhere_is_answered_as_a_new_one(world):
    admin = world["doc_admin"]
    new = invite(admin, "nia@doc.test")
    elsewhere = invite(admin, world["officer"].email.upper())  # a vendor's compliance officer
    # then: both reviewers' invitations take effect at once, with the same summary shape
    assert new.status == elsewhere.status == StaffingChange.Status.APPLIED
    assert new.summary().replace("nia@doc.test", "ADDRESS") == elsewhere.summary().replace(
        world["officer"].email, "ADDRESS"
    )
    # and: the new address is invited; the existing account is told by mail and left as it was
    assert User.objects.get(email="nia@doc.test").role == Role.AGENCY_REVIEWER
    officer = User.objects.get(pk=world["officer"].pk)
    assert (officer.organisation_id, officer.role) == (world.vendor.organisation_id, Role.VENDOR_OFFICER)
    notice = Notification.objects.get(recipient=officer, event="team_invitation_existing_account")
    assert world.agency("DOC").name in notice.subject
    assert "already has an account" in notice.body
    assert "/accounts/reset/" not in notice.body  # no sign-in link for an account that exists
    assert not Notification.objects.filter(recipient=officer, event="account_invitation").exists()


def test_a_confirmed_invitation_of_an_account_elsewhere_changes_nothing(world):
    admin = world["doc_admin"]
    deputy = official(world.agency("DOC"), Role.AGENCY_ADMIN, email="deputy@doc.test")
    change = invite(admin, world["oncd_approver"].email, role=Role.AGENCY_APPROVER)
    assert change.status == StaffingChange.Status.PENDING  # asked, as for a new address
    services.confirm_staffing_change(change=change, actor=deputy)
    oncd = User.objects.get(pk=world["oncd_approver"].pk)
    assert oncd.organisation_id == world.agency("ONCD").organisation_id
    assert Notification.objects.filter(recipient=oncd, event="team_invitation_existing_account").exists()


def test_one_of_the_agency_s_own_officials_is_refused_by_name(world):
    with pytest.raises(PortalError, match="already one of DOC's officials"):
        invite(world["doc_admin"], world["doc_reviewer"].email)


def test_the_proposal_page_says_the_same_whatever_the_address(client, world):
    client.force_login(world["doc_admin"])

    def propose(email):
        data = {"kind": "invitation", "email": email, "full_name": "Nia New", "role": Role.AGENCY_REVIEWER}
        response = client.post("/admin/approvals/staffingchange/add/", {**data, "reason": "Export desk."})
        assert response.status_code == 302, text(response)[:2000]
        page = text(client.get(response["Location"]))
        return re.search(r"Done: [^<]*", page).group(0).replace(email, "ADDRESS")

    assert propose("nia@doc.test") == propose(world["other_officer"].email)


def test_the_mail_to_an_existing_account_names_who_can_deactivate_it_for_its_kind(world):
    # an agency official has no compliance admin: their agency administrator deactivates accounts
    admin = world["doc_admin"]
    invite(admin, world["oncd_approver"].email, role=Role.AGENCY_REVIEWER)
    invite(admin, world["officer"].email, role=Role.AGENCY_REVIEWER)
    oncd_notice = Notification.objects.get(
        recipient=world["oncd_approver"], event="team_invitation_existing_account"
    )
    assert "ask your agency's agency administrator to deactivate this account" in oncd_notice.body
    assert "compliance admin" not in oncd_notice.body
    vendor_notice = Notification.objects.get(
        recipient=world["officer"], event="team_invitation_existing_account"
    )
    assert "ask your own organisation's compliance admin to deactivate this account" in vendor_notice.body


def test_the_mail_to_an_auditor_s_account_sends_them_to_the_portal_administrators(world):
    from portal.tests.factories import auditor

    person = auditor()
    invite(world["doc_admin"], person.email)
    notice = Notification.objects.get(recipient=person, event="team_invitation_existing_account")
    assert "ask the portal administrators to deactivate this account" in notice.body
