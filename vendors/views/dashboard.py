"""The vendor's dashboard: what is waiting on the team, per model."""

from django.conf import settings
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.module_loading import import_string

from vendors import selectors, services
from vendors.views._common import vendor_member_required


def _panels(request):
    rendered = []
    for path in getattr(settings, "VENDOR_DASHBOARD_PANELS", []):
        panel = import_string(path)(request)
        if panel:
            rendered.append(render_to_string(panel["template"], panel.get("context", {}), request=request))
    return rendered


def _model_panels(request, frontier_model):
    """Panels other apps add to a model's page (``VENDOR_MODEL_PANELS``): ``f(request, model)``."""
    rendered = []
    for path in getattr(settings, "VENDOR_MODEL_PANELS", []):
        panel = import_string(path)(request, frontier_model)
        if panel:
            rendered.append(render_to_string(panel["template"], panel.get("context", {}), request=request))
    return rendered


@vendor_member_required(vendor_required=False)
def dashboard(request):
    if request.vendor is None:
        return render(
            request, "vendors/dashboard_unregistered.html", {"organisation": request.user.organisation}
        )
    summary = selectors.registry_summary(request.user, request.vendor)
    return render(
        request,
        "vendors/dashboard.html",
        {
            "vendor": request.vendor,
            "organisation": request.user.organisation,
            "summary": summary,
            "panels": _panels(request),
            "can_edit": request.user.role in services.EDITOR_ROLES,
        },
    )
