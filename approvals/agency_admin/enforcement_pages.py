"""The confirmation pages behind the enforcement and clearance buttons, each declared as an
``ActionPage`` and gated by the ``policies.can_<verb>`` that shows its button.

Each page says exactly what the action will affect (how many grants, which customers, which open
requests, who is told) before it is taken, and calls one service.
"""

from datetime import timedelta

from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from approvals import policies, selectors, services
from approvals.agency_admin.actions import ActionPage
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
from approvals.models import EnforcementAction, Grant
from approvals.selectors.security_contacts import (
    security_contacts_for_revocation,
    security_contacts_for_suspension,
)
from approvals.selectors.staffing import officials_told
from portal import permissions
from vendors.models import FrontierModel

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


def _suspend(request, frontier_model, form):
    action = services.suspend_model(frontier_model=frontier_model, actor=request.user, **form.cleaned_data)
    return (
        f"{frontier_model} is pulled offline: {action.grants_affected} grant(s) suspended, "
        f"{action.requests_affected} open request(s) on hold. Everyone concerned has been told."
    )


def _lift(request, frontier_model, form):
    action = services.lift_suspension(frontier_model=frontier_model, actor=request.user, **form.cleaned_data)
    return (
        f"The suspension of {frontier_model} is lifted: {action.grants_affected} grant(s) active again, "
        f"{action.requests_affected} request(s) back in review."
    )


def _revoke(request, grant, form):
    services.revoke_grant(grant=grant, actor=request.user, **form.cleaned_data)
    return f"The grant of {grant.access_request} to {grant.partner_customer} is revoked."


def _designate(request, vendor, form):
    action = services.designate_supply_chain_risk(vendor=vendor, actor=request.user, **form.cleaned_data)
    return (
        f"{vendor} is designated a supply-chain risk and has been notified; it may answer by "
        f"{action.respond_by:%B %-d, %Y}. {action.requests_affected} open request(s) referred to DOD."
    )


def _designation_in_force(vendor):
    return (
        EnforcementAction.objects.filter(
            vendor=vendor,
            kind=EnforcementAction.Kind.DESIGNATE_VENDOR,
            status=EnforcementAction.Status.IN_FORCE,
        )
        .select_related("responded_by")
        .first()
    )


def _rescind(request, vendor, form):
    services.rescind_designation(vendor=vendor, actor=request.user, **form.cleaned_data)
    closed = ""
    if form.cleaned_data.get("close_referrals"):
        closed = f" {len(form.referrals)} referral(s) it caused are closed."
    return f"The designation of {vendor} is rescinded; the vendor has been notified.{closed}"


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


# -- what each page shows beside the form -----------------------------------------------------


def _suspend_context(request, frontier_model):
    return {
        "frontier_model": frontier_model,
        "impact": selectors.suspension_impact(frontier_model),
        "vendor": frontier_model.vendor,
        "security_contacts": security_contacts_for_suspension(frontier_model),
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
    return {
        "frontier_model": frontier_model,
        "impact": selectors.lift_impact(frontier_model),
        "officials_told": officials_told(frontier_model=frontier_model, actor=request.user),
    }


def _designate_context(request, vendor):
    return {
        "vendor": vendor,
        "impact": selectors.designation_impact(vendor),
        "respond_by": timezone.localdate() + timedelta(days=services.designation_response_days()),
        "officials_told": officials_told(vendor=vendor, actor=request.user),
    }


def _rescind_context(request, vendor):
    designation = _designation_in_force(vendor)
    referrals = selectors.referrals_from_designation(designation) if designation else []
    return {"vendor": vendor, "designation": designation, "referrals": referrals}


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
    ),
]
