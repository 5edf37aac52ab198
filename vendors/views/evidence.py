"""Evidence pages: attach to a model or customer, download, replace or remove before review."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.errors import PortalError
from portal.permissions import get_visible_or_404
from vendors import forms, services
from vendors.models import EvidenceDocument, FrontierModel
from vendors.uploads import document_response
from vendors.views._common import _apply_error, _editor_or_404, vendor_member_required
from vendors.views.customers import _customer
from vendors.views.frontier_models import _model


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


def _evidence(request, pk):
    """A document of the vendor's the member may change (404 otherwise), and where it belongs."""
    document = get_visible_or_404(
        request.user,
        EvidenceDocument.objects.filter(vendor=request.vendor).select_related(
            "frontier_model", "partner_customer"
        ),
        "change",
        pk=pk,
    )
    if document.frontier_model_id:
        return (
            document,
            document.frontier_model,
            reverse("vendors:model_detail", args=[document.frontier_model_id]),
        )
    return (
        document,
        document.partner_customer,
        reverse("vendors:customer_detail", args=[document.partner_customer_id]),
    )


def _change_evidence(request, pk, *, form_class, template):
    _editor_or_404(request)
    document, target, back = _evidence(request, pk)
    locked = services.evidence_locked_reasons([document])[document.pk]
    form = form_class(request.POST or None, request.FILES or None)
    if request.method == "POST" and not locked and form.is_valid():
        data = form.cleaned_data
        try:
            if "file" in data:
                services.replace_evidence(
                    document=document,
                    uploaded_file=data["file"],
                    title=data.get("title", ""),
                    reason=data.get("reason", ""),
                    actor=request.user,
                )
                messages.success(request, f"“{document.title}” now holds {data['file'].name}.")
            else:
                services.remove_evidence(document=document, actor=request.user, reason=data.get("reason", ""))
                messages.success(request, f"“{document.title}” is removed from {target}.")
        except PortalError as error:
            _apply_error(form, error)
        else:
            return redirect(back)
    return render(
        request,
        template,
        {"form": form, "document": document, "target": target, "back": back, "locked": locked},
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def evidence_replace(request, pk):
    return _change_evidence(
        request, pk, form_class=forms.EvidenceReplaceForm, template="vendors/evidence_replace.html"
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def evidence_remove(request, pk):
    return _change_evidence(
        request, pk, form_class=forms.EvidenceRemoveForm, template="vendors/evidence_remove.html"
    )
