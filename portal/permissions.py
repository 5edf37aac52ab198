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
from django.db import connection
from django.db.models import BooleanField, Expression, F, Q, QuerySet
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
    of their groups: ``EXISTS (user's row UNION ALL a group's row)``, correlated on the row's id.
    ``None`` for a model with generic permission tables.

    Guardian's own filter is ``id IN (user's ids) OR id IN (groups' ids)``: PostgreSQL hashes
    every visible id first and reads the whole table on every list (91,845 ids for one agency
    at 100,000 requests). Correlated ``EXISTS`` probes the permission tables' unique index
    (group, permission, object) for each candidate row, so a list walks its ordering index
    and stops at the page's last visible row: what a page reads no longer grows with the table.
    """
    tables = _held_sql(model)
    if tables is None:
        return None
    concrete = model._meta.concrete_model._meta
    permission = (codename(model, action).split(".", 1)[1], concrete.app_label, concrete.model_name)
    return Q(HeldBy(tables, (user.pk, *permission, user.pk, *permission)))


@lru_cache(maxsize=256)
def _held_sql(model):
    """The ``EXISTS`` of ``_held_filter`` for ``model`` as SQL text, with ``{outer}`` where the
    filtered row's id goes and eight parameters (person, the permission's three names, and again);
    ``None`` for generic permission tables. Written once per model: built through the ORM it cost
    about 3 ms of Python on every filtered list and object page (two subqueries copied, resolved and
    compiled each time), more than the database took to run it."""
    from django.contrib.auth.models import Permission
    from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

    user_model = get_user_obj_perms_model(model)
    group_model = get_group_obj_perms_model(model)
    if user_model.objects.is_generic() or group_model.objects.is_generic():
        return None
    quote = connection.ops.quote_name
    memberships = get_user_model().groups.through._meta

    def column(meta, name):
        return quote(meta.get_field(name).column)

    names = {  # table and column names from the models' own metadata, quoted: no input in them
        "u": quote(user_model._meta.db_table),
        "u_object": column(user_model._meta, "content_object"),
        "u_user": column(user_model._meta, "user"),
        "u_permission": column(user_model._meta, "permission"),
        "g": quote(group_model._meta.db_table),
        "g_object": column(group_model._meta, "content_object"),
        "g_group": column(group_model._meta, "group"),
        "g_permission": column(group_model._meta, "permission"),
        "m": quote(memberships.db_table),
        "m_group": column(memberships, "group"),
        "m_user": column(memberships, "user"),
        "p": quote(Permission._meta.db_table),
        "p_type": column(Permission._meta, "content_type"),
        "c": quote(ContentType._meta.db_table),
        "outer": "{outer}",
    }
    names["permission"] = PERMISSION_SQL.format(**names)
    return HELD_SQL.format(**names)


# The permission is found by its names when the statement runs, not by an id kept here: a test
# database's flush writes the permission rows anew with new ids. (As an id the plans change: the
# agency dashboard read fewer rows but grew with the table on tests/test_scale_rows.py.)
PERMISSION_SQL = (
    "(SELECT held_p.id FROM {p} held_p INNER JOIN {c} held_c ON held_p.{p_type} = held_c.id"
    " WHERE held_p.codename = %s AND held_c.app_label = %s AND held_c.model = %s LIMIT 1)"
)


HELD_SQL = (
    "EXISTS (SELECT 1 FROM {u} held_u WHERE held_u.{u_object} = {outer}"
    " AND held_u.{u_user} = %s AND held_u.{u_permission} = {permission}"
    " UNION ALL SELECT 1 FROM {g} held_g WHERE held_g.{g_object} = {outer}"
    " AND held_g.{g_group} IN (SELECT held_m.{m_group} FROM {m} held_m WHERE held_m.{m_user} = %s)"
    " AND held_g.{g_permission} = {permission})"
)


class HeldBy(Expression):
    """A condition written as SQL text around the filtered row's id (``{outer}``): what
    ``RawSQL`` would be if it could name the outer row. The id is an ordinary resolved column,
    so aliases are relabelled as usual when the queryset becomes a subquery."""

    conditional = True

    def __init__(self, sql, params, outer=None):
        super().__init__(output_field=BooleanField())
        self.sql, self.params = sql, tuple(params)
        self.outer = F("pk") if outer is None else outer

    def get_source_expressions(self):
        return [self.outer]

    def set_source_expressions(self, exprs):
        (self.outer,) = exprs

    def as_sql(self, compiler, connection):
        outer_sql, outer_params = compiler.compile(self.outer)
        if outer_params:  # a column has none; anything else would misplace the parameters
            raise ValueError("HeldBy needs a plain column for the outer row.")
        return self.sql.replace("{outer}", outer_sql), self.params


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
