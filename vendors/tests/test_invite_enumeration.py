"""Inviting a colleague says the same thing whatever the address, so the invite form cannot be
used to learn who has an account on the portal (in any organisation)."""

import pytest
from django.urls import reverse

from portal.accounts.models import Role, User
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _invite(client, email):
    return client.post(
        reverse("vendors:team_invite"),
        {"full_name": "Nia New", "email": email, "role": "vendor_viewer"},
        follow=True,
    )


def _flash(response):
    return [str(m) for m in response.context["messages"]]


def test_a_new_address_and_an_existing_one_get_the_same_answer(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        new = _invite(client, "nia@vendor.example")
    with django_capture_on_commit_callbacks(execute=True):
        existing = _invite(client, world.other_admin.email)  # an account at another vendor
    # then: the inviter sees the same page and the same words, the address aside
    assert new.redirect_chain == existing.redirect_chain == [(reverse("vendors:team"), 302)]
    said_new = _flash(new)[-1].replace("nia@vendor.example", "ADDRESS")
    said_existing = _flash(existing)[-1].replace(world.other_admin.email, "ADDRESS")
    assert said_new == said_existing
    assert "already" not in said_existing
    # and: the new address gets an invitation, the existing account is told by mail instead
    assert User.objects.get(email="nia@vendor.example").role == Role.VENDOR_VIEWER
    world.other_admin.refresh_from_db()
    assert world.other_admin.organisation == world.other_vendor.organisation
    assert world.other_admin.role == Role.VENDOR_ADMIN
    assert [m.to for m in mailoutbox] == [["nia@vendor.example"], [world.other_admin.email]]
    notice = mailoutbox[1].body
    assert "already has an account" in notice
    assert "/accounts/reset/" not in notice  # no sign-in link for an account that exists
    assert Notification.objects.filter(
        recipient=world.other_admin, event="team_invitation_existing_account"
    ).exists()


def test_the_service_tells_an_existing_account_by_mail_and_adds_nobody(world, mailoutbox):
    from vendors import services

    result = services.invite_member(
        vendor=world.vendor,
        email=world.viewer.email.upper(),
        full_name="X",
        role=Role.VENDOR_ADMIN,
        actor=world.admin,
    )
    assert result is None
    world.viewer.refresh_from_db()
    assert world.viewer.role == Role.VENDOR_VIEWER  # an invite never changes an existing account
    notice = Notification.objects.get(recipient=world.viewer, event="team_invitation_existing_account")
    assert world.admin.full_name in notice.body
