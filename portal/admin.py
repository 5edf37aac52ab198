"""Admin conventions shared by every app: scoped querysets, auditors read-only, history shown."""

import dataclasses

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import unquote
from django.contrib.admin.views.main import ChangeList
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models.expressions import RawSQL
from django.http import Http404, HttpResponseNotAllowed
from django.utils.functional import cached_property
from simple_history.admin import SimpleHistoryAdmin
from simple_history.template_utils import HistoricalRecordContextHelper

from portal import permissions
from portal.audit.history import bookkeeping_fields, readable_value
from portal.audit.versions import (
    is_stale,
    read_at,
    stale_message,
    take_theirs_where_untouched,
    theirs_shown,
    version_of,
)
from portal.params import int_param

ADMIN_VERSION_FIELD = "portal_version"


class CappedCountPaginator(Paginator):
    """Counts a list up to ``CAP`` rows: ``SELECT count(*) FROM (… LIMIT CAP + 1)``.

    An official's list can hold every request there is; counting them all reads every visible
    row on every page view (a second at 100,000 requests). Beyond the cap the list says "more
    than 1,000" and pages on through the first ``CAP`` rows; filters and search narrow it."""

    CAP = 1000

    @cached_property
    def count(self):
        counted = self.object_list.order_by().values("pk")[: self.CAP + 1].count()
        self.capped = counted > self.CAP
        return min(counted, self.CAP)

    capped = False


class ReadableHistory(HistoricalRecordContextHelper):
    """History diffs as people read them: labels, names, local times, nothing for empty values,
    no bookkeeping (``portal.audit.history.BOOKKEEPING_FIELDS``)."""

    def context_for_delta_changes(self, delta):
        hidden = bookkeeping_fields(self.model)
        delta = dataclasses.replace(
            delta,
            changes=[c for c in delta.changes if c.field not in hidden],
            changed_fields=[f for f in delta.changed_fields if f not in hidden],
        )
        return super().context_for_delta_changes(delta)

    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        if isinstance(field, models.ManyToManyField):
            value = super().prepare_delta_change_value(change, value)
            return ", ".join(str(item) for item in value)
        return readable_value(field, value)


class BoundedChangeList(ChangeList):
    """A list's date drill-down (``date_hierarchy``) builds dates from its ``…__year``,
    ``…__month`` and ``…__day`` parameters: Django refuses what ``int`` refuses but lets through a
    20-digit year (``OverflowError``) and the year 9999 (its next year is out of range), both
    500s. Any such value is a refused lookup, as the admin answers other bad parameters (the list
    without them, "?e=1")."""

    def get_filters(self, request):
        try:
            return super().get_filters(request)
        except (OverflowError, ValueError) as error:
            raise IncorrectLookupParameters(error) from error


class BoundedListParameters:
    """Every admin list of the portal reads its parameters through ``BoundedChangeList``."""

    def get_changelist(self, request, **kwargs):
        return BoundedChangeList


class NotFoundForOutsiders:
    """A record an official may not see answers 404 on every stock admin page (DESIGN.md: 404,
    not 403), exactly as a record that does not exist: not Django's "does not exist" redirect to
    the index, and not a 403 on a history page that would confirm that the id exists."""

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404("No such record.")

    def history_view(self, request, object_id, extra_context=None):
        if not self.has_view_or_change_permission(request):
            raise Http404("No such record.")
        return super().history_view(request, object_id, extra_context=extra_context)


def _plain_ids(field, values):
    """``values`` without what cannot be an id of ``field``'s target (``'²'``, a 20-digit number)."""
    target = field.remote_field.get_related_field()
    if not isinstance(target, models.IntegerField | models.AutoField):
        return values
    return [v for v in values if v in (None, "") or int_param(v) is not None]


class _SafeAutocompleteMixin:
    """The admin's autocomplete re-renders a refused form with the submitted value, querying the
    database with it; text that cannot be an id then raised ``ValueError`` (a 500). The form's
    own field refuses it with a message; the widget leaves it out."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, _plain_ids(self.field, value), attr)


class SafeAutocompleteSelect(_SafeAutocompleteMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(_SafeAutocompleteMixin, AutocompleteSelectMultiple):
    pass


class PortalModelAdmin(BoundedListParameters, NotFoundForOutsiders, SimpleHistoryAdmin):
    """Rows come through the permissions helper; auditors see everything and change nothing.

    Domain changes happen through services (buttons that open forms), so the stock add,
    change and delete permissions stay with portal administrators for reference data only.
    Bulk actions (which call services) are offered to agency officials only: an auditor's
    lists have no action menu. Every record's history page shows field diffs and reasons;
    another organisation's record answers 404 there too, and a historical version is only
    ever read, never saved back (reverting would bypass the services).
    """

    editable_by_portal_admin = False
    paginator = CappedCountPaginator
    list_per_page = 50
    show_full_result_count = False
    history_list_per_page = 50
    change_form_template = "admin/portal/change_form.html"

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def get_queryset(self, request):
        return permissions.visible_to(request.user, super().get_queryset(request))

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request, obj=None):
        if not (request.user.is_active and request.user.is_staff):
            return False
        if obj is None:
            return True
        return permissions.has_object_permission(request.user, obj, "view")

    def _portal_admin_may_edit(self, request):
        return self.editable_by_portal_admin and request.user.is_portal_admin

    def has_add_permission(self, request):
        return self._portal_admin_may_edit(request)

    def has_change_permission(self, request, obj=None):
        return self._portal_admin_may_edit(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        if not request.user.is_agency_official:
            return {}
        return super().get_actions(request)

    # -- history ---------------------------------------------------------------------------

    def _visible_or_404(self, request, object_id):
        pk_name = self.model._meta.pk.attname
        try:
            return self.get_queryset(request).get(**{pk_name: unquote(object_id)})
        except (self.model.DoesNotExist, ValueError, TypeError):
            raise Http404("No such record.") from None

    def history_view(self, request, object_id, extra_context=None):
        self._visible_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context=extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            return HttpResponseNotAllowed(["GET"])
        if not str(version_id).isdigit():
            raise Http404("No such version.")
        self._visible_or_404(request, object_id)
        request._portal_history_version = True  # shown as text (``get_readonly_fields``)
        return super().history_form_view(request, object_id, version_id, extra_context=extra_context)

    def get_readonly_fields(self, request, obj=None):
        """A past version is read, never edited: every field is shown as text, in the portal's
        time zone and labels, not as widgets that look editable."""
        fields = list(super().get_readonly_fields(request, obj))
        if getattr(request, "_portal_history_version", False):
            opts = self.model._meta
            fields += [
                f.name
                for f in [*opts.fields, *opts.many_to_many]
                if f.editable and not f.auto_created and f.name not in fields
            ]
        return fields

    def revert_disabled(self, request, obj=None):
        return True

    # -- no lost update --------------------------------------------------------------------

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The change page carries the version it shows (``portal.audit.versions``); after a stale
        refusal it shows the version now, so that saving again is a deliberate choice."""
        if obj is not None and obj.pk is not None:
            context.update(portal_version=version_of(obj), portal_version_field=ADMIN_VERSION_FIELD)
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None or request.method != "POST" or ADMIN_VERSION_FIELD not in request.POST:
            return form
        expected = request.POST.get(ADMIN_VERSION_FIELD)

        class VersionChecked(form):
            def clean(self):
                cleaned = super().clean()
                # the admin saves in a transaction: lock the row, then compare versions
                model = type(self.instance)
                locked = model._default_manager.select_for_update().filter(pk=self.instance.pk).first()
                if locked is not None and is_stale(locked, expected):
                    message = stale_message(locked, expected)
                    # what the admin did not change shows the record now, as on the vendor pages
                    read = read_at(locked, expected)
                    if read is not None:
                        data = self.data.copy()
                        taken = take_theirs_where_untouched(self, data, locked, read)
                        self.data = data
                        if taken:
                            message = f"{message} {theirs_shown(taken)}"
                    raise ValidationError(message)
                return cleaned

        VersionChecked.__name__ = form.__name__
        return VersionChecked

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistory(self.model, historical_record)


FIXED_CHOICES_AT_MOST = 30


def values_filter(path, title, parameter_name=None):
    """A filter on ``path``, offering what the official may filter by without reading the list.

    A field with a short fixed list of choices (sector, release phase) offers those choices: no
    query at all. Otherwise the values present among the rows of the field's own model that the
    official may see (the countries of the customers visible to them), a small table, never a
    ``DISTINCT`` over every visible row of the list (270 ms at 100,000 requests, per filter).
    """

    class ValuesFilter(admin.SimpleListFilter):
        def lookups(self, request, model_admin):
            owner, field = _owner_and_field_at(model_admin.model, path)
            labels = dict(field.flatchoices) if field.choices else {}
            if field.choices and len(labels) <= FIXED_CHOICES_AT_MOST:
                return [(v, label) for v, label in field.flatchoices if v not in (None, "")]
            if owner is model_admin.model:
                rows = model_admin.get_queryset(request)
            else:
                rows = permissions.visible_to(request.user, owner._default_manager.all())
            if labels and connections[rows.db].vendor == "postgresql":
                present = set(_present_values(rows, field, list(labels)))
                return [(v, label) for v, label in field.flatchoices if v in present and v not in (None, "")]
            values = rows.order_by(field.name).values_list(field.name, flat=True).distinct()
            return [(v, labels.get(v, v)) for v in values if v not in (None, "")]

        def queryset(self, request, queryset):
            return queryset.filter(**{path: self.value()}) if self.value() else queryset

    ValuesFilter.title = title
    ValuesFilter.parameter_name = parameter_name or path
    ValuesFilter.__name__ = f"{path.title().replace('__', '')}Filter"
    return ValuesFilter


def _present_values(rows, field, values):
    """Which of ``values`` (a field's long list of choices: countries) occur among ``rows``: one
    statement that probes the field's index once per value and stops at the first row ``rows``
    admits, where a ``DISTINCT`` would read every visible row (PostgreSQL)."""
    probe = rows.filter(**{field.name: RawSQL("wanted.value", [])}).order_by().values("pk")[:1]
    sql, params = probe.query.sql_with_params()
    with connections[rows.db].cursor() as cursor:
        cursor.execute(  # ``sql`` is Django's compiled query, its values bound as ``params``
            # a LATERAL subquery with its LIMIT runs once per value (an EXISTS would be planned as
            # a semi-join: every visible row hashed first)
            f"SELECT wanted.value FROM unnest(%s::text[]) AS wanted (value) CROSS JOIN LATERAL ({sql}) AS found",  # noqa: S608, E501
            [[str(v) for v in values], *params],
        )
        return [row[0] for row in cursor.fetchall()]


def _owner_and_field_at(model, path):
    *relations, name = path.split("__")
    for relation in relations:
        model = model._meta.get_field(relation).related_model
    return model, model._meta.get_field(name)
