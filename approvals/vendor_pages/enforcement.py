"""The vendor's pages for release phases and enforcement, under ``/vendor/``.

Submitting a model for pre-release review, reporting and completing incidents, answering a
designation, the vendor's grants (with renewal) and the enforcement actions that concern it.
Views parse, call one service and render its result or its refusal; a record of another
vendor answers 404, and every page that changes something answers 404 to viewers.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from approvals import policies, selectors, services
from approvals.models import AccessRequest, CutoffAttestation, EnforcementAction, Grant, IncidentReport
from approvals.selectors import reference
from approvals.vendor_pages.forms import (
    CompleteIncidentForm,
    CutoffAttestationForm,
    DesignationResponseForm,
    IncidentForm,
    PrereleaseSubmitForm,
)
from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.params import int_param
from portal.permissions import get_visible_or_404, visible_to
from vendors.models import FrontierModel, PartnerCustomer
from vendors.views import vendor_member_required

PAGE_SIZE = 25


def _shown_or_404(request, allowed):
    """A page exists when its button is shown (``can_<verb>``). A form posted after the button went
    away reaches the service, which refuses it with the rule's message on the form."""
    if not allowed and request.method != "POST":
        raise Http404("No such page.")


def _model(request, pk, action="view"):
    return get_visible_or_404(
        request.user,
        FrontierModel.objects.filter(vendor=request.vendor).select_related("vendor"),
        action,
        pk=pk,
    )


def _model_url(frontier_model):
    return reverse("vendors:model_detail", args=[frontier_model.pk])


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _querystring(request):
    params = request.GET.copy()
    params.pop("page", None)
    return params.urlencode()


# ---------------------------------------------------------------------------------------------
# Pre-release review


@vendor_member_required
@require_http_methods(["GET", "POST"])
def review_submit(request, pk):
    frontier_model = _model(request, pk)
    _shown_or_404(request, policies.can_submit_for_prerelease_review(request.user, frontier_model))
    form = PrereleaseSubmitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review = services.submit_for_prerelease_review(
                frontier_model=frontier_model, actor=request.user, summary=form.cleaned_data["summary"]
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            goal = "general availability" if review.for_general_availability else "release"
            messages.success(
                request,
                f"{frontier_model} is submitted for pre-release review ({goal}). The agencies have it.",
            )
            return redirect(_model_url(frontier_model))
    return render(
        request,
        "approvals/enforcement/review_submit.html",
        {
            "frontier_model": frontier_model,
            "form": form,
            "evidence": list(frontier_model.evidence_documents.order_by("pk")),
        },
    )


# ---------------------------------------------------------------------------------------------
# Incidents


def _affected_choices(request, frontier_model):
    """Customers the vendor may name as affected: those with a grant for the model."""
    return (
        visible_to(request.user, PartnerCustomer.objects.filter(vendor=request.vendor))
        .filter(grants__frontier_model=frontier_model)
        .distinct()
        .order_by("legal_name")
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def incident_new(request, pk):
    frontier_model = _model(request, pk)
    _shown_or_404(request, policies.can_report_incident(request.user, frontier_model))
    form = IncidentForm(request.POST or None, customers=_affected_choices(request, frontier_model))
    if request.method == "POST" and form.is_valid():
        try:
            incident = services.report_incident(
                frontier_model=frontier_model, actor=request.user, **form.cleaned_data
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(
                request,
                f"{incident.reference} is reported; the agencies have been told."
                + ("" if incident.is_complete else f" Complete the report by {incident.due_on:%B %-d, %Y}."),
            )
            return redirect("enforcement:incident_detail", pk=incident.pk)
    return render(
        request, "approvals/enforcement/incident_form.html", {"frontier_model": frontier_model, "form": form}
    )


@vendor_member_required
def incident_list(request):
    status = request.GET.get("status", "")
    queryset = selectors.incidents_visible_to(request.user).filter(vendor=request.vendor)
    if status in IncidentReport.Status.values:
        queryset = queryset.filter(status=status)
    return render(
        request,
        "approvals/enforcement/incident_list.html",
        {
            "page": _page(request, queryset),
            "status": status,
            "statuses": IncidentReport.Status.choices,
            "querystring": _querystring(request),
        },
    )


def _incident(request, pk, action="view"):
    return get_visible_or_404(
        request.user,
        selectors.incidents_visible_to(request.user)
        .filter(vendor=request.vendor)
        .select_related("completed_by"),
        action,
        pk=pk,
    )


@vendor_member_required
def incident_detail(request, pk):
    incident = _incident(request, pk)
    return render(
        request,
        "approvals/enforcement/incident_detail.html",
        {
            "incident": incident,
            "customers": list(incident.affected_customers.order_by("legal_name")),
            "rows": history_rows(incident),
            "can_complete": policies.can_complete_incident(request.user, incident),
        },
    )


@vendor_member_required
@require_http_methods(["GET", "POST"])
def incident_complete(request, pk):
    incident = _incident(request, pk)
    if incident.is_complete:
        messages.info(request, f"{incident.reference} is already complete.")
        return redirect("enforcement:incident_detail", pk=incident.pk)
    _shown_or_404(request, policies.can_complete_incident(request.user, incident))
    form = CompleteIncidentForm(
        request.POST or None,
        customers=_affected_choices(request, incident.frontier_model),
        initial={
            "affected_customers": list(incident.affected_customers.all()),
            "other_affected": incident.other_affected,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.complete_incident_report(incident=incident, actor=request.user, **form.cleaned_data)
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, f"{incident.reference} is complete; the agencies have been told.")
            return redirect("enforcement:incident_detail", pk=incident.pk)
    return render(
        request, "approvals/enforcement/incident_complete.html", {"incident": incident, "form": form}
    )


# ---------------------------------------------------------------------------------------------
# Designation


@vendor_member_required
@require_http_methods(["GET", "POST"])
def designation(request):
    designations = list(
        selectors.actions_visible_to(request.user)
        .filter(
            vendor=request.vendor,
            kind__in=[EnforcementAction.Kind.DESIGNATE_VENDOR, EnforcementAction.Kind.RESCIND_DESIGNATION],
        )
        .select_related("responded_by")
        .order_by("-taken_at", "-pk")
    )
    current = next(
        (
            d
            for d in designations
            if d.kind == EnforcementAction.Kind.DESIGNATE_VENDOR
            and d.status == EnforcementAction.Status.IN_FORCE
        ),
        None,
    )
    may_answer = current is not None and policies.can_respond_to_designation(request.user, current)
    form = DesignationResponseForm(request.POST or None) if may_answer else None
    if request.method == "POST":
        if form is None:
            may_act = request.user.role in policies.VENDOR_ACTOR_ROLES
            stale = _stale_designation_answer(current) if may_act else None
            if stale is None:
                raise Http404("Nothing to answer.")
            messages.warning(request, stale)  # a second tab, or an answer sent twice: nothing changed
            return redirect("enforcement:designation")
        if form.is_valid():
            try:
                services.respond_to_designation(
                    action=current, actor=request.user, response=form.cleaned_data["response"]
                )
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, "Your answer is recorded and the lead agency has been told.")
                return redirect("enforcement:designation")
    return render(
        request,
        "approvals/enforcement/designation.html",
        {"vendor": request.vendor, "current": current, "designations": designations, "form": form},
    )


def _stale_designation_answer(current):
    """Why an answer posted from a page opened earlier was not taken, in words for the vendor."""
    if current is None:
        return "Nothing was sent: no designation of your vendor is in force any more."
    if current.responded_at is not None:
        who = (
            current.responded_by.full_name or current.responded_by.email
            if current.responded_by
            else "your team"
        )
        when = timezone.localtime(current.responded_at)
        return (
            f"Nothing was sent: the answer to designation #{current.pk} was already recorded on "
            f"{when:%B %-d, %Y at %H:%M} by {who}."
        )
    return f"Nothing was sent: the window to answer closed on {current.respond_by:%B %-d, %Y}."


# ---------------------------------------------------------------------------------------------
# Grants and the actions that concern them


@vendor_member_required
def grant_list(request):
    filters = {"status": request.GET.get("status", ""), "model": request.GET.get("model", "")}
    queryset = selectors.grants_visible_to(request.user).filter(vendor=request.vendor)
    if filters["status"] in Grant.Status.values:
        queryset = queryset.filter(status=filters["status"])
    else:
        filters["status"] = ""
    model_id = int_param(filters["model"])
    if model_id is not None:
        queryset = queryset.filter(frontier_model_id=model_id)
    else:
        filters["model"] = ""
    queryset = queryset.select_related("suspended_by", "vendor", "frontier_model").order_by(
        "status", "valid_to", "pk"
    )
    page = _page(request, queryset)
    _ask_renewals(request.user, page.object_list)
    return render(
        request,
        "approvals/enforcement/grant_list.html",
        {
            "page": page,
            "filters": filters,
            "statuses": Grant.Status.choices,
            "models": list(visible_to(request.user, FrontierModel.objects.filter(vendor=request.vendor))),
            "querystring": _querystring(request),
        },
    )


def _ask_renewals(user, grants):
    """``grant.can_renew`` (``policies.can_renew_grant``) for a page of grants, with the renewals
    under way and the permissions read once for the page, not once per row."""
    grants = list(grants)
    under_way = {
        r.renewal_of_id: r
        for r in AccessRequest.objects.filter(renewal_of__in=grants).exclude(
            status__in=policies.RENEWAL_CLOSED_STATUSES
        )
    }
    with policies.one_page(user, readable=grants):
        for grant in grants:
            grant.open_renewal = under_way.get(grant.pk)
            grant.can_renew = policies.can_renew_grant(user, grant)


@vendor_member_required
@require_http_methods(["GET", "POST"])
def grant_renew(request, pk):
    grant = get_visible_or_404(
        request.user,
        selectors.grants_visible_to(request.user)
        .filter(vendor=request.vendor)
        .select_related("vendor", "frontier_model"),
        pk=pk,
    )
    _shown_or_404(request, policies.can_renew_grant(request.user, grant))
    error = None
    if request.method == "POST":
        try:
            access_request = services.request_grant_renewal(grant=grant, actor=request.user)
        except PortalError as refusal:
            error = refusal
        else:
            messages.success(
                request,
                "The renewal is drafted from the grant's request. Check it, attach a current end-use "
                "statement and submit it.",
            )
            return redirect("approvals:detail", ref=reference(access_request))
    return render(request, "approvals/enforcement/grant_renew.html", {"grant": grant, "error": error})


@vendor_member_required
def action_detail(request, pk):
    action = get_visible_or_404(
        request.user, selectors.actions_visible_to(request.user).filter(vendor=request.vendor), pk=pk
    )
    grants = selectors.grants_visible_to(request.user).filter(suspended_by=action)
    if action.grant_id:
        grants = selectors.grants_visible_to(request.user).filter(pk=action.grant_id)
    return render(
        request,
        "approvals/enforcement/action_detail.html",
        {
            "action": action,
            "grant_total": grants.count(),
            "grants": list(grants.order_by("partner_customer__legal_name", "pk")[:50]),
            "held": list(
                visible_to(
                    request.user,
                    action.held_requests.select_related("partner_customer").order_by("tracking_number"),
                )
            ),
        },
    )


# ---------------------------------------------------------------------------------------------
# A suspension's follow-through: the vendor attests that each customer's access was cut off

ATTESTATIONS_LISTED = 200


@vendor_member_required
@require_http_methods(["GET", "POST"])
def attest_cutoff(request, pk):
    suspension = get_visible_or_404(
        request.user,
        selectors.actions_visible_to(request.user).filter(
            vendor=request.vendor, kind=EnforcementAction.Kind.SUSPEND_MODEL
        ),
        pk=pk,
    )
    rows = suspension.attestations.select_related(
        "partner_customer", "attested_by", "grant__access_request"
    ).order_by("partner_customer__legal_name", "pk")
    waiting_query = rows.filter(attested_at__isnull=True)
    waiting_count = waiting_query.count()
    waiting = list(waiting_query[:ATTESTATIONS_LISTED])
    suspension.attestations_waiting = waiting_count
    may_attest = policies.can_attest_cutoff(request.user, suspension)
    form = CutoffAttestationForm(request.POST or None, waiting=waiting) if may_attest else None
    if request.method == "POST":
        if form is None:
            if request.user.role not in policies.VENDOR_ACTOR_ROLES:
                raise Http404("Nothing to attest.")
            try:  # a second tab, or a colleague was quicker: say why, as a warning
                policies.require_attest_cutoff(request.user, suspension)
            except PortalError as refusal:
                messages.warning(request, f"Nothing was recorded. {refusal.message}")
            return redirect("enforcement:attest_cutoff", pk=suspension.pk)
        if form.is_valid():
            data = form.cleaned_data
            chosen = (
                list(waiting_query.values_list("pk", flat=True))
                if data["all_waiting"]
                else data["attestations"]
            )
            try:
                done = services.attest_cutoff(
                    suspension=suspension,
                    actor=request.user,
                    attestations=chosen,
                    statement=data["statement"],
                )
            except PortalError as error:
                error.add_to_form(form)
            else:
                names = ", ".join(str(r.partner_customer) for r in done[:5])
                more = f" and {len(done) - 5} more" if len(done) > 5 else ""
                messages.success(
                    request, f"The cut-off of {names}{more} is attested; the lead agency has been told."
                )
                return redirect("enforcement:attest_cutoff", pk=suspension.pk)
    return render(
        request,
        "approvals/enforcement/attest_cutoff.html",
        {
            "suspension": suspension,
            "waiting": waiting,
            "waiting_count": waiting_count,
            "attested": list(rows.filter(attested_at__isnull=False)[:ATTESTATIONS_LISTED]),
            "attested_count": rows.filter(attested_at__isnull=False).count(),
            "form": form,
            "vendor_organisation": request.vendor.organisation_id,
            "overdue": suspension.attest_by is not None and suspension.attest_by < timezone.now(),
            # one line per change (a change covers every customer it was made for at once)
            "history": list(
                CutoffAttestation.history.filter(suspension_id=suspension.pk)
                .values(
                    "history_date",
                    "history_user__full_name",
                    "history_user__organisation_id",
                    "history_change_reason",
                )
                .annotate(customers=Count("history_id"))
                .order_by("-history_date")[:50]
            ),
        },
    )
