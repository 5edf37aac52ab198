"""The agency side of release phases and enforcement, in the admin.

Lists of enforcement actions, incidents and pre-release reviews are scoped by the permissions
helper. The *model page* (``…/enforcementaction/models/<id>/``) puts everything about one
model in one place: its phase, reviews and findings, its grants with the incidents beside
them, the actions taken on it. Every action opens a confirmation page that says exactly what
it will affect (how many grants, which customers, which open requests, who is told) before
it is taken, and calls one service. Action pages answer 404 to anyone who may not act;
auditors and portal administrators get no buttons.
"""

from datetime import timedelta

from django.contrib import admin, messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from approvals import policies, selectors, services
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
from approvals.models import EnforcementAction, Grant, IncidentReport, PrereleaseReview
from portal import permissions
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import history_rows
from portal.errors import PortalError
from vendors.models import FrontierModel

Phase = FrontierModel.ReleasePhase
NAME = "approvals_enforcementaction_"
TEMPLATES = "admin/approvals/enforcement/"


def model_url(frontier_model_or_pk):
    return reverse(
        "admin:" + NAME + "model", args=[getattr(frontier_model_or_pk, "pk", frontier_model_or_pk)]
    )


def model_actions(user, frontier_model, oversight):
    """The buttons the signed-in official may use on the model page now: ``[(label, url)]``."""
    actions = []
    pk = frontier_model.pk
    if policies.may_enforce(user):
        if frontier_model.release_phase == Phase.SUSPENDED:
            actions.append(("Lift the suspension", reverse("admin:" + NAME + "lift", args=[pk])))
        else:
            actions.append(("Pull the model offline", reverse("admin:" + NAME + "suspend", args=[pk])))
        review = oversight["open_review"]
        if review is not None and frontier_model.release_phase == Phase.IN_REVIEW:
            actions.append(
                ("Clear for limited preview", reverse("admin:" + NAME + "clear_preview", args=[pk]))
            )
        if review is not None and frontier_model.release_phase in (Phase.IN_REVIEW, Phase.LIMITED_PREVIEW):
            actions.append(
                ("Clear for general availability", reverse("admin:" + NAME + "clear_ga", args=[pk]))
            )
            actions.append(("Do not clear", reverse("admin:" + NAME + "decline", args=[pk])))
    if policies.may_record_findings(user) and oversight["open_review"] is not None:
        actions.append(("Record a finding", reverse("admin:" + NAME + "finding", args=[pk])))
    return actions


@admin.register(EnforcementAction, site=admin_site)
class EnforcementActionAdmin(PortalModelAdmin):
    list_display = ["taken_at", "kind", "target", "vendor", "status", "taken_by", "grants_affected"]
    list_filter = ["kind", "status", "vendor"]
    list_select_related = ["vendor", "frontier_model", "grant__access_request", "taken_by"]
    search_fields = [
        "vendor__legal_name",
        "frontier_model__name",
        "grant__access_request__tracking_number",
        "legal_basis",
    ]
    ordering = ["-taken_at", "-pk"]
    list_per_page = 50
    show_full_result_count = False
    change_list_template = TEMPLATES + "action_changelist.html"

    @admin.display(description="Concerns")
    def target(self, obj):
        if obj.grant_id:
            return f"Grant {obj.grant.access_request}"
        if obj.frontier_model_id:
            return format_html('<a href="{}">{}</a>', model_url(obj.frontier_model_id), obj.frontier_model)
        return str(obj.vendor)

    def get_urls(self):
        wrap = admin_site.admin_view
        return [
            path("models/", wrap(self.models_view), name=NAME + "models"),
            path("models/<int:pk>/", wrap(self.model_view), name=NAME + "model"),
            path("models/<int:pk>/suspend/", wrap(self.suspend_view), name=NAME + "suspend"),
            path("models/<int:pk>/lift/", wrap(self.lift_view), name=NAME + "lift"),
            path(
                "models/<int:pk>/clear-preview/", wrap(self.clear_preview_view), name=NAME + "clear_preview"
            ),
            path("models/<int:pk>/clear-ga/", wrap(self.clear_ga_view), name=NAME + "clear_ga"),
            path("models/<int:pk>/decline/", wrap(self.decline_view), name=NAME + "decline"),
            path("models/<int:pk>/finding/", wrap(self.finding_view), name=NAME + "finding"),
            path("grants/<int:pk>/revoke/", wrap(self.revoke_view), name=NAME + "revoke"),
            path("vendors/", wrap(self.vendors_view), name=NAME + "vendors"),
            path("vendors/<int:pk>/designate/", wrap(self.designate_view), name=NAME + "designate"),
            path("vendors/<int:pk>/rescind/", wrap(self.rescind_view), name=NAME + "rescind"),
            *super().get_urls(),
        ]

    # -- pages -------------------------------------------------------------------------------

    def _render(self, request, template, title, **context):
        return TemplateResponse(
            request,
            TEMPLATES + template,
            {**self.admin_site.each_context(request), "opts": self.model._meta, "title": title, **context},
        )

    def _model(self, request, pk):
        return permissions.get_visible_or_404(
            request.user, FrontierModel.objects.select_related("vendor"), pk=pk
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such action.")
        action = permissions.get_visible_or_404(
            request.user, selectors.actions_visible_to(request.user), pk=object_id
        )
        buttons = []
        if policies.may_enforce(request.user) and action.status == EnforcementAction.Status.IN_FORCE:
            if action.kind == EnforcementAction.Kind.SUSPEND_MODEL:
                buttons.append(
                    (
                        "Lift the suspension",
                        reverse("admin:" + NAME + "lift", args=[action.frontier_model_id]),
                    )
                )
            if action.kind == EnforcementAction.Kind.DESIGNATE_VENDOR:
                buttons.append(
                    ("Rescind the designation", reverse("admin:" + NAME + "rescind", args=[action.vendor_id]))
                )
        grants = selectors.grants_visible_to(request.user).filter(
            Q(suspended_by=action) | Q(pk=action.grant_id) if action.grant_id else Q(suspended_by=action)
        )
        return self._render(
            request,
            "action.html",
            str(action),
            action=action,
            buttons=buttons,
            grant_total=grants.count(),
            grants=list(grants.order_by("partner_customer__legal_name", "pk")[: selectors.GRANTS_SHOWN]),
            held=list(
                permissions.visible_to(
                    request.user,
                    action.held_requests.select_related("partner_customer").order_by("tracking_number"),
                )
            ),
            history=history_rows(action),
        )

    def models_view(self, request):
        models = list(selectors.models_under_oversight(request.user)[:500])
        counts = selectors.active_grant_counts(request.user, models)
        for frontier_model in models:
            frontier_model.grant_counts = counts.get(frontier_model.pk, {})
        return self._render(request, "models.html", "Models under oversight", models=models)

    def model_view(self, request, pk):
        frontier_model = self._model(request, pk)
        status = request.GET.get("grants", "")
        if status not in Grant.Status.values:
            status = ""
        oversight = selectors.model_oversight(request.user, frontier_model, grant_status=status)
        may_enforce = policies.may_enforce(request.user)
        return self._render(
            request,
            "model.html",
            f"{frontier_model} — {frontier_model.get_release_phase_display()}",
            frontier_model=frontier_model,
            oversight=oversight,
            actions=model_actions(request.user, frontier_model, oversight),
            may_revoke=may_enforce,
            history=history_rows(frontier_model, limit=20),
        )

    def vendors_view(self, request):
        vendors = list(selectors.vendors_under_oversight(request.user))
        may_enforce = policies.may_enforce(request.user)
        return self._render(request, "vendors.html", "Vendors", vendors=vendors, may_enforce=may_enforce)

    # -- actions -----------------------------------------------------------------------------

    def _require(self, allowed):
        if not allowed:
            raise Http404("No such page.")

    def _confirm(self, request, *, template, title, form, call, back, **context):
        """Show the confirmation page with ``form``; on a valid POST call the service and go back."""
        if request.method == "POST" and form.is_valid():
            try:
                message = call(form.cleaned_data)
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, message)
                return redirect(back)
        return self._render(request, template, title, form=form, back=back, **context)

    def suspend_view(self, request, pk):
        self._require(policies.may_enforce(request.user))
        frontier_model = self._model(request, pk)
        if frontier_model.release_phase == Phase.SUSPENDED:
            messages.info(request, f"{frontier_model} is already suspended.")
            return redirect(model_url(frontier_model))

        def call(data):
            action = services.suspend_model(frontier_model=frontier_model, actor=request.user, **data)
            return (
                f"{frontier_model} is pulled offline: {action.grants_affected} grant(s) suspended, "
                f"{action.requests_affected} open request(s) on hold. Everyone concerned has been told."
            )

        return self._confirm(
            request,
            template="suspend.html",
            title=f"Pull {frontier_model} offline",
            form=SuspendForm(request.POST or None),
            call=call,
            back=model_url(frontier_model),
            frontier_model=frontier_model,
            impact=selectors.suspension_impact(frontier_model),
        )

    def lift_view(self, request, pk):
        self._require(policies.may_enforce(request.user))
        frontier_model = self._model(request, pk)
        impact = selectors.lift_impact(frontier_model)
        if impact.suspension is None:
            messages.info(request, f"{frontier_model} is not suspended.")
            return redirect(model_url(frontier_model))

        def call(data):
            action = services.lift_suspension(frontier_model=frontier_model, actor=request.user, **data)
            return (
                f"The suspension of {frontier_model} is lifted: {action.grants_affected} grant(s) active "
                f"again, "
                f"{action.requests_affected} request(s) back in review."
            )

        return self._confirm(
            request,
            template="lift.html",
            title=f"Lift the suspension of {frontier_model}",
            form=LiftForm(request.POST or None),
            call=call,
            back=model_url(frontier_model),
            frontier_model=frontier_model,
            impact=impact,
        )

    def revoke_view(self, request, pk):
        self._require(policies.may_enforce(request.user))
        grant = permissions.get_visible_or_404(
            request.user,
            Grant.objects.select_related("access_request", "partner_customer", "frontier_model", "vendor"),
            pk=pk,
        )
        back = model_url(grant.frontier_model_id)
        if grant.status not in (Grant.Status.ACTIVE, Grant.Status.SUSPENDED):
            messages.info(request, f"That grant is already {grant.get_status_display().lower()}.")
            return redirect(back)

        def call(data):
            services.revoke_grant(grant=grant, actor=request.user, **data)
            return f"The grant of {grant.access_request} to {grant.partner_customer} is revoked."

        return self._confirm(
            request,
            template="revoke.html",
            title=f"Revoke the grant of {grant.access_request}",
            form=BasisForm(request.POST or None),
            call=call,
            back=back,
            grant=grant,
        )

    def _vendor(self, request, pk):
        vendor = selectors.vendors_under_oversight(request.user).filter(pk=pk).first()
        if vendor is None:
            raise Http404("No such vendor.")
        return vendor

    def designate_view(self, request, pk):
        self._require(policies.may_enforce(request.user))
        vendor = self._vendor(request, pk)
        back = reverse("admin:" + NAME + "vendors")
        if vendor.is_supply_chain_risk:
            messages.info(request, f"{vendor} is already designated a supply-chain risk.")
            return redirect(back)

        def call(data):
            action = services.designate_supply_chain_risk(vendor=vendor, actor=request.user, **data)
            return (
                f"{vendor} is designated a supply-chain risk and has been notified; it may answer by "
                f"{action.respond_by:%B %-d, %Y}. {action.requests_affected} open request(s) referred to DOD."
            )

        return self._confirm(
            request,
            template="designate.html",
            title=f"Designate {vendor} a supply-chain risk",
            form=DesignateForm(request.POST or None),
            call=call,
            back=back,
            vendor=vendor,
            impact=selectors.designation_impact(vendor),
            respond_by=timezone.localdate() + timedelta(days=services.designation_response_days()),
        )

    def rescind_view(self, request, pk):
        self._require(policies.may_enforce(request.user))
        vendor = self._vendor(request, pk)
        back = reverse("admin:" + NAME + "vendors")
        if not vendor.is_supply_chain_risk:
            messages.info(request, f"{vendor} is not designated.")
            return redirect(back)
        designation = (
            EnforcementAction.objects.filter(
                vendor=vendor,
                kind=EnforcementAction.Kind.DESIGNATE_VENDOR,
                status=EnforcementAction.Status.IN_FORCE,
            )
            .select_related("responded_by")
            .first()
        )

        referrals = selectors.referrals_from_designation(designation)

        def call(data):
            services.rescind_designation(vendor=vendor, actor=request.user, **data)
            closed = (
                f" {len(referrals)} referral(s) it caused are closed." if data.get("close_referrals") else ""
            )
            return f"The designation of {vendor} is rescinded; the vendor has been notified.{closed}"

        return self._confirm(
            request,
            template="rescind.html",
            title=f"Rescind the designation of {vendor}",
            form=RescindForm(request.POST or None, referrals=referrals),
            call=call,
            back=back,
            vendor=vendor,
            designation=designation,
            referrals=referrals,
        )

    def _clearance(self, request, pk, *, title, form_class, service, message, what):
        self._require(policies.may_enforce(request.user))
        frontier_model = self._model(request, pk)
        oversight = selectors.model_oversight(request.user, frontier_model)
        if oversight["open_review"] is None:
            messages.info(request, f"{frontier_model} has no pre-release review open.")
            return redirect(model_url(frontier_model))

        def call(data):
            service(frontier_model=frontier_model, actor=request.user, **data)
            return message

        return self._confirm(
            request,
            template="clearance.html",
            title=title,
            form=form_class(request.POST or None),
            call=call,
            back=model_url(frontier_model),
            frontier_model=frontier_model,
            review=oversight["open_review"],
            what=what,
        )

    def clear_preview_view(self, request, pk):
        return self._clearance(
            request,
            pk,
            title="Clear for limited preview",
            form_class=ClearPreviewForm,
            service=services.clear_for_limited_preview,
            message="Cleared for limited preview; the vendor has been notified and may file access requests.",
            what="The model moves to limited preview: the vendor may file access requests, one per partner "
            "customer, up to the cap if you set one.",
        )

    def clear_ga_view(self, request, pk):
        return self._clearance(
            request,
            pk,
            title="Clear for general availability",
            form_class=ClearanceForm,
            service=services.clear_for_general_availability,
            message="Cleared for general availability; the vendor has been notified.",
            what="The model moves to general availability. Grants already made stay as they are.",
        )

    def decline_view(self, request, pk):
        return self._clearance(
            request,
            pk,
            title="Do not clear",
            form_class=ClearanceForm,
            service=services.decline_clearance,
            message="Not cleared; the vendor has been notified with your basis.",
            what="The review closes without clearance. A model under review goes back to registered (the "
            "vendor may submit it again with new evidence); a model in limited preview stays in it.",
        )

    def finding_view(self, request, pk):
        self._require(policies.may_record_findings(request.user))
        frontier_model = self._model(request, pk)
        oversight = selectors.model_oversight(request.user, frontier_model)
        review = oversight["open_review"]
        if review is None:
            messages.info(request, f"{frontier_model} has no pre-release review open.")
            return redirect(model_url(frontier_model))

        def call(data):
            finding = services.record_review_finding(review=review, actor=request.user, **data)
            return f"{finding.agency.code}'s finding is recorded."

        return self._confirm(
            request,
            template="clearance.html",
            title="Record a finding",
            form=FindingForm(request.POST or None),
            call=call,
            back=model_url(frontier_model),
            frontier_model=frontier_model,
            review=review,
            what="Findings are read by the agencies and the lead agency's approvers, never by the vendor.",
        )


@admin.register(IncidentReport, site=admin_site)
class IncidentReportAdmin(PortalModelAdmin):
    list_display = [
        "reference_label",
        "frontier_model",
        "vendor",
        "category",
        "severity",
        "status",
        "detected_on",
        "due_on",
        "reported_at",
    ]
    list_filter = ["status", "severity", "category", "vendor"]
    list_select_related = ["frontier_model", "vendor"]
    search_fields = ["frontier_model__name", "vendor__legal_name", "description"]
    ordering = ["status", "due_on", "-pk"]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="Incident", ordering="pk")
    def reference_label(self, obj):
        return obj.reference

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such incident.")
        incident = permissions.get_visible_or_404(
            request.user,
            selectors.incidents_visible_to(request.user).select_related("completed_by"),
            pk=object_id,
        )
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": str(incident),
            "incident": incident,
            "customers": list(incident.affected_customers.order_by("legal_name")),
            "history": history_rows(incident),
            "model_url": model_url(incident.frontier_model_id),
        }
        return TemplateResponse(request, TEMPLATES + "incident.html", context)


@admin.register(PrereleaseReview, site=admin_site)
class PrereleaseReviewAdmin(PortalModelAdmin):
    list_display = ["frontier_model", "vendor", "status", "phase_at_submission", "submitted_at", "decided_at"]
    list_filter = ["status", "vendor"]
    list_select_related = ["frontier_model", "vendor"]
    search_fields = ["frontier_model__name", "vendor__legal_name"]
    ordering = ["status", "-submitted_at"]
    list_per_page = 50
    show_full_result_count = False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such review.")
        review = permissions.get_visible_or_404(
            request.user, selectors.reviews_visible_to(request.user), pk=object_id
        )
        return redirect(model_url(review.frontier_model_id))
