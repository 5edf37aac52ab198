"""Vendor-facing pages. Every page is for members of a vendor only; anyone else gets 404.

Views parse, call one service, and render the result or the service's refusal. Viewers read;
every change page answers 404 to them, as does every record of another vendor.
"""

from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.module_loading import import_string
from django.views.decorators.http import require_http_methods

from portal.accounts.mfa_views import require_recent_second_factor
from portal.accounts.models import Role
from portal.audit.history import history_rows
from portal.audit.versions import carry_current_version
from portal.errors import PortalError
from portal.permissions import get_visible_or_404, has_object_permission
from vendors import forms, imports, selectors, services
from vendors.choices import COUNTRY_CHOICES, Sector
from vendors.models import CustomerImport, EvidenceDocument, FrontierModel, PartnerCustomer
from vendors.uploads import document_response

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


# ---------------------------------------------------------------------------------------------
# Dashboard


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


# ---------------------------------------------------------------------------------------------
# Frontier models


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
            "evidence": selectors.evidence_for(request.user, frontier_model),
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


# ---------------------------------------------------------------------------------------------
# Evidence


def _attach(request, target, detail_url, template_context):
    form = forms.EvidenceForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        kwargs = (
            {"frontier_model": target} if isinstance(target, FrontierModel) else {"partner_customer": target}
        )
        try:
            document = services.attach_evidence(
                kind=form.cleaned_data["kind"],
                title=form.cleaned_data["title"],
                uploaded_file=form.cleaned_data["file"],
                actor=request.user,
                **kwargs,
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            messages.success(request, f"“{document.title}” is attached to {target}.")
            return redirect(detail_url)
    return render(
        request,
        "vendors/evidence_form.html",
        {"form": form, "target": target, "back": detail_url, **template_context},
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def model_evidence_new(request, pk):
    frontier_model = _model(request, pk, "change")
    return _attach(request, frontier_model, reverse("vendors:model_detail", args=[pk]), {})


@vendor_member_required
@require_http_methods(["GET", "POST"])
def customer_evidence_new(request, pk):
    customer = _customer(request, pk, "change")
    return _attach(request, customer, reverse("vendors:customer_detail", args=[pk]), {})


@vendor_member_required
def evidence_download(request, pk):
    document = get_visible_or_404(
        request.user, EvidenceDocument.objects.filter(vendor=request.vendor), "view", pk=pk
    )
    return document_response(
        document.file, filename=document.original_filename, content_type=document.content_type
    )


# ---------------------------------------------------------------------------------------------
# Partner customers


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
            "evidence": selectors.evidence_for(request.user, customer),
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
def customer_export(request):
    filters = {k: request.GET.get(k, "") for k in ("q", "country", "sector", "location")}
    qs = selectors.partner_customers_for(request.user, vendor=request.vendor, **filters)
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
    if request.method == "POST":
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
        },
    )


# ---------------------------------------------------------------------------------------------
# Team and profile


@vendor_member_required
def team(request):
    return render(
        request,
        "vendors/team.html",
        {
            "vendor": request.vendor,
            "members": selectors.team_of(request.vendor),
            "can_manage": request.user.role == Role.VENDOR_ADMIN,
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def team_invite(request):
    _team_admin_or_404(request)
    form = forms.InviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.invite_member(vendor=request.vendor, actor=request.user, **form.cleaned_data)
        except PortalError as error:
            _apply_error(form, error)
        else:
            # The same words whether or not the address already has an account (see invite_member).
            email = form.cleaned_data["email"]
            messages.success(request, f"An e-mail about this invitation is on its way to {email}.")
            return redirect("vendors:team")
    return render(request, "vendors/team_invite.html", {"form": form})


def _member(request, pk):
    member = selectors.team_of(request.vendor).filter(pk=pk).first()
    if member is None:
        raise Http404("No such member.")
    return member


@vendor_member_required
@require_http_methods(["GET", "POST"])
def team_member(request, pk):
    """One member: change their role or deactivate them (compliance admins only)."""
    _team_admin_or_404(request)
    member = _member(request, pk)
    if (again := require_recent_second_factor(request)) is not None:
        return again  # changing a role asks for the second factor again (issue 13)
    role_form = forms.RoleForm(
        request.POST if request.POST.get("action") == "role" else None,
        initial={"role": member.role},
        instance=member,
    )
    deactivate_form = forms.DeactivateForm(
        request.POST if request.POST.get("action") == "deactivate" else None,
        prefix="deactivate",
        instance=member,
    )
    if request.method == "POST":
        form = role_form if request.POST.get("action") == "role" else deactivate_form
        if form.is_valid():
            try:
                if form is role_form:
                    services.change_member_role(
                        vendor=request.vendor,
                        member=member,
                        role=form.cleaned_data["role"],
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        expected_version=form.cleaned_data["record_version"],
                    )
                    done = f"{member.email} is now {Role(form.cleaned_data['role']).label.lower()}."
                else:
                    services.deactivate_member(
                        vendor=request.vendor,
                        member=member,
                        actor=request.user,
                        reason=form.cleaned_data["reason"],
                        expected_version=form.cleaned_data["record_version"],
                    )
                    done = f"{member.email} is deactivated and can no longer sign in."
            except PortalError as error:
                _apply_error(form, error, member)
            else:
                messages.success(request, done)
                return redirect("vendors:team")
    return render(
        request,
        "vendors/team_member.html",
        {
            "member": member,
            "role_form": role_form,
            "deactivate_form": deactivate_form,
            "rows": history_rows(member),
        },
    )


@vendor_member_required
def profile(request):
    return render(
        request,
        "vendors/profile.html",
        {
            "vendor": request.vendor,
            "rows": history_rows(request.vendor),
            "can_edit": has_object_permission(request.user, request.vendor, "change"),
            "pending_name_change": request.vendor.name_changes.filter(status="pending").first(),
            "can_manage": request.user.role == Role.VENDOR_ADMIN
            and has_object_permission(request.user, request.vendor, "manage_team"),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def profile_notices(request):
    """The compliance admins' switch for the notices to partner customers' security contacts."""
    _team_admin_or_404(request)
    current = "yes" if request.vendor.notify_customer_security_contacts else "no"
    form = forms.SecurityContactNoticesForm(request.POST or None, initial={"enabled": current})
    if request.method == "POST" and form.is_valid():
        try:
            services.set_security_contact_notices(
                vendor=request.vendor,
                actor=request.user,
                enabled=form.cleaned_data["enabled"],
                reason=form.cleaned_data["reason"],
            )
        except PortalError as error:
            _apply_error(form, error)
        else:
            messages.success(request, "The setting is saved.")
            return redirect("vendors:profile")
    return render(request, "vendors/profile_notices.html", {"form": form, "vendor": request.vendor})


@vendor_member_required
@require_http_methods(["GET", "POST"])
def profile_edit(request):
    _team_admin_or_404(request)
    form = forms.VendorProfileForm(request.POST or None, instance=request.vendor)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        reason = data.pop("reason", "")
        version = data.pop("record_version", None)
        try:
            services.update_vendor_profile(
                vendor=request.vendor, actor=request.user, reason=reason, expected_version=version, **data
            )
        except PortalError as error:
            _apply_error(form, error, request.vendor)
        else:
            if request.vendor.name_changes.filter(status="pending", requested_by=request.user).exists():
                messages.success(
                    request, "Saved. The new legal name takes effect when a portal administrator approves it."
                )
            else:
                messages.success(request, "The vendor profile is updated.")
            return redirect("vendors:profile")
    return render(request, "vendors/profile_form.html", {"form": form, "vendor": request.vendor})
