"""Frontier model pages: list, detail, register, edit, withdraw."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.permissions import get_visible_or_404, has_object_permission
from vendors import forms, selectors, services
from vendors.models import FrontierModel
from vendors.views._common import (
    _apply_error,
    _editor_or_404,
    _evidence_rows,
    _holders,
    _page,
    _querystring,
    vendor_member_required,
)
from vendors.views.dashboard import _model_panels


@vendor_member_required
def model_list(request):
    filters = {k: request.GET.get(k, "") for k in ("q", "phase", "frontier")}
    qs = selectors.frontier_models_for(request.user, vendor=request.vendor, **filters)
    return render(
        request,
        "vendors/model_list.html",
        {
            "page": _page(request, qs),
            "filters": filters,
            "phases": FrontierModel.ReleasePhase.choices,
            "querystring": _querystring(request),
            "can_edit": request.user.role in services.EDITOR_ROLES,
        },
    )


def _model(request, pk, action="view"):
    return get_visible_or_404(
        request.user,
        FrontierModel.objects.filter(vendor=request.vendor).select_related("vendor"),
        action,
        pk=pk,
    )


@vendor_member_required
def model_detail(request, pk):
    frontier_model = _model(request, pk)
    can_change = has_object_permission(request.user, frontier_model, "change")
    return render(
        request,
        "vendors/model_detail.html",
        {
            "frontier_model": frontier_model,
            "evidence": _evidence_rows(request.user, frontier_model),
            "rows": history_rows(frontier_model),
            "panels": _model_panels(request, frontier_model),
            "can_change": can_change
            and frontier_model.release_phase
            not in {FrontierModel.ReleasePhase.WITHDRAWN, FrontierModel.ReleasePhase.SUSPENDED},
            "can_withdraw": can_change
            and frontier_model.release_phase
            not in {FrontierModel.ReleasePhase.WITHDRAWN, FrontierModel.ReleasePhase.SUSPENDED},
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def model_create(request):
    _editor_or_404(request)
    form = forms.FrontierModelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("record_version", None)
        try:
            frontier_model = services.register_frontier_model(
                vendor=request.vendor, actor=request.user, **data
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            read_back = form.compute_read_back()
            messages.success(
                request, f"{frontier_model} is registered. {read_back} {frontier_model.frontier_reason}"
            )
            return redirect("vendors:model_detail", pk=frontier_model.pk)
    return render(request, "vendors/model_form.html", {"form": form, "frontier_model": None})


@vendor_member_required
@require_http_methods(["GET", "POST"])
def model_edit(request, pk):
    frontier_model = _model(request, pk, "change")
    form = forms.FrontierModelForm(request.POST or None, instance=frontier_model)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        version = data.pop("record_version", None)
        changes = {k: v for k, v in data.items() if not form.fields[k].disabled}
        try:
            services.update_frontier_model(
                frontier_model=frontier_model,
                actor=request.user,
                reason=reason,
                expected_version=version,
                **changes,
            )
        except PortalError as error:
            _apply_error(form, error, frontier_model)
        else:
            messages.success(request, f"{frontier_model} is updated. {form.compute_read_back()}".strip())
            return redirect("vendors:model_detail", pk=frontier_model.pk)
    return render(
        request,
        "vendors/model_form.html",
        {"form": form, "frontier_model": frontier_model, "holders": _holders(frontier_model)},
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def model_withdraw(request, pk):
    frontier_model = _model(request, pk, "change")
    form = forms.WithdrawForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_frontier_model(
                frontier_model=frontier_model, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"{frontier_model} is withdrawn.")
            return redirect("vendors:model_detail", pk=frontier_model.pk)
    return render(request, "vendors/model_withdraw.html", {"form": form, "frontier_model": frontier_model})
