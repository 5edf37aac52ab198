"""History rows carry the acting user and the reason: from a request, a service and a task."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.accounts import services
from portal.accounts.models import Role, User
from portal.accounts.tasks import deactivate_dormant_accounts
from portal.audit.history import history_rows, save_with_history
from portal.tests.factories import OrganisationFactory, portal_admin, vendor_user

pytestmark = pytest.mark.django_db


def test_a_service_writes_history_with_actor_and_reason():
    admin = vendor_user(Role.VENDOR_ADMIN)
    member = services.create_member(
        organisation=admin.organisation,
        email="New.Person@Example.org",
        full_name="New Person",
        role=Role.VENDOR_VIEWER,
        actor=admin,
        reason="Invited to the team.",
    )
    services.change_role(user=member, role=Role.VENDOR_OFFICER, actor=admin, reason="Promoted to officer.")
    latest, created = member.history.order_by("-history_id")[:2]
    assert (created.history_user, created.history_change_reason, created.history_type) == (
        admin,
        "Invited to the team.",
        "+",
    )
    assert (latest.history_user, latest.history_change_reason, latest.role) == (
        admin,
        "Promoted to officer.",
        Role.VENDOR_OFFICER,
    )
    (_newest, changes), _ = history_rows(User.objects.get(pk=member.pk))
    assert ("role", Role.VENDOR_VIEWER.label, Role.VENDOR_OFFICER.label) in changes
    assert member.email == "new.person@example.org"


def test_a_change_through_the_admin_records_the_signed_in_user(client):
    admin = portal_admin()
    target = vendor_user()
    client.force_login(admin)
    response = client.post(
        f"/admin/accounts/user/{target.pk}/change/",
        {
            "email": target.email,
            "full_name": "Renamed Person",
            "organisation": target.organisation.pk,
            "role": Role.VENDOR_VIEWER,
            "is_active": "on",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    record = target.history.latest()
    assert record.history_user == admin
    assert record.full_name == "Renamed Person"
    assert "admin" in record.history_change_reason


def test_a_celery_task_writes_history_as_the_system_account():
    dormant = vendor_user(last_login=timezone.now() - timedelta(days=120))
    recent = vendor_user(last_login=timezone.now() - timedelta(days=3))
    result = deactivate_dormant_accounts.delay()
    assert result.get() == 1
    dormant.refresh_from_db()
    recent.refresh_from_db()
    assert (dormant.is_active, recent.is_active) == (False, True)
    record = dormant.history.latest()
    assert record.history_user.email == services.SYSTEM_EMAIL
    assert "no sign-in for 90 days" in record.history_change_reason


def test_a_role_from_another_kind_of_organisation_is_refused():
    from portal.errors import PortalError

    organisation = OrganisationFactory()
    with pytest.raises(PortalError, match="cannot be Agency approver"):
        services.create_member(
            organisation=organisation,
            email="x@example.org",
            full_name="X",
            role=Role.AGENCY_APPROVER,
            actor=None,
            reason="test",
        )
    assert not User.objects.filter(email="x@example.org").exists()


def test_a_long_reason_is_kept_whole():
    admin = vendor_user(Role.VENDOR_ADMIN)
    reason = "Legal basis: " + "a long explanation of the finding and its basis. " * 20
    member = services.create_member(
        organisation=admin.organisation,
        email="long.reason@example.org",
        full_name="Long Reason",
        role=Role.VENDOR_VIEWER,
        actor=admin,
        reason=reason,
    )
    assert member.history.latest().history_change_reason == reason


# --- what a save validates: all of a new row, the written fields of a partial save ---------


def test_a_new_row_is_validated_in_full():
    user = User(
        email="new@example.org",
        full_name="x" * 500,
        organisation=OrganisationFactory(),
        role=Role.VENDOR_VIEWER,
    )
    with pytest.raises(ValidationError, match="at most 200 characters"):
        save_with_history(user, actor=None, reason="Invited.")
    assert not User.objects.filter(email="new@example.org").exists()


def test_a_partial_save_refuses_an_invalid_value_in_a_field_it_writes():
    member = vendor_user(Role.VENDOR_VIEWER)
    member.role = "chief-of-everything"
    with pytest.raises(ValidationError, match="is not a valid choice"):
        save_with_history(member, actor=None, reason="Promoted.", update_fields=["role"])
    member.refresh_from_db()
    assert member.role == Role.VENDOR_VIEWER


def test_a_partial_save_checks_each_unique_rule_that_reads_a_field_it_writes():
    first, second = vendor_user(), vendor_user()
    second.email = first.email
    with pytest.raises(ValidationError, match=r"(?i)e-mail address already exists"):
        save_with_history(second, actor=None, reason="Corrected.", update_fields=["email"])
    # a unique constraint on an expression (Lower("name"), kind) reads the name too
    taken, renamed = OrganisationFactory(name="Aurora Labs"), OrganisationFactory(name="Basalt AI")
    renamed.name = taken.name.upper()
    with pytest.raises(ValidationError, match=r"organisation_unique_name_per_kind|already exists"):
        save_with_history(renamed, actor=None, reason="Renamed.", update_fields=["name"])


def test_a_partial_save_does_not_check_the_fields_it_does_not_write():
    member = vendor_user(Role.VENDOR_VIEWER)
    member.role = Role.VENDOR_OFFICER
    with CaptureQueriesContext(connection) as queries:
        save_with_history(member, actor=None, reason="Promoted.", update_fields=["role"])
    # full_clean() would have checked that the member's organisation still exists (a query on
    # its table); the save writes only the role, whose rule clean() reads from the loaded row.
    assert not [q["sql"] for q in queries if '"accounts_organisation"' in q["sql"]]
    member.refresh_from_db()
    assert member.role == Role.VENDOR_OFFICER


ORGANISATION_LOOKUP = 'SELECT 1 AS "a" FROM "accounts_organisation"'  # (Django's check that it exists)


def _new_member(**organisation):
    return User(
        email="new.member@example.org", full_name="New", role=Role.VENDOR_VIEWER, password="!", **organisation
    )


def test_a_new_row_does_not_look_up_a_foreign_key_whose_row_the_service_holds():
    organisation = OrganisationFactory()
    user = _new_member(organisation=organisation)
    with CaptureQueriesContext(connection) as queries:
        save_with_history(user, actor=None, reason="Invited.")
    assert not [q["sql"] for q in queries if q["sql"].startswith(ORGANISATION_LOOKUP)]
    assert User.objects.get(email="new.member@example.org").organisation == organisation


def test_a_foreign_key_set_by_its_id_alone_is_still_looked_up():
    organisation = OrganisationFactory()
    for user in (
        _new_member(organisation_id=organisation.pk),  # by its id
        _new_member(
            organisation=OrganisationFactory(), organisation_id=organisation.pk
        ),  # another row in hand
    ):
        with CaptureQueriesContext(connection) as queries, transaction.atomic():
            save_with_history(user, actor=None, reason="Invited.")
            transaction.set_rollback(True)
        assert [q["sql"] for q in queries if q["sql"].startswith(ORGANISATION_LOOKUP)]


def test_a_unique_rule_that_reads_a_foreign_key_in_hand_is_still_checked():
    """The row in hand spares only the lookup, not the rules that read the key: a vendor's model
    name and version once per vendor."""
    from vendors.models import FrontierModel
    from vendors.tests.factories import FrontierModelFactory

    first = FrontierModelFactory(name="Aurora", version="2.0")
    twin = FrontierModel(vendor=first.vendor, name="AURORA", version="2.0", training_compute_flop=1)
    assert twin.vendor is first.vendor  # (in hand)
    with pytest.raises(ValidationError, match=r"frontier_model_unique_version|already exists"):
        save_with_history(twin, actor=None, reason="Registered.")


def test_history_values_read_as_people_read_them():
    """Issue 14: labels not codes, the portal's time zone in the admin's format, names not ids,
    yes/no, and nothing at all for an empty value (it read "Deleted user (pk=None)")."""
    from datetime import UTC, datetime

    from simple_history.models import DeletedObject

    from portal.audit.history import readable_value

    role, organisation = User._meta.get_field("role"), User._meta.get_field("organisation")
    assert readable_value(role, Role.VENDOR_OFFICER) == "Compliance officer"
    # 15:30 UTC on 15 January is 10:30 in New York, shown as the admin shows its other times
    at = datetime(2026, 1, 15, 15, 30, 12, 345678, tzinfo=UTC)
    assert readable_value(User._meta.get_field("last_login"), at) == "Jan. 15, 2026, 10:30 a.m."
    admin = portal_admin()
    assert readable_value(organisation, admin.organisation) == str(admin.organisation)
    assert readable_value(User._meta.get_field("is_active"), False) == "no"
    for empty in (None, "", [], {}, DeletedObject(User, None)):
        assert readable_value(organisation, empty) == ""
    assert readable_value(organisation, DeletedObject(User, 7)) == "user #7 (deleted)"


def test_a_members_history_diff_names_labels_and_leaves_out_what_did_not_change():
    admin = vendor_user(Role.VENDOR_ADMIN)
    member = services.create_member(
        organisation=admin.organisation,
        email="diff@example.org",
        full_name="Diff Person",
        role=Role.VENDOR_VIEWER,
        actor=admin,
        reason="Invited.",
    )
    services.change_role(user=member, role=Role.VENDOR_OFFICER, actor=admin, reason="Promoted.")
    (newest, changes), *_ = history_rows(member)
    assert newest.history_change_reason == "Promoted."
    assert changes == [(User._meta.get_field("role").verbose_name, "Viewer", "Compliance officer")]
