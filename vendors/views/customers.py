"""Partner customer pages: search, list, detail, create, edit, export and import."""

from django.contrib import messages
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.permissions import get_visible_or_404, has_object_permission
from vendors import forms, imports, selectors, services
from vendors.choices import COUNTRY_CHOICES, Sector
from vendors.models import CustomerImport, PartnerCustomer
from vendors.views._common import (
    _apply_error,
    _editor_or_404,
    _evidence_rows,
    _holders,
    _page,
    _querystring,
    vendor_member_required,
)


@vendor_member_required
def customer_search(request):
    """The pickers' search: ``?q=`` → up to 20 of the vendor's customers, as JSON."""
    customers = selectors.customer_search(request.user, vendor=request.vendor, q=request.GET.get("q", ""))
    results = [{"id": c.pk, "text": f"{c.legal_name} ({c.country_name})"} for c in customers]
    response = JsonResponse({"results": results})
    response["Cache-Control"] = "private, no-store"
    return response


@vendor_member_required
def customer_list(request):
    filters = {k: request.GET.get(k, "") for k in ("q", "country", "sector", "location")}
    qs = selectors.partner_customers_for(request.user, vendor=request.vendor, **filters)
    return render(
        request,
        "vendors/customer_list.html",
        {
            "page": _page(request, qs),
            "filters": filters,
            "countries": COUNTRY_CHOICES,
            "sectors": Sector.choices,
            "querystring": _querystring(request),
            "can_edit": request.user.role in services.EDITOR_ROLES,
        },
    )


def _customer(request, pk, action="view"):
    return get_visible_or_404(
        request.user,
        PartnerCustomer.objects.filter(vendor=request.vendor).select_related("vendor"),
        action,
        pk=pk,
    )


@vendor_member_required
def customer_detail(request, pk):
    customer = _customer(request, pk)
    return render(
        request,
        "vendors/customer_detail.html",
        {
            "customer": customer,
            "evidence": _evidence_rows(request.user, customer),
            "rows": history_rows(customer),
            "can_change": has_object_permission(request.user, customer, "change"),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_create(request):
    _editor_or_404(request)
    form = forms.PartnerCustomerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        data.pop("record_version", None)
        try:
            customer = services.register_partner_customer(vendor=request.vendor, actor=request.user, **data)
        except PortalError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"{customer} is registered as a partner customer.")
            return redirect("vendors:customer_detail", pk=customer.pk)
    return render(request, "vendors/customer_form.html", {"form": form, "customer": None})


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_edit(request, pk):
    customer = _customer(request, pk, "change")
    form = forms.PartnerCustomerForm(request.POST or None, instance=customer)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        attestation = data.pop("attestation")
        version = data.pop("record_version", None)
        changes = {k: v for k, v in data.items() if not form.fields[k].disabled}
        try:
            services.update_partner_customer(
                partner_customer=customer,
                actor=request.user,
                reason=reason,
                attestation=attestation,
                expected_version=version,
                **changes,
            )
        except PortalError as error:
            _apply_error(form, error, customer)
        else:
            messages.success(request, f"{customer} is updated.")
            return redirect("vendors:customer_detail", pk=customer.pk)
    return render(
        request,
        "vendors/customer_form.html",
        {"form": form, "customer": customer, "holders": _holders(customer)},
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_export(request):
    """The list as CSV; a list of thousands is written by a background job (asked for by POST)."""
    filters = {k: request.GET.get(k, "") for k in ("q", "country", "sector", "location")}
    qs = selectors.partner_customers_for(request.user, vendor=request.vendor, **filters)
    count = qs.count()
    if count > services.background_export_rows():
        if request.method == "POST":
            job = services.start_customer_export_job(
                vendor=request.vendor, actor=request.user, filters=filters, count=count
            )
            return redirect("jobs:detail", pk=job.pk)
        return render(
            request,
            "vendors/customer_export_background.html",
            {"count": count, "querystring": _querystring(request)},
        )
    response = HttpResponse(
        imports.export_csv(qs.iterator(chunk_size=1000)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = 'attachment; filename="partner-customers.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@vendor_member_required
def customer_import_template(request):
    response = HttpResponse("\ufeff" + imports.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="partner-customers-template.csv"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_import(request):
    _editor_or_404(request)
    form = forms.CustomerImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            customer_import = services.preview_customer_import(
                vendor=request.vendor, uploaded_file=form.cleaned_data["file"], actor=request.user
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            return redirect("vendors:customer_import_preview", pk=customer_import.pk)
    return render(
        request,
        "vendors/customer_import.html",
        {"form": form, "columns": imports.COLUMNS, "max_rows": imports.MAX_IMPORT_ROWS},
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_import_preview(request, pk):
    _editor_or_404(request)
    customer_import = get_visible_or_404(
        request.user, CustomerImport.objects.filter(vendor=request.vendor), "view", pk=pk
    )
    problems = []
    background = customer_import.total_rows > services.background_import_rows()
    if request.method == "POST" and background:
        try:
            job = services.start_customer_import_job(customer_import=customer_import, actor=request.user)
        except PortalError as error:
            problems = error.messages
        else:
            return redirect("jobs:detail", pk=job.pk)
    elif request.method == "POST":
        try:
            customer_import, created = services.confirm_customer_import(
                customer_import=customer_import, actor=request.user
            )
        except PortalError as error:
            problems = error.messages
        else:
            messages.success(
                request,
                f"{len(created):,} partner customers imported from {customer_import.original_filename}.",
            )
            return redirect(reverse("vendors:customer_list"))
    return render(
        request,
        "vendors/customer_import_preview.html",
        {
            "customer_import": customer_import,
            "problems": problems,
            "errors_listed": len(customer_import.errors),
            "valid_rows": customer_import.total_rows - customer_import.error_count,
            "background": background,
        },
    )
