"""Shared by the vendor pages: the membership decorator, role guards, paging, form errors."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404

from portal.accounts.models import Role
from portal.audit.versions import carry_current_version
from portal.permissions import has_object_permission
from vendors import selectors, services

PAGE_SIZE = 25


def vendor_member_required(view=None, *, vendor_required=True):
    """Signed-in vendor members only; agency officials and others get 404, not 403.

    Sets ``request.vendor``. A member whose organisation is not registered as a vendor yet gets
    404 everywhere except where ``vendor_required=False`` (the dashboard, which says so).
    """

    def decorate(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_vendor_member:
                raise Http404("No such page.")
            request.vendor = selectors.vendor_for(request.user)
            if request.vendor is None and vendor_required:
                raise Http404("No such page.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view is not None else decorate


def _evidence_rows(user, target):
    """The evidence on a model or customer, each with ``locked_reason`` (None while it may still
    be replaced or removed), for the Evidence table's buttons."""
    documents = list(selectors.evidence_for(user, target))
    reasons = services.evidence_locked_reasons(documents)
    for document in documents:
        document.locked_reason = reasons[document.pk]
    return documents


def _editor_or_404(request):
    if request.user.role not in services.EDITOR_ROLES:
        raise Http404("No such page.")


def _team_admin_or_404(request):
    if request.user.role != Role.VENDOR_ADMIN or not has_object_permission(
        request.user, request.vendor, "manage_team"
    ):
        raise Http404("No such page.")


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


def _apply_error(form, error, instance=None):
    """Show a service refusal on the form: next to its field when it has one. A stale form keeps
    what was typed and carries the record's version now (``portal.audit.versions``)."""
    if error.field and error.field in form.fields and form.fields[error.field].disabled:
        error.field = None
    error.add_to_form(form)
    if instance is not None and getattr(error, "stale", False):
        carry_current_version(form, instance)


def _holders(record):
    """What holds the record (requests under review, active grants): a change to a material fact
    is then an amendment, which the edit page says before the vendor types."""
    from vendors.amendments import holders

    return holders(record)
