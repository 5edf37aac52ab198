"""The one place where object permissions are granted, checked and used to filter.

Permissions are object-level (django-guardian, with direct foreign-key tables on every
guarded model). Services grant them when they create objects or assign officials; views,
admin and selectors only read them through ``visible_to`` and ``get_visible_or_404``.

Actions are the short Django codenames: ``view``, ``change``, ``delete`` or a custom
one declared in a model's ``Meta.permissions``. A model-level permission never widens
the result: filtering is strictly per object (``accept_global_perms=False``).
Auditors and portal administrators read everything (DESIGN.md) but change nothing
through this helper's ``view`` shortcut — except what a model keeps to its owners
(``PRIVATE_TO_OWNERS``: a vendor's drafts, until submitted).

Guarded models carry ``objects = RestrictedQuerySet.as_manager()``, so a read can also be
written NetBox's way, ``Model.objects.filter(...).restrict(user, "view")``: the same
``visible_to`` underneath, one filter, two spellings.
"""

from functools import lru_cache

from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import Http404
from guardian.shortcuts import get_objects_for_user, remove_perm

READ_ACTIONS = {"view"}


def codename(model, action):
    """``view`` on ``vendors.Vendor`` becomes ``vendors.view_vendor``."""
    if "." in action:
        return action
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


def _reads_everything(user, action):
    return action in READ_ACTIONS and getattr(user, "sees_everything", False)


def private_rows(model):
    """The rows ``model`` keeps to their owners even from those who read everything (auditors and
    portal administrators), as a ``Q``: a vendor's draft request and its documents, until submitted.
    A model declares them as ``PRIVATE_TO_OWNERS``; ``None`` when it keeps nothing back."""
    return getattr(model, "PRIVATE_TO_OWNERS", None)


def _overseen(queryset):
    """What those who read everything read of ``queryset``: every row but the private ones."""
    private = private_rows(queryset.model)
    return queryset if private is None else queryset.exclude(private)


def visible_to(user, queryset, action="view"):
    """Filter ``queryset`` to the rows ``user`` holds ``action`` on. The only list filter."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if _reads_everything(user, action):
        return _overseen(queryset)
    held = _held_filter(user, queryset.model, action)
    if held is None:  # a generic permission table: guardian's own filter
        return get_objects_for_user(
            user,
            codename(queryset.model, action),
            klass=queryset,
            accept_global_perms=False,
            with_superuser=False,
        )
    return queryset.filter(held)


def _held_filter(user, model, action):
    """``Q`` for the ``model`` rows on which ``user`` holds ``action``, directly or through one
    of their groups: ``EXISTS (user's row) OR EXISTS (a group's row)``, each correlated on the
    row's id. ``None`` for a model with generic permission tables.

    Guardian's own filter is ``id IN (user's ids) OR id IN (groups' ids)``: PostgreSQL hashes
    every visible id first and reads the whole table on every list (91,845 ids for one agency
    at 100,000 requests). Correlated ``EXISTS`` probes the permission tables' unique index
    (group, permission, object) for each candidate row, so a list walks its ordering index
    and stops at the page's last visible row: what a page reads no longer grows with the table.
    """
    return _held_filter_of(user.pk, model, action)


@lru_cache(maxsize=4096)
def _held_filter_of(user_id, model, action):
    """``_held_filter``, built once per person, model and action and then reused: building it is
    about 2.5 ms of the ORM's Python on every list and object page. Nothing in it can go stale:
    the person's groups and the permission's id are read by the database when the statement runs
    (the permission by its content type's names, not by ids a test database's flush renumbers),
    and Django copies the expression each time a queryset uses it."""
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    user_model = get_user_obj_perms_model(model)
    group_model = get_group_obj_perms_model(model)
    if user_model.objects.is_generic() or group_model.objects.is_generic():
        return None
    from django.contrib.auth.models import Permission

    concrete = model._meta.concrete_model._meta
    name = codename(model, action).split(".", 1)[1]
    # both as uncorrelated scalar subqueries (computed once per statement), not as joins: joins
    # would make each probe dearer and tempt the planner into hashing every visible id again
    permission = Subquery(
        Permission.objects.filter(
            content_type__app_label=concrete.app_label, content_type__model=concrete.model_name, codename=name
        )
        .order_by()
        .values("pk")[:1]
    )
    groups = get_user_model().groups.through.objects.filter(user_id=user_id).values("group_id")
    direct = user_model.objects.filter(
        content_object=OuterRef("pk"), user_id=user_id, permission_id=permission
    ).values("pk")
    through_groups = group_model.objects.filter(
        content_object=OuterRef("pk"), group_id__in=groups, permission_id=permission
    ).values("pk")
    return Q(Exists(direct.union(through_groups, all=True)))


class RestrictedQuerySet(QuerySet):
    """A queryset that narrows itself to one person's rows: ``qs.restrict(user, action)``.

    It is ``visible_to(user, qs, action)`` written as a method, so that a list reads as
    restricted where it is built; there is still one filtering helper (``visible_to``).
    """

    def restrict(self, user, action="view"):
        return visible_to(user, self, action)


def has_object_permission(user, obj, action="view"):
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    if _reads_everything(user, action) and private_rows(type(obj)) is None:
        return True
    return visible_to(user, type(obj)._default_manager.filter(pk=obj.pk), action).exists()


def get_visible_or_404(user, queryset, action="view", **lookup):
    """Fetch one object ``user`` may ``action``, or raise 404 — never 403, never a hint."""
    visible = visible_to(user, queryset, action)
    try:
        return visible.get(**lookup)
    except (visible.model.DoesNotExist, ValueError, TypeError):
        raise Http404("No such record.") from None


def grant(actions, user_or_group, obj):
    """Give ``user_or_group`` each of ``actions`` on ``obj``. Called by services only."""
    grant_many(actions, user_or_group, [obj])


def grant_many(actions, user_or_group, objects):
    """Give ``user_or_group`` each of ``actions`` on every one of ``objects``: one query for the
    permissions and one insert for all the rows, whatever the numbers (a CSV import of thousands
    of rows must not cost thousands of queries). Permissions already held are kept as they are."""
    objects = list(objects)
    if not objects:
        return
    from django.contrib.auth.models import Group
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    model = type(objects[0])
    is_group = isinstance(user_or_group, Group)
    permission_model = (get_group_obj_perms_model if is_group else get_user_obj_perms_model)(model)
    holder = {"group" if is_group else "user": user_or_group}
    generic = permission_model.objects.is_generic()
    content_type = ContentType.objects.get_for_model(model)
    rows = []
    for permission in _permissions(model, content_type, actions):
        for obj in objects:
            if obj.pk is None:
                raise ValueError(f"{obj!r} must be saved before a permission on it is granted.")
            if generic:
                target = {"content_type": content_type, "object_pk": obj.pk}
            else:
                target = {"content_object": obj}
            rows.append(permission_model(permission=permission, **holder, **target))
    permission_model.objects.bulk_create(rows, ignore_conflicts=True)


def _permissions(model, content_type, actions):
    """The ``Permission`` rows of ``actions`` on ``model``: read once per process and kept (every
    grant of every service read them again), forgotten whenever ``post_migrate`` runs (a migrate,
    or a test database's flush, writes them anew with new ids)."""
    from django.contrib.auth.models import Permission

    names = sorted({codename(model, action).split(".", 1)[1] for action in _as_list(actions)})
    found = _kept_permissions(content_type.pk, tuple(names))
    missing = set(names) - {permission.codename for permission in found}
    if missing:
        _kept_permissions.cache_clear()  # (none is kept for a name that was not there)
        raise Permission.DoesNotExist(f"No permission {', '.join(sorted(missing))} on {model.__name__}.")
    return found


@lru_cache(maxsize=1024)
def _kept_permissions(content_type_id, names):
    from django.contrib.auth.models import Permission

    return list(Permission.objects.filter(content_type_id=content_type_id, codename__in=names))


def forget_kept_permissions(**kwargs):
    """``post_migrate``: the permission rows may have been written anew."""
    _kept_permissions.cache_clear()


def _as_list(actions):
    return [actions] if isinstance(actions, str) else list(actions)


def revoke(actions, user_or_group, obj):
    for action in [actions] if isinstance(actions, str) else actions:
        remove_perm(codename(type(obj), action), user_or_group, obj)
