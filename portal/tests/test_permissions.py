"""The one permissions helper: filtering and fetch-or-404."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.http import Http404

from portal import permissions
from portal.accounts.models import Organisation
from portal.tests.factories import OrganisationFactory, agency_user, auditor, portal_admin, vendor_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    user = vendor_user(organisation=mine)
    permissions.grant("view", user, mine)
    return user, mine, theirs


def test_filter_keeps_only_objects_the_user_holds_a_permission_on(world):
    user, mine, _theirs = world
    assert list(permissions.visible_to(user, Organisation.objects.all())) == [mine]


def test_get_or_404_returns_own_object_and_404s_on_another(world):
    user, mine, theirs = world
    assert permissions.get_visible_or_404(user, Organisation.objects.all(), pk=mine.pk) == mine
    with pytest.raises(Http404):
        permissions.get_visible_or_404(user, Organisation.objects.all(), pk=theirs.pk)
    with pytest.raises(Http404):
        permissions.get_visible_or_404(user, Organisation.objects.all(), pk="not-a-number")


def test_a_model_level_permission_does_not_leak_every_row(world):
    user, mine, _theirs = world
    user.user_permissions.add(Permission.objects.get(codename="view_organisation"))
    user = type(user).objects.get(pk=user.pk)  # drop the permission cache
    assert list(permissions.visible_to(user, Organisation.objects.all())) == [mine]


def test_superuser_flag_alone_does_not_widen_the_filter(world):
    user, mine, _theirs = world
    # Issue 13: only a portal administrator may hold the flag; the database refuses it to anyone else.
    user.is_superuser = True
    with pytest.raises(IntegrityError), transaction.atomic():
        user.save()
    user = type(user).objects.get(pk=user.pk)
    assert list(permissions.visible_to(user, Organisation.objects.all())) == [mine]
    # and on a portal administrator it widens nothing beyond reading: no "change" on any row
    operator = portal_admin(is_superuser=True)
    assert not permissions.visible_to(operator, Organisation.objects.all(), "change").exists()


def test_group_permission_counts(world):
    _, _mine, theirs = world
    member = vendor_user()
    group = Group.objects.create(name="team")
    member.groups.add(group)
    permissions.grant("view", group, theirs)
    assert list(permissions.visible_to(member, Organisation.objects.all())) == [theirs]


def test_the_view_permission_does_not_grant_change(world):
    user, mine, _ = world
    assert permissions.visible_to(user, Organisation.objects.all(), "change").count() == 0
    assert permissions.has_object_permission(user, mine, "view")
    assert not permissions.has_object_permission(user, mine, "change")


def test_revoke_takes_the_permission_away(world):
    user, mine, _ = world
    permissions.revoke("view", user, mine)
    assert permissions.visible_to(user, Organisation.objects.all()).count() == 0


def test_the_kept_filter_follows_grants_groups_and_revocations_at_once(world):
    """The filter's SQL is written once per model and kept (``_held_sql``); what it finds is read
    when each list runs, so a change shows on the very next list."""
    user, mine, theirs = world
    listed = lambda: set(permissions.visible_to(user, Organisation.objects.all()))  # noqa: E731
    assert listed() == {mine}
    kept = permissions._held_sql(Organisation)
    # a grant through a group the person joins afterwards
    group = Group.objects.create(name="later")
    permissions.grant("view", group, theirs)
    assert listed() == {mine}
    user.groups.add(group)
    assert listed() == {mine, theirs}
    # a revocation, then leaving the group
    permissions.revoke("view", user, mine)
    assert listed() == {theirs}
    user.groups.remove(group)
    assert listed() == set()
    # the same text all along, and using the filter changed nothing in it
    assert permissions._held_sql(Organisation) is kept
    held = permissions._held_filter(user, Organisation, "view")
    assert str(Organisation.objects.filter(held).query) == str(Organisation.objects.filter(held).query)


def test_the_filter_names_its_own_row_when_the_list_becomes_a_subquery(world):
    """Inside another query the filtered table is renamed (``U0``); the filter must follow it and
    not name the outer query's row. Organisations with *another* organisation the person sees:
    only ``theirs`` (``mine`` is the one they see). Naming the outer row would give ``mine``."""
    from django.db.models import Exists, OuterRef

    user, mine, theirs = world
    others_seen = permissions.visible_to(user, Organisation.objects.exclude(pk=OuterRef("pk")))
    found = set(Organisation.objects.filter(pk__in=[mine.pk, theirs.pk]).filter(Exists(others_seen)))
    assert found == {theirs}
    # and as ``pk__in`` of a list of another model's rows
    seen = permissions.visible_to(user, Organisation.objects.all()).values("pk")
    assert list(Organisation.objects.filter(pk__in=seen)) == [mine]


def test_grants_read_the_permission_rows_once_until_a_migrate_writes_them_anew(
    world, django_assert_num_queries
):
    from django.apps import apps
    from django.db.models.signals import post_migrate

    _user, mine, theirs = world
    other = vendor_user(organisation=theirs)
    permissions.grant_many("change", other, [theirs])  # (the rows are read and kept)
    with django_assert_num_queries(1):  # the insert only
        permissions.grant_many("change", other, [mine])
    # a flush or a migrate writes the permission rows anew, with new ids, and says so
    content_type = ContentType.objects.get_for_model(Organisation)
    old = Permission.objects.get(content_type=content_type, codename="change_organisation")
    Permission.objects.filter(pk=old.pk).delete()
    new = Permission.objects.create(content_type=content_type, codename=old.codename, name=old.name)
    config = apps.get_app_config("accounts")
    post_migrate.send(sender=config, app_config=config, verbosity=0, interactive=False, using="default")
    permissions.grant_many("change", other, [mine])
    assert mine.organisationuserobjectpermission_set.get(user=other).permission_id == new.pk


def test_auditors_and_portal_admins_read_everything_but_change_nothing(world):
    for reader in (auditor(), portal_admin()):
        assert (
            permissions.visible_to(reader, Organisation.objects.all()).count() == Organisation.objects.count()
        )
        assert permissions.visible_to(reader, Organisation.objects.all(), "change").count() == 0


def test_inactive_and_anonymous_users_see_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    user, _, _ = world
    user.is_active = False
    assert permissions.visible_to(user, Organisation.objects.all()).count() == 0
    assert permissions.visible_to(AnonymousUser(), Organisation.objects.all()).count() == 0


def test_agency_official_without_grants_sees_nothing(world):
    assert permissions.visible_to(agency_user(), Organisation.objects.all()).count() == 0


def test_permissions_use_the_direct_foreign_key_table(world):
    user, mine, _ = world
    assert mine.organisationuserobjectpermission_set.filter(user=user).exists()


def test_grant_many_gives_a_group_the_permission_on_every_object():
    member = vendor_user()
    group = Group.objects.create(name="bulk")
    member.groups.add(group)
    organisations = [OrganisationFactory() for _ in range(3)]
    permissions.grant_many(["view", "change"], group, organisations)
    permissions.grant_many("view", group, organisations)  # again: no duplicate rows, no error
    assert set(permissions.visible_to(member, Organisation.objects.all())) == set(organisations)
    assert permissions.visible_to(member, Organisation.objects.all(), "change").count() == 3


def test_a_grant_costs_two_queries_whatever_the_number_of_actions_and_objects(django_assert_num_queries):
    member = vendor_user()
    group = Group.objects.create(name="bulk")
    organisations = [OrganisationFactory() for _ in range(5)]
    ContentType.objects.get_for_model(Organisation)  # the content type is cached per process
    permissions.forget_kept_permissions()  # (as a migrate leaves them)
    with django_assert_num_queries(2):  # the permissions, then one insert
        permissions.grant_many(["view", "change"], group, organisations)
    with django_assert_num_queries(1):  # the permissions are kept: the insert only
        permissions.grant(["view", "change"], member, organisations[0])
    assert group.organisationgroupobjectpermission_set.count() == 10
    assert permissions.has_object_permission(member, organisations[0], "change")
    assert not permissions.has_object_permission(member, organisations[1], "view")


def test_granting_again_keeps_one_row_and_an_unknown_action_is_refused(world):
    user, mine, _theirs = world
    permissions.grant(["view", "change"], user, mine)
    assert mine.organisationuserobjectpermission_set.filter(user=user).count() == 2
    with pytest.raises(Permission.DoesNotExist, match="fly_organisation"):
        permissions.grant(["view", "fly"], user, mine)
    assert mine.organisationuserobjectpermission_set.filter(user=user).count() == 2
