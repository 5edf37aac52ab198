"""The confirmation pages behind the enforcement and clearance buttons, each declared as an
``ActionPage`` and gated by the ``policies.can_<verb>`` that shows its button.

Each page says exactly what the action will affect (which grants, customers, open requests and
referrals, who is told) before it is taken, sends back the ids of the records it showed
(``shown``), and calls one service, which refuses if they are no longer the records it would take;
the page is then shown again with what changed. An order that someone else's has made moot (a
second tab) is told in a warning (``stale``).
"""

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from approvals import policies, selectors, services
from approvals.agency_admin import shown
from approvals.agency_admin.actions import ActionPage
from approvals.agency_admin.enforcement_orders import (
    _designation_in_force,
    _stale_designate,
    _stale_lift,
    _stale_rescind,
    _stale_revoke,
    _stale_suspend,
)
from approvals.agency_admin.forms import (
    BasisForm,
    ClearanceForm,
    ClearPreviewForm,
    DesignateForm,
    FindingForm,
    LiftForm,
    RescindForm,
    SuspendForm,
)
from approvals.models import Grant
from approvals.selectors.security_contacts import (
    security_contacts_for_revocation,
    security_contacts_for_suspension,
)
from approvals.selectors.staffing import officials_told
from approvals.services._common import _check_expected
from approvals.services.confirmation import require_same_records
from portal import permissions
from portal.errors import PortalError
from portal.params import int_param
from vendors.choices import Sector
from vendors.models import FrontierModel, PartnerCustomer

NAME = "approvals_enforcementaction_"
TEMPLATES = "admin/approvals/enforcement/"


def model_url(frontier_model_or_pk):
    return reverse(
        "admin:" + NAME + "model", args=[getattr(frontier_model_or_pk, "pk", frontier_model_or_pk)]
    )


def vendors_url(_vendor=None):
    return reverse("admin:" + NAME + "vendors")


# -- how each page finds its object: 404 for what the user may not read --------------------------


def frontier_model_for(model_admin, request, pk):
    return permissions.get_visible_or_404(request.user, FrontierModel.objects.select_related("vendor"), pk=pk)


def grant_for(model_admin, request, pk):
    return permissions.get_visible_or_404(
        request.user,
        Grant.objects.select_related("access_request", "partner_customer", "frontier_model", "vendor"),
        pk=pk,
    )


def vendor_for(model_admin, request, pk):
    vendor = selectors.vendors_under_oversight(request.user).filter(pk=pk).first()
    if vendor is None:
        raise Http404("No such vendor.")
    return vendor


# -- the services, and what each says when it is done ----------------------------------------


@dataclass
class SuspensionScope:
    """What a suspension takes: the whole model, the customers of one sector, or chosen customers."""

    kind: str = "model"  # "model", "sector", "customers"
    sector: str = ""
    customers: list | None = None  # customer ids; None: the whole model
    label: str = ""  # "the customers in the Energy sector"; empty: the whole model
    chosen: list = field(default_factory=list)  # (customers) the ids ticked, as sent


def suspension_scope(request, frontier_model):
    """The scope asked for: from the preview's query (GET) or the order's hidden fields (POST)."""
    data = request.POST if request.method == "POST" else request.GET
    kind = data.get("scope", "model")
    vendor_customers = PartnerCustomer.objects.filter(vendor_id=frontier_model.vendor_id)
    if kind == "sector" and data.get("sector") in Sector.values:
        sector = data["sector"]
        ids = list(vendor_customers.filter(sector=sector).order_by("pk").values_list("pk", flat=True))
        return SuspensionScope("sector", sector, ids, f"the customers in the {Sector(sector).label} sector")
    if kind == "customers":
        chosen = [pk for pk in (int_param(v) for v in data.getlist("customer")[:500]) if pk is not None]
        names = list(
            vendor_customers.filter(pk__in=chosen).order_by("legal_name").values_list("legal_name", flat=True)
        )
        label = f"{len(names)} chosen customer{'s' if len(names) != 1 else ''}: {', '.join(names)}"
        return SuspensionScope("customers", "", chosen, label[:200], chosen)
    return SuspensionScope()


# -- the cascades, carried out in the background -------------------------------------------------
#
# Pulling a model offline, lifting it, designating a vendor and rescinding the designation touch
# every grant, request or referral concerned, so they run as a background job (``approvals.jobs``):
# the page checks at once what it can without doing the work (the form, the rule that shows the
# button, the records it showed against those the action would take now), asks for the job and
# answers with the job's page. The job calls the one service, which checks everything again under
# its locks and does the whole cascade in one transaction: a refusal there fails the job with the
# service's own words and changes nothing; the job runs ``enforcement_orders.carry_out_<verb>``.


def _check_shown(data, actual):
    """Refuse now (the form shown again) when the records the page showed are no longer those."""
    require_same_records(shown.decode(data.get("shown_records")), actual)


def _in_background(request, verb, obj, form, *, total, extra=None):
    """Ask for the job that carries out ``verb`` on ``obj``; the answer is its page."""
    from approvals import jobs

    data = {**form.cleaned_data, **(extra or {})}
    running = jobs.active_enforcement_job(verb, obj)
    if running is not None and running.owner_id == request.user.pk:
        messages.info(request, "This order is already being carried out; this page follows it.")
        return redirect("jobs:detail", running.pk)
    if running is not None:
        who = running.owner.full_name or running.owner.email
        raise PortalError(
            f"Nothing was done: {who} gave an order on {obj} at "
            f"{timezone.localtime(running.created_at):%H:%M} that is being carried out now. "
            "Open this page again when it is done."
        )
    page = next(p for p in ENFORCEMENT_ACTIONS if p.name == verb)
    job = jobs.start_enforcement_job(
        verb=verb,
        obj=obj,
        actor=request.user,
        title=page.title(obj),
        data=data,
        total=total,
        back=page.back(obj),
    )
    job.refresh_from_db(fields=["status"])
    if job.is_active:  # (in-process, on the embedded default, it is already done: the page says how)
        messages.info(
            request,
            "Your order is being carried out in the background: this page follows it, and you get an "
            "e-mail when it is done. You may close it or go on working elsewhere.",
        )
    return redirect("jobs:detail", job.pk)


def _suspend(request, frontier_model, form):
    data = form.cleaned_data
    scope = suspension_scope(request, frontier_model)
    if scope.customers is not None:
        if not scope.customers:
            raise PortalError("Choose at least one customer to suspend.", field="customers")
        theirs = PartnerCustomer.objects.filter(pk__in=scope.customers, vendor_id=frontier_model.vendor_id)
        if theirs.count() != len(set(scope.customers)):
            raise PortalError(f"Choose customers of {frontier_model.vendor} only.", field="customers")
    ids = selectors.suspension_impact(frontier_model, customers=scope.customers).ids
    _check_shown(data, ids)
    _check_expected(data.get("expected_grants"), len(ids["grants"]), "active grants")
    _check_expected(data.get("expected_requests"), len(ids["requests"]), "open requests")
    if scope.customers is not None and not ids["grants"] and not ids["requests"]:
        raise PortalError(
            "The customers chosen hold no active grant and no open request for the model: there is "
            "nothing to suspend."
        )
    return _in_background(
        request,
        "suspend",
        frontier_model,
        form,
        total=len(ids["grants"]) + len(ids["requests"]),
        extra={"customers": scope.customers, "scope": scope.label},
    )


def _lift(request, frontier_model, form):
    data = form.cleaned_data
    impact = selectors.lift_impact(frontier_model)
    _check_shown(data, impact.ids)
    _check_expected(data.get("expected_grants"), len(impact.ids["grants"]), "grants to restore")
    total = sum(len(ids) for ids in impact.ids.values())
    return _in_background(request, "lift", frontier_model, form, total=total)


def _revoke(request, grant, form):
    services.revoke_grant(grant=grant, actor=request.user, **form.cleaned_data)
    return f"The grant of {grant.access_request} to {grant.partner_customer} is revoked."


def _designate(request, vendor, form):
    data = form.cleaned_data
    ids = selectors.designation_impact(vendor).ids
    _check_shown(data, ids)
    _check_expected(data.get("expected_requests"), len(ids["requests"]), "open requests to refer")
    return _in_background(request, "designate", vendor, form, total=len(ids["requests"]))


def _rescind(request, vendor, form):
    _check_shown(form.cleaned_data, {"referrals": [r.pk for r in form.referrals]})
    return _in_background(request, "rescind", vendor, form, total=len(form.referrals) or 1)


def _rescind_form_kwargs(request, vendor):
    designation = _designation_in_force(vendor)
    return {"referrals": selectors.referrals_from_designation(designation) if designation else []}


def _clearance(service, message):
    def call(request, frontier_model, form):
        service(frontier_model=frontier_model, actor=request.user, **form.cleaned_data)
        return message

    return call


def _record_finding(request, frontier_model, form):
    review = policies.open_review(frontier_model)
    finding = services.record_review_finding(review=review, actor=request.user, **form.cleaned_data)
    return f"{finding.agency.code}'s finding is recorded."


# -- an order made moot by someone else's (a second tab): told as a warning -------------------


def _suspend_context(request, frontier_model):
    scope = suspension_scope(request, frontier_model)
    impact = selectors.suspension_impact(frontier_model, customers=scope.customers)
    sectors, customers = selectors.suspension_choices(frontier_model)
    return {
        "frontier_model": frontier_model,
        "impact": impact,
        "scope": scope,
        "sectors": sectors,
        "choosable": customers,
        "shown_records": shown.encode(impact.ids),
        "vendor": frontier_model.vendor,
        "security_contacts": security_contacts_for_suspension(frontier_model, customers=scope.customers),
        "officials_told": officials_told(frontier_model=frontier_model, actor=request.user),
    }


def _revoke_context(request, grant):
    return {
        "grant": grant,
        "vendor": grant.vendor,
        "security_contacts": security_contacts_for_revocation(grant),
        "officials_told": officials_told(access_request=grant.access_request, actor=request.user),
    }


def _lift_context(request, frontier_model):
    impact = selectors.lift_impact(frontier_model)
    return {
        "frontier_model": frontier_model,
        "impact": impact,
        "shown_records": shown.encode(impact.ids),
        "officials_told": officials_told(frontier_model=frontier_model, actor=request.user),
    }


def _designate_context(request, vendor):
    impact = selectors.designation_impact(vendor)
    return {
        "vendor": vendor,
        "impact": impact,
        "shown_records": shown.encode(impact.ids),
        "respond_by": timezone.localdate() + timedelta(days=services.designation_response_days()),
        "officials_told": officials_told(vendor=vendor, actor=request.user),
    }


def _rescind_context(request, vendor):
    designation = _designation_in_force(vendor)
    referrals = selectors.referrals_from_designation(designation) if designation else []
    return {
        "vendor": vendor,
        "designation": designation,
        "referrals": referrals,
        "shown_records": shown.encode({"referrals": [r.pk for r in referrals]}),
        "officials_told": officials_told(vendor=vendor, actor=request.user),
        "vendor_team": selectors.vendor_compliance_team(vendor),
    }


def _review_context(what):
    def context(request, frontier_model):
        review = selectors.model_oversight(request.user, frontier_model)["open_review"]
        return {"frontier_model": frontier_model, "review": review, "what": what}

    return context


def _finding_allowed(user, frontier_model):
    review = policies.open_review(frontier_model)
    return review is not None and policies.can_record_review_finding(user, review)


def _model_page(name, route, *, title, **kwargs):
    return ActionPage(
        name=name,
        route=f"models/<int:pk>/{route}/",
        lookup=frontier_model_for,
        title=title if callable(title) else (lambda _frontier_model: title),
        back=model_url,
        **kwargs,
    )


ENFORCEMENT_ACTIONS = [
    _model_page(
        "suspend",
        "suspend",
        title=lambda frontier_model: f"Pull {frontier_model} offline",
        allowed=policies.can_suspend_model,
        form_class=SuspendForm,
        call=_suspend,
        template=TEMPLATES + "suspend.html",
        context=_suspend_context,
        stale=_stale_suspend,
    ),
    _model_page(
        "lift",
        "lift",
        title=lambda frontier_model: f"Lift the suspension of {frontier_model}",
        allowed=policies.can_lift_suspension,
        form_class=LiftForm,
        call=_lift,
        template=TEMPLATES + "lift.html",
        context=_lift_context,
        stale=_stale_lift,
    ),
    _model_page(
        "clear_preview",
        "clear-preview",
        title="Clear for limited preview",
        allowed=policies.can_clear_for_limited_preview,
        form_class=ClearPreviewForm,
        call=_clearance(
            services.clear_for_limited_preview,
            "Cleared for limited preview; the vendor has been notified and may file access requests.",
        ),
        template=TEMPLATES + "clearance.html",
        context=_review_context(
            "The model moves to limited preview: the vendor may file access requests, one per partner "
            "customer, up to the cap if you set one."
        ),
    ),
    _model_page(
        "clear_ga",
        "clear-ga",
        title="Clear for general availability",
        allowed=policies.can_clear_for_general_availability,
        form_class=ClearanceForm,
        call=_clearance(
            services.clear_for_general_availability,
            "Cleared for general availability; the vendor has been notified.",
        ),
        template=TEMPLATES + "clearance.html",
        context=_review_context(
            "The model moves to general availability. Grants already made stay as they are."
        ),
    ),
    _model_page(
        "decline",
        "decline",
        title="Do not clear",
        allowed=policies.can_decline_clearance,
        form_class=ClearanceForm,
        call=_clearance(
            services.decline_clearance, "Not cleared; the vendor has been notified with your basis."
        ),
        template=TEMPLATES + "clearance.html",
        context=_review_context(
            "The review closes without clearance. A model under review goes back to registered (the "
            "vendor may submit it again with new evidence); a model in limited preview stays in it."
        ),
    ),
    _model_page(
        "finding",
        "finding",
        title="Record a finding",
        allowed=_finding_allowed,
        form_class=FindingForm,
        call=_record_finding,
        template=TEMPLATES + "clearance.html",
        context=_review_context(
            "Findings are read by the agencies and the lead agency's approvers, never by the vendor."
        ),
    ),
    ActionPage(
        name="revoke",
        route="grants/<int:pk>/revoke/",
        lookup=grant_for,
        title=lambda grant: f"Revoke the grant of {grant.access_request}",
        allowed=policies.can_revoke_grant,
        form_class=BasisForm,
        call=_revoke,
        back=lambda grant: model_url(grant.frontier_model_id),
        template=TEMPLATES + "revoke.html",
        context=_revoke_context,
        stale=_stale_revoke,
    ),
    ActionPage(
        name="designate",
        route="vendors/<int:pk>/designate/",
        lookup=vendor_for,
        title=lambda vendor: f"Designate {vendor} a supply-chain risk",
        allowed=policies.can_designate_vendor,
        form_class=DesignateForm,
        call=_designate,
        back=vendors_url,
        template=TEMPLATES + "designate.html",
        context=_designate_context,
        stale=_stale_designate,
    ),
    ActionPage(
        name="rescind",
        route="vendors/<int:pk>/rescind/",
        lookup=vendor_for,
        title=lambda vendor: f"Rescind the designation of {vendor}",
        allowed=policies.can_rescind_designation,
        form_class=RescindForm,
        form_kwargs=_rescind_form_kwargs,
        call=_rescind,
        back=vendors_url,
        template=TEMPLATES + "rescind.html",
        context=_rescind_context,
        stale=_stale_rescind,
    ),
]
