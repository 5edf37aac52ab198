"""Issue 19: partner customers' security contacts are told, plainly, when their access is
suspended or revoked; a per-vendor setting (on by default, with history) controls it, and the
confirmation pages say who will be told."""

import re

import pytest
from django.core import mail

from approvals import services
from approvals.services.partner_notices import REVOKED_EVENT, SUSPENDED_EVENT
from approvals.tests.enforcement_helpers import BASIS, approved, suspend
from approvals.tests.factories import new_customer
from portal.errors import PortalError
from portal.notifications import sending
from portal.notifications.models import Notification
from vendors import services as vendor_services
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def contact_rows(event):
    return Notification.objects.filter(event=event, recipient__isnull=True).order_by("recipient_email")


def switch_off(world):
    return vendor_services.set_security_contact_notices(
        vendor=world.vendor,
        actor=world["vendor_admin"],
        enabled=False,
        reason="We tell our customers ourselves.",
    )


def test_a_suspension_tells_each_affected_customer_s_security_contact_without_case_details(world):
    # given two customers with active grants for the model and one customer with none
    first = approved(world, partner_customer=new_customer(world, security_contact_email="soc@first.example"))
    second = approved(
        world, partner_customer=new_customer(world, security_contact_email="soc@second.example")
    )
    new_customer(world, security_contact_email="soc@bystander.example")
    # when the model is pulled offline
    suspend(world)
    # then each affected contact has one address-only row, and nobody else
    rows = list(contact_rows(SUSPENDED_EVENT))
    assert [r.recipient_email for r in rows] == ["soc@first.example", "soc@second.example"]
    for row, grant in zip(rows, [first, second], strict=True):
        assert grant.partner_customer.legal_name in row.body
        assert str(world.frontier_model) in row.body
        assert "suspended" in row.body
        # a plain notice: no legal basis, no findings, no tracking number, no link into the portal
        assert BASIS["legal_basis"] not in row.body
        assert BASIS["findings"] not in row.body
        assert str(grant.access_request) not in row.body
        assert str(grant.access_request) not in row.subject
        assert row.link == ""
        assert "/admin/" not in row.body
        assert "/vendor/" not in row.body
        assert "preferences" not in row.body  # the footer speaks to a customer, not a portal user
        assert row.status == Notification.Status.PENDING


def test_the_row_is_mailed_to_the_address_on_file(world):
    approved(world, partner_customer=new_customer(world, security_contact_email="soc@first.example"))
    suspend(world)
    (row,) = contact_rows(SUSPENDED_EVENT)
    assert sending.send_notification(notification_id=row.pk)[0] == (sending.SendResult.SENT)
    (message,) = [m for m in mail.outbox if m.to == ["soc@first.example"]]
    assert "suspended" in message.subject
    row.refresh_from_db()
    assert row.status == Notification.Status.SENT


def test_one_contact_of_several_customers_gets_one_notice_naming_them(world):
    for name in ("Alpha Grid", "Beta Grid"):
        approved(
            world,
            partner_customer=new_customer(world, legal_name=name, security_contact_email="soc@grid.example"),
        )
    suspend(world)
    (row,) = contact_rows(SUSPENDED_EVENT)
    assert "Alpha Grid" in row.body
    assert "Beta Grid" in row.body


def test_a_revocation_tells_that_customer_s_contact_only(world):
    grant = approved(
        world, partner_customer=new_customer(world, security_contact_email="soc@revoked.example")
    )
    approved(world, partner_customer=new_customer(world, security_contact_email="soc@kept.example"))
    services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    (row,) = contact_rows(REVOKED_EVENT)
    assert row.recipient_email == "soc@revoked.example"
    assert "revoked" in row.body
    assert BASIS["findings"] not in row.body


def test_the_vendor_s_setting_off_tells_no_contact(world):
    approved(world, partner_customer=new_customer(world, security_contact_email="soc@first.example"))
    grant = approved(world, partner_customer=new_customer(world, security_contact_email="soc@second.example"))
    switch_off(world)
    services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    suspend(world)
    assert not Notification.objects.filter(recipient__isnull=True).exists()
    # the vendor's compliance team is still told
    assert Notification.objects.filter(event="model_suspended", recipient=world["vendor_admin"]).exists()


def test_the_setting_is_on_by_default_and_changed_with_history(world):
    assert Vendor.objects.get(pk=world.vendor.pk).notify_customer_security_contacts is True
    switch_off(world)
    vendor = Vendor.objects.get(pk=world.vendor.pk)
    assert vendor.notify_customer_security_contacts is False
    last = vendor.history.first()
    assert last.history_user == world["vendor_admin"]
    assert last.history_change_reason == "We tell our customers ourselves."
    with pytest.raises(PortalError, match="already not told"):
        switch_off(world)


ONLY_ADMINS = "Only the vendor's compliance admins may manage the team and the profile"
ONLY_MEMBERS = "Only members of this vendor may do that"


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("officer", ONLY_ADMINS),
        ("viewer", ONLY_ADMINS),
        ("other_officer", ONLY_MEMBERS),
        ("doc_approver", ONLY_MEMBERS),
        ("portal_admin", ONLY_MEMBERS),
    ],
)
def test_only_the_vendor_s_compliance_admins_change_the_setting(world, who, refusal):
    with pytest.raises(PortalError, match=refusal):
        vendor_services.set_security_contact_notices(vendor=world.vendor, actor=world[who], enabled=False)


def test_the_setting_page(client, world):
    # the compliance admin sees the setting on the profile and changes it on its page
    client.force_login(world["vendor_admin"])
    profile = text(client.get("/vendor/profile/"))
    assert "Told when a grant of theirs is suspended or revoked" in profile
    assert "/vendor/profile/security-notices/" in profile
    assert client.get("/vendor/profile/security-notices/").status_code == 200
    response = client.post("/vendor/profile/security-notices/", {"enabled": "no", "reason": "Our call."})
    assert response.status_code == 302
    assert "Not told: your team informs its customers" in text(client.get("/vendor/profile/"))
    # a stale submit (already off) is refused on the form, keeping what was typed
    again = text(
        client.post("/vendor/profile/security-notices/", {"enabled": "no", "reason": "Typed twice."})
    )
    assert "already not told" in again
    assert "Typed twice." in again
    # officers read the setting but cannot open its page; other organisations get 404
    for who in ("officer", "viewer", "other_officer", "doc_approver"):
        client.force_login(world[who])
        assert client.get("/vendor/profile/security-notices/").status_code == 404, who


def test_the_confirmation_pages_say_which_contacts_will_be_told(client, world):
    grant = approved(
        world,
        partner_customer=new_customer(
            world, legal_name="Gamma Water", security_contact_email="soc@gamma.example"
        ),
    )
    client.force_login(world["doc_approver"])
    suspend_page = text(
        client.get(f"/admin/approvals/enforcementaction/models/{world.frontier_model.pk}/suspend/")
    )
    revoke_page = text(client.get(f"/admin/approvals/enforcementaction/grants/{grant.pk}/revoke/"))
    for page in (suspend_page, revoke_page):
        assert "by a plain notice without case details" in page
        assert "soc@gamma.example" in page
        assert "Gamma Water" in page
    switch_off(world)
    page = text(client.get(f"/admin/approvals/enforcementaction/grants/{grant.pk}/revoke/"))
    assert "security contacts are <strong>not</strong> told" in page
    assert "soc@gamma.example" not in page


@pytest.mark.parametrize("kind", ["suspend", "revoke"])
def test_a_name_ending_in_a_full_stop_does_not_end_its_sentence_with_two(world, kind):
    # "…security contact of Bluewater Shipping Inc.." was the footer; the vendor's name too when
    # it has no contact address ("contact Aurora Labs Inc..")
    Vendor.objects.filter(pk=world.vendor.pk).update(legal_name="Aurora Labs Inc.", primary_contact_email="")
    grant = approved(
        world,
        partner_customer=new_customer(
            world, legal_name="Bluewater Shipping Inc.", security_contact_email="soc@bluewater.example"
        ),
    )
    if kind == "suspend":
        suspend(world)
    else:
        services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS)
    [row] = contact_rows(SUSPENDED_EVENT if kind == "suspend" else REVOKED_EVENT)
    assert "as the security contact of Bluewater Shipping Inc.\n" in row.body
    assert "contact Aurora Labs Inc.\n" in row.body
    assert ".." not in row.body


def test_a_name_without_a_full_stop_still_ends_its_sentence_with_one(world):
    approved(
        world,
        partner_customer=new_customer(
            world, legal_name="Harbor Freight Lines", security_contact_email="soc@harbor.example"
        ),
    )
    suspend(world)
    [row] = contact_rows(SUSPENDED_EVENT)
    assert "as the security contact of Harbor Freight Lines.\n" in row.body
    assert f"contact {world.vendor.legal_name} ({world.vendor.primary_contact_email}).\n" in row.body
