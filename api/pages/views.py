"""The vendor's API pages at ``/vendor/api/``: tokens, webhooks, and "Is this customer cleared?".

Every member reads; compliance admins create and revoke (``policies.can_manage_integrations``).
Anyone who is not a member of a vendor gets 404, as on every vendor page.
"""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from api import policies, services
from api.models import WebhookDelivery
from api.pages.forms import EntitlementLookupForm, TokenForm, WebhookEndpointForm
from api.selectors import recent_deliveries, token_uses, tokens_of, webhook_endpoints_of
from approvals.selectors.entitlements import entitlement, find_customers
from portal.errors import PortalError
from vendors.selectors import frontier_models_for
from vendors.views import vendor_member_required


def _admin_or_404(request):
    if not policies.can_manage_integrations(request.user, request.vendor):
        raise Http404("No such page.")


@vendor_member_required
def tokens(request):
    listed = tokens_of(request.vendor)
    return render(
        request,
        "api/tokens.html",
        {
            "tokens": listed,
            "uses": token_uses(request.vendor),
            "can_manage": policies.can_manage_integrations(request.user, request.vendor),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def token_new(request):
    _admin_or_404(request)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            token, secret = services.create_api_token(
                vendor=request.vendor, actor=request.user, **form.cleaned_data
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            # Rendered, not redirected: the secret is never stored, in the session or anywhere else.
            response = render(request, "api/token_created.html", {"token": token, "secret": secret})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/token_form.html", {"form": form})


def _token(request, pk):
    token = tokens_of(request.vendor).filter(pk=pk).first()
    if token is None:
        raise Http404("No such token.")
    return token


@vendor_member_required
@require_POST
def token_revoke(request, pk):
    _admin_or_404(request)
    token = _token(request, pk)
    try:
        services.revoke_api_token(token=token, actor=request.user)
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The token “{token.name}” is revoked; requests carrying it are refused.")
    return redirect("api_pages:tokens")


@vendor_member_required
def webhooks(request):
    return render(
        request,
        "api/webhooks.html",
        {
            "endpoints": webhook_endpoints_of(request.vendor),
            "deliveries": recent_deliveries(request.vendor),
            "can_manage": policies.can_manage_integrations(request.user, request.vendor),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def webhook_new(request):
    _admin_or_404(request)
    form = WebhookEndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.register_webhook_endpoint(
                vendor=request.vendor, actor=request.user, **form.cleaned_data
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            response = render(request, "api/webhook_created.html", {"endpoint": endpoint})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "api/webhook_form.html", {"form": form})


@vendor_member_required
@require_POST
def webhook_off(request, pk):
    _admin_or_404(request)
    endpoint = webhook_endpoints_of(request.vendor).filter(pk=pk).first()
    if endpoint is None:
        raise Http404("No such endpoint.")
    try:
        services.deactivate_webhook_endpoint(endpoint=endpoint, actor=request.user)
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"No more events go to {endpoint.url}.")
    return redirect("api_pages:webhooks")


@vendor_member_required
@require_POST
def webhook_redeliver(request, pk):
    _admin_or_404(request)
    delivery = WebhookDelivery.objects.filter(endpoint__vendor=request.vendor, pk=pk).first()
    if delivery is None:
        raise Http404("No such event.")
    try:
        services.redeliver_webhook(delivery=delivery, actor=request.user)
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"Event {delivery.event_id} is on its way again.")
    return redirect("api_pages:webhooks")


@vendor_member_required
def entitlement_lookup(request):
    """Is this customer cleared? The same answer as ``GET /api/v1/entitlements/``."""
    frontier_models = list(frontier_models_for(request.user, vendor=request.vendor))
    form = EntitlementLookupForm(request.GET or None, frontier_models=frontier_models)
    answer = None
    if request.GET and form.is_valid():
        frontier_model = next(m for m in frontier_models if str(m.pk) == form.cleaned_data["model"])
        reference = form.cleaned_data["customer"].strip()
        partner_customer = find_customers(request.user, [reference]).get(reference)
        if partner_customer is None:
            form.add_error("customer", "None of your customers has this number or reference.")
        else:
            answer = entitlement(frontier_model=frontier_model, partner_customer=partner_customer)
    return render(request, "api/entitlement_lookup.html", {"form": form, "answer": answer})
