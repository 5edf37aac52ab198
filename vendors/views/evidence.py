"""Evidence pages: attach to a model or customer, download."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from portal.errors import PortalError
from portal.permissions import get_visible_or_404
from vendors import forms, services
from vendors.models import EvidenceDocument, FrontierModel
from vendors.uploads import document_response
from vendors.views._common import _apply_error, vendor_member_required
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
