"""Separation of duties (issue 13): who decides who acts for an agency, and the second person."""

import re

import pytest
from django.core import mail  # noqa: F401 (the outbox is checked through Notification rows)
from django.db import IntegrityError, transaction

from approvals import policies, services
from approvals.models import Agency, StaffingChange
from approvals.tests.factories import official, referral, submitted
from portal.accounts.models import Role, User
from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def text(response):
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.fixture
def doc_admins(world):
    """DOC has two administrators (the world has one)."""
    deputy = official(world.agency("DOC"), Role.AGENCY_ADMIN, email="deputy@doc.test")
    return world["doc_admin"], deputy


# ---------------------------------------------------------------------------------------------
# The services


def test_granting_approver_waits_for_a_second_administrator(world, doc_admins):
    admin, deputy = doc_admins
    reviewer = world["doc_reviewer"]
    change = services.propose_role_change(
        person=reviewer, role=Role.AGENCY_APPROVER, actor=admin, reason="Covers the export desk."
    )
    reviewer.refresh_from_db()
    assert change.status == StaffingChange.Status.PENDING
    assert reviewer.role == Role.AGENCY_REVIEWER
    # the deputy is asked to confirm; the requester is not
    asked = Notification.objects.filter(event="staffing_change_proposed")
    assert set(asked.values_list("recipient__email", flat=True)) == {deputy.email}

    with pytest.raises(PortalError, match="second administrator"):
        services.confirm_staffing_change(change=change, actor=admin)

    services.confirm_staffing_change(change=change, actor=deputy, reason="Agreed.")
    reviewer.refresh_from_db()
    change.refresh_from_db()
    assert reviewer.role == Role.AGENCY_APPROVER
    assert (change.status, change.decided_by, change.role_before, change.role_after) == (
        StaffingChange.Status.APPLIED,
        deputy,
        Role.AGENCY_REVIEWER,
        Role.AGENCY_APPROVER,
    )
    # history: actor, reason, before → after
    record = reviewer.history.latest()
    assert record.history_user == deputy
    assert "Covers the export desk." in record.history_change_reason
    (_newest, changes), *_ = history_rows(User.objects.get(pk=reviewer.pk))
    assert ("role", Role.AGENCY_REVIEWER.label, Role.AGENCY_APPROVER.label) in changes
    # mailed to DOC's approvers and the auditors, and to the person
    told = set(
        Notification.objects.filter(event="staffing_change_applied").values_list(
            "recipient__email", flat=True
        )
    )
    assert {world["doc_approver"].email, world["auditor"].email, reviewer.email} <= told
    assert world["oncd_approver"].email not in told


def test_a_new_reviewer_takes_effect_at_once_and_nobody_changes_their_own_role(world, doc_admins):
    admin, _ = doc_admins
    approver = world["doc_approver2"]
    change = services.propose_role_change(
        person=approver, role=Role.AGENCY_REVIEWER, actor=admin, reason="Moved."
    )
    approver.refresh_from_db()
    assert (change.status, approver.role) == (StaffingChange.Status.APPLIED, Role.AGENCY_REVIEWER)
    with pytest.raises(PortalError, match="Nobody may change their own role"):
        services.propose_role_change(person=admin, role=Role.AGENCY_APPROVER, actor=admin, reason="Me.")


def test_the_subject_of_a_change_cannot_confirm_it(world, doc_admins):
    admin, deputy = doc_admins
    change = services.propose_role_change(person=deputy, role=Role.AGENCY_APPROVER, actor=admin, reason="x")
    with pytest.raises(PortalError, match="own role"):
        services.confirm_staffing_change(change=change, actor=deputy)


def test_the_two_person_rule_changes_only_with_a_second_administrator(world, doc_admins):
    admin, deputy = doc_admins
    doc = world.agency("DOC")
    change = services.propose_two_person_rule(
        agency=doc, requires_two_persons=True, actor=admin, reason="Policy."
    )
    assert Agency.objects.get(pk=doc.pk).requires_two_persons is False
    services.confirm_staffing_change(change=change, actor=deputy, reason="Yes.")
    doc = Agency.objects.get(pk=doc.pk)
    assert doc.requires_two_persons is True
    record = doc.history.latest()
    assert record.history_user == deputy
    assert "two-person rule on" in record.history_change_reason


def test_only_the_agencys_administrators_propose(world, doc_admins):
    for name in ("doc_approver", "doc_reviewer", "oncd_approver", "auditor", "portal_admin", "vendor_admin"):
        with pytest.raises(PortalError, match="Only an administrator of the agency"):
            services.propose_two_person_rule(
                agency=world.agency("DOC"), requires_two_persons=True, actor=world[name], reason="x"
            )


def test_a_rejected_change_changes_nothing_and_tells_the_requester(world, doc_admins):
    admin, deputy = doc_admins
    reviewer = world["doc_reviewer2"]
    change = services.propose_role_change(person=reviewer, role=Role.AGENCY_ADMIN, actor=admin, reason="x")
    services.reject_staffing_change(change=change, actor=deputy, reason="Not needed.")
    reviewer.refresh_from_db()
    assert reviewer.role == Role.AGENCY_REVIEWER
    assert Notification.objects.filter(event="staffing_change_rejected", recipient=admin).exists()
    with pytest.raises(PortalError, match="already been decided"):
        services.confirm_staffing_change(change=change, actor=deputy)


def test_an_invited_approver_exists_only_after_confirmation(world, doc_admins):
    admin, deputy = doc_admins
    change = services.propose_invitation(
        email="New.Approver@doc.test",
        full_name="New Approver",
        role=Role.AGENCY_APPROVER,
        actor=admin,
        reason="x",
    )
    assert not User.objects.filter(email="new.approver@doc.test").exists()
    services.confirm_staffing_change(change=change, actor=deputy)
    person = User.objects.get(email="new.approver@doc.test")
    assert (person.role, person.organisation_id, person.has_usable_password()) == (
        Role.AGENCY_APPROVER,
        world.agency("DOC").organisation_id,
        False,
    )
    assert Notification.objects.filter(event="account_invitation", recipient=person).exists()


def test_the_database_refuses_a_change_decided_by_its_requester(world, doc_admins):
    admin, _ = doc_admins
    change = services.propose_two_person_rule(
        agency=world.agency("DOC"), requires_two_persons=True, actor=admin, reason="x"
    )
    change.decided_by = admin
    with pytest.raises(IntegrityError), transaction.atomic():
        change.save()


# ---------------------------------------------------------------------------------------------
# No single account can both change who may sign for an agency and sign for it


def _everyone_with_every_flag(world):
    for person in User.objects.filter(pk__in=[p.pk for p in world.people.values()]):
        yield person
        if person.role == Role.PORTAL_ADMIN:
            person.is_superuser = True
            person.save(update_fields=["is_superuser"])
            yield User.objects.get(pk=person.pk)


def test_no_account_both_decides_who_signs_and_signs(world, doc_admins):
    access_request = submitted(world)
    doc_referral = referral(access_request, "DOC")
    services.draft_position(referral=doc_referral, actor=world["doc_approver2"], stance="concur")
    doc = world.agency("DOC")
    checked = 0
    for person in [*_everyone_with_every_flag(world), doc_admins[1]]:
        decides = policies.can_manage_staff(person, doc)
        signs = policies.can_sign_position(person, doc_referral) or policies.can_record_decision(
            person, access_request
        )
        assert not (decides and signs), person.email
        checked += decides or signs
    assert checked >= 3  # the admins decide, the approvers sign: the test saw both kinds


@pytest.mark.parametrize("role", [Role.AGENCY_APPROVER, Role.AGENCY_ADMIN, Role.VENDOR_ADMIN, Role.AUDITOR])
def test_the_superuser_flag_belongs_to_portal_administrators_only(world, role):
    person = {
        Role.AGENCY_APPROVER: world["doc_approver"],
        Role.AGENCY_ADMIN: world["doc_admin"],
        Role.VENDOR_ADMIN: world["vendor_admin"],
        Role.AUDITOR: world["auditor"],
    }[role]
    person.is_superuser = True
    with pytest.raises(IntegrityError), transaction.atomic():
        person.save(update_fields=["is_superuser"])


# ---------------------------------------------------------------------------------------------
# The pages


def test_the_portal_administrator_cannot_make_itself_an_approver(client, world):
    admin = world["portal_admin"]
    admin.is_superuser = True
    admin.save(update_fields=["is_superuser"])
    client.force_login(admin)
    page = text(client.get(f"/admin/accounts/user/{admin.pk}/change/"))
    assert 'name="role"' not in page
    assert 'name="organisation"' not in page
    client.post(
        f"/admin/accounts/user/{admin.pk}/change/",
        {
            "email": admin.email,
            "full_name": admin.full_name,
            "organisation": world.agency("DOC").organisation_id,
            "role": Role.AGENCY_APPROVER,
            "is_active": "on",
        },
    )
    admin = User.objects.get(pk=admin.pk)
    assert (admin.role, admin.organisation.kind) == (Role.PORTAL_ADMIN, "operator")
    # nor anyone else, nor the two-person rule
    reviewer = world["doc_reviewer"]
    client.post(
        f"/admin/accounts/user/{reviewer.pk}/change/",
        {"email": reviewer.email, "full_name": "x", "role": Role.AGENCY_APPROVER, "is_active": "on"},
    )
    assert User.objects.get(pk=reviewer.pk).role == Role.AGENCY_REVIEWER
    doc = world.agency("DOC")
    client.post(
        f"/admin/approvals/agency/{doc.pk}/change/",
        {"code": "DOC", "name": doc.name, "is_lead": "on", "requires_two_persons": "on"},
    )
    assert Agency.objects.get(pk=doc.pk).requires_two_persons is False
    assert client.get("/admin/approvals/staffingchange/add/").status_code == 404


def test_the_invitation_form_offers_only_what_a_portal_administrator_may_give(client, world):
    client.force_login(world["portal_admin"])
    page = text(client.get("/admin/accounts/user/add/"))
    roles = set(re.findall(r'<option value="([a-z_]+)"', page))
    assert roles == {"portal_admin", "auditor", "agency_admin"}
    # DOC already has an administrator: not offered, and a forged POST is refused
    assert f'value="{world.agency("DOC").organisation_id}"' not in page
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "sneaky@doc.test",
            "full_name": "Sneaky",
            "organisation": world.agency("DOC").organisation_id,
            "role": Role.AGENCY_APPROVER,
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="sneaky@doc.test").exists()


def test_the_portal_administrator_invites_a_new_agencys_first_administrator(client, world):
    state = world.agency("STATE")
    client.force_login(world["portal_admin"])
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "First.Admin@state.test",
            "full_name": "First Admin",
            "organisation": state.organisation_id,
            "role": Role.AGENCY_ADMIN,
            "reason": "STATE joins the portal.",
        },
    )
    assert response.status_code == 302, text(response)[:3000]
    person = User.objects.get(email="first.admin@state.test")
    assert person.role == Role.AGENCY_ADMIN
    assert not person.has_usable_password()
    assert Notification.objects.filter(event="account_invitation", recipient=person).exists()
    assert person.history.latest().history_change_reason == "STATE joins the portal."
    # a second "first" administrator is refused
    response = client.post(
        "/admin/accounts/user/add/",
        {
            "email": "second@state.test",
            "full_name": "Second",
            "organisation": state.organisation_id,
            "role": Role.AGENCY_ADMIN,
            "reason": "x",
        },
    )
    assert response.status_code == 200
    assert not User.objects.filter(email="second@state.test").exists()


def test_agency_administrators_propose_and_confirm_through_the_pages(client, world, doc_admins):
    admin, deputy = doc_admins
    reviewer = world["doc_reviewer"]
    client.force_login(admin)
    response = client.post(
        "/admin/approvals/staffingchange/add/",
        {"kind": "role", "person": reviewer.pk, "role": Role.AGENCY_APPROVER, "reason": "Export desk."},
    )
    assert response.status_code == 302, text(response)[:3000]
    change = StaffingChange.objects.get(person=reviewer)
    page = text(client.get(f"/admin/approvals/staffingchange/{change.pk}/change/"))
    assert "Waiting for a second administrator" in page
    assert "/confirm/" not in page
    assert client.get(f"/admin/approvals/staffingchange/{change.pk}/confirm/").status_code == 404

    client.force_login(deputy)
    page = text(client.get(f"/admin/approvals/staffingchange/{change.pk}/change/"))
    assert f"/admin/approvals/staffingchange/{change.pk}/confirm/" in page
    response = client.post(f"/admin/approvals/staffingchange/{change.pk}/confirm/", {"reason": "Agreed."})
    assert response.status_code == 302
    assert User.objects.get(pk=reviewer.pk).role == Role.AGENCY_APPROVER


def test_who_sees_the_staffing_changes(client, world, doc_admins):
    admin, _ = doc_admins
    change = services.propose_two_person_rule(
        agency=world.agency("DOC"), requires_two_persons=True, actor=admin, reason="x"
    )
    url = f"/admin/approvals/staffingchange/{change.pk}/change/"
    for name, status in [
        ("doc_admin", 200),
        ("doc_approver", 200),
        ("doc_reviewer", 200),
        ("auditor", 200),
        ("portal_admin", 200),
        ("oncd_approver", 404),
    ]:
        client.force_login(world[name])
        response = client.get(url, follow=True)
        assert response.status_code == status, name
    client.force_login(world["officer"])
    assert client.get(url).status_code in (302, 404)
    client.force_login(world["doc_approver"])
    assert client.get("/admin/approvals/staffingchange/add/").status_code == 404


def test_the_staffing_list_costs_the_same_for_10_and_100_changes(
    client, world, doc_admins, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    admin, _ = doc_admins
    doc = world.agency("DOC")

    def add(n):
        StaffingChange.objects.bulk_create(
            StaffingChange(
                agency=doc,
                kind=StaffingChange.Kind.ROLE,
                person=world["doc_reviewer"],
                role_before=Role.AGENCY_REVIEWER,
                role_after=Role.AGENCY_APPROVER,
                reason="bulk",
                requested_by=admin,
                status=StaffingChange.Status.REJECTED,
            )
            for _ in range(n)
        )

    client.force_login(world["auditor"])
    client.get("/admin/approvals/staffingchange/")  # (the first page after signing in writes the session)
    counts = []
    for n in (10, 90):
        add(n)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/admin/approvals/staffingchange/").status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
