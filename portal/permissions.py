"""The one place where object permissions are granted, checked and used to filter.

Permissions are object-level (django-guardian, with direct foreign-key tables on every
guarded model). Services grant them when they create objects or assign officials; views,
admin and selectors only read them through ``visible_to`` and ``get_visible_or_404``.

Actions are the short Django codenames: ``view``, ``change``, ``delete`` or a custom
one declared in a model's ``Meta.permissions``. A model-level permission never widens
the result: filtering is strictly per object (``accept_global_perms=False``).
Auditors and portal administrators read everything (DESIGN.md) but change nothing
through this helper's ``view`` shortcut.

Guarded models carry ``objects = RestrictedQuerySet.as_manager()``, so a read can also be
written NetBox's way, ``Model.objects.filter(...).restrict(user, "view")``: the same
``visible_to`` underneath, one filter, two spellings.
"""

from django.db.models import QuerySet
from django.http import Http404
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

READ_ACTIONS = {"view"}


def codename(model, action):
    """``view`` on ``vendors.Vendor`` becomes ``vendors.view_vendor``."""
    if "." in action:
        return action
    meta = model._meta
    return f"{meta.app_label}.{action}_{meta.model_name}"


def _reads_everything(user, action):
    return action in READ_ACTIONS and getattr(user, "sees_everything", False)


def visible_to(user, queryset, action="view"):
    """Filter ``queryset`` to the rows ``user`` holds ``action`` on. The only list filter."""
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    if user is None or not user.is_authenticated or not user.is_active:
        return queryset.none()
    if _reads_everything(user, action):
        return queryset
    return get_objects_for_user(
        user,
        codename(queryset.model, action),
        klass=queryset,
        accept_global_perms=False,
        with_superuser=False,
    )


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
    if _reads_everything(user, action):
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
    for action in [actions] if isinstance(actions, str) else actions:
        assign_perm(codename(type(obj), action), user_or_group, obj)


def grant_many(actions, group, objects):
    """Give ``group`` each of ``actions`` on every one of ``objects`` in one bulk insert per
    action (a CSV import of thousands of rows must not cost thousands of queries)."""
    objects = list(objects)
    if not objects:
        return
    from guardian.utils import get_group_obj_perms_model

    model = type(objects[0])
    permission_model = get_group_obj_perms_model(model)
    from django.contrib.auth.models import Permission

    for action in [actions] if isinstance(actions, str) else actions:
        app_label, name = codename(model, action).split(".")
        permission = Permission.objects.get(content_type__app_label=app_label, codename=name)
        permission_model.objects.bulk_create(
            [permission_model(group=group, permission=permission, content_object=obj) for obj in objects],
            ignore_conflicts=True,
        )


def revoke(actions, user_or_group, obj):
    for action in [actions] if isinstance(actions, str) else actions:
        remove_perm(codename(type(obj), action), user_or_group, obj)
