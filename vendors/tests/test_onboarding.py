"""Onboarding (issue 13): apply as a vendor, review by a portal administrator, unique legal names,
changes of legal name approved by a portal administrator, scripted set-up."""

import re
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from approvals.models import Agency
from portal.accounts.models import Role, User
from portal.errors import PortalError
from portal.notifications.models import Notification
from portal.tests.factories import agency_user, auditor, portal_admin, vendor_user
from portal.tests.mfa_helpers import verified_login
from vendors import services
from vendors.models import Vendor
from vendors.onboarding import services as onboarding
from vendors.onboarding.models import Decision, VendorApplication, VendorNameChange
from vendors.tests.factories import VendorFactory, member_of

pytestmark = pytest.mark.django_db

APPLICATION = {
    "legal_name": "Cobalt Reasoning, Inc.",
    "country": "US",
    "identifiers": "UEI J7M9KQ2LX4N1",
    "address": "1 Market Street, San Francisco, CA",
    "admin_name": "Dana Cobalt",
    "admin_email": "dana@cobalt.example",
    "attestation": "on",
}


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


def test_a_company_applies_on_the_public_page_and_keeps_what_it_typed(client):
    assert client.get("/vendor/apply/").status_code == 200
    missing = client.post("/vendor/apply/", {**APPLICATION, "attestation": ""})
    assert missing.status_code == 200
    assert 'value="UEI J7M9KQ2LX4N1"' in text(missing)
    response = client.post("/vendor/apply/", APPLICATION)
    assert response["Location"] == "/vendor/apply/sent/"
    application = VendorApplication.objects.get()
    assert (application.status, application.admin_email) == (Decision.PENDING, "dana@cobalt.example")


def test_a_name_already_on_the_portal_is_refused_whatever_its_spelling(client):
    VendorFactory(legal_name="Aurora Labs Inc.", organisation__name="Aurora Labs")
    response = client.post("/vendor/apply/", {**APPLICATION, "legal_name": "AURORA LABS, L.L.C."})
    assert "already registered" in text(response)
    assert not VendorApplication.objects.exists()


def test_approval_creates_the_vendor_and_invites_its_first_admin(client):
    application = onboarding.submit_application(**{**APPLICATION, "attestation": True})
    operator = portal_admin()
    verified_login(client, operator)
    page = text(client.get(f"/admin/vendors/vendorapplication/{application.pk}/change/"))
    assert f"/admin/vendors/vendorapplication/{application.pk}/approve/" in page
    response = client.post(
        f"/admin/vendors/vendorapplication/{application.pk}/approve/", {"reason": "UEI checked in SAM.gov."}
    )
    assert response.status_code == 302
    vendor = Vendor.objects.get(legal_name="Cobalt Reasoning, Inc.")
    admin = User.objects.get(email="dana@cobalt.example")
    assert (admin.role, admin.organisation_id, admin.has_usable_password()) == (
        Role.VENDOR_ADMIN,
        vendor.organisation_id,
        False,
    )
    assert admin.groups.filter(pk=vendor.admins_group_id).exists()
    assert Notification.objects.filter(event="account_invitation", recipient=admin).exists()
    application.refresh_from_db()
    assert (application.status, application.vendor, application.decided_by) == (
        Decision.APPROVED,
        vendor,
        operator,
    )
    assert "UEI checked" in vendor.history.latest().history_change_reason


def test_rejection_tells_the_applicant_why(client, django_capture_on_commit_callbacks):
    application = onboarding.submit_application(**{**APPLICATION, "attestation": True})
    verified_login(client, portal_admin())
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/vendors/vendorapplication/{application.pk}/reject/", {"reason": "No UEI on record."}
        )
    application.refresh_from_db()
    assert application.status == Decision.REJECTED
    assert not Vendor.objects.filter(legal_name=APPLICATION["legal_name"]).exists()
    assert mail.outbox[-1].to == ["dana@cobalt.example"]
    assert "No UEI on record." in mail.outbox[-1].body


@pytest.mark.parametrize(
    ("make_user", "status"),
    [
        (portal_admin, 200),
        (auditor, 200),
        (lambda: agency_user(Role.AGENCY_APPROVER), 404),
        (lambda: vendor_user(Role.VENDOR_ADMIN), 404),
    ],
)
def test_who_sees_the_applications(client, make_user, status):
    application = onboarding.submit_application(**{**APPLICATION, "attestation": True})
    verified_login(client, make_user())
    response = client.get(f"/admin/vendors/vendorapplication/{application.pk}/change/", follow=True)
    assert response.status_code == status
    approve = client.get(f"/admin/vendors/vendorapplication/{application.pk}/approve/", follow=True)
    assert approve.status_code == (200 if make_user is portal_admin else 404)
    listed = client.get("/admin/vendors/vendorapplication/", follow=True)
    assert (APPLICATION["legal_name"] in listed.content.decode()) is (status == 200)


def test_a_change_of_legal_name_waits_for_a_portal_administrator_and_agencies_see_the_former_name(client):
    aurora = VendorFactory(legal_name="Aurora Labs Inc.", organisation__name="Aurora Labs")
    basalt = VendorFactory(legal_name="Basalt AI Inc.", organisation__name="Basalt AI")
    basalt_admin = member_of(basalt, Role.VENDOR_ADMIN)
    # taking another vendor's name is refused outright
    with pytest.raises(PortalError, match="already registered"):
        services.update_vendor_profile(
            vendor=basalt, actor=basalt_admin, legal_name="Aurora Labs, Inc.", reason="Rebrand"
        )
    services.update_vendor_profile(
        vendor=basalt, actor=basalt_admin, legal_name="Basalt Systems", reason="Rebrand"
    )
    assert Vendor.objects.get(pk=basalt.pk).legal_name == "Basalt AI Inc."  # not yet
    verified_login(client, basalt_admin)
    profile = text(client.get("/vendor/profile/"))
    assert "Until then the legal name stays Basalt AI Inc. " in profile  # not "Inc.."
    change = VendorNameChange.objects.get(vendor=basalt)
    operator = portal_admin()
    onboarding.decide_name_change(
        change=change, actor=operator, approve=True, reason="Certificate of amendment seen."
    )
    basalt = Vendor.objects.get(pk=basalt.pk)
    assert basalt.legal_name == "Basalt Systems"
    assert basalt.history.latest().history_user == operator
    assert onboarding.former_names(basalt)[0][0] == "Basalt AI Inc."
    assert Notification.objects.filter(event="vendor_name_change_decided", recipient=basalt_admin).exists()
    verified_login(client, operator)
    assert "Basalt AI Inc. (until" in text(client.get(f"/admin/vendors/vendor/{basalt.pk}/change/"))
    assert aurora.legal_name == "Aurora Labs Inc."


def test_only_portal_administrators_decide_name_changes():
    vendor = VendorFactory()
    admin = member_of(vendor, Role.VENDOR_ADMIN)
    services.update_vendor_profile(vendor=vendor, actor=admin, legal_name="New Name Co", reason="x")
    change = VendorNameChange.objects.get()
    for actor in (admin, auditor(), agency_user(Role.AGENCY_APPROVER)):
        with pytest.raises(PortalError, match="Only a portal administrator"):
            onboarding.decide_name_change(change=change, actor=actor, approve=True, reason="x")


def test_create_vendor_and_create_agency_commands():
    out = StringIO()
    call_command(
        "create_vendor",
        "Delta Models LLC",
        "--admin-email",
        "ops@delta.example",
        "--admin-name",
        "Ops",
        stdout=out,
    )
    assert "Delta Models LLC" in out.getvalue()
    assert User.objects.get(email="ops@delta.example").role == Role.VENDOR_ADMIN
    with pytest.raises(CommandError, match="already registered"):
        call_command("create_vendor", "delta models", "--admin-email", "x@delta.example", "--admin-name", "X")
    call_command(
        "create_agency",
        "DOE",
        "Department of Energy",
        "--admin-email",
        "a@doe.example",
        "--admin-name",
        "A",
        stdout=out,
    )
    doe = Agency.objects.get(code="DOE")
    assert User.objects.get(email="a@doe.example").role == Role.AGENCY_ADMIN
    assert User.objects.get(email="a@doe.example").organisation_id == doe.organisation_id


def test_the_invitation_carries_a_one_time_link_that_is_erased_once_sent(django_capture_on_commit_callbacks):
    from portal.notifications.models import WITHHELD_BODY

    application = onboarding.submit_application(**{**APPLICATION, "attestation": True})
    with django_capture_on_commit_callbacks(execute=True):
        onboarding.approve_application(application=application, actor=portal_admin(), reason="Checked.")
    assert "/accounts/reset/" in mail.outbox[-1].body
    row = Notification.objects.get(event="account_invitation")
    assert row.status == Notification.Status.SENT
    assert (row.body, row.link) == (WITHHELD_BODY, "")
