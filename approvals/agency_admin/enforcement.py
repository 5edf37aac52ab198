"""The agency side of release phases and enforcement, in the admin.

Lists of enforcement actions, incidents and pre-release reviews are scoped by the permissions
helper. The *model page* (``…/enforcementaction/models/<id>/``) puts everything about one
model in one place: its phase, reviews and findings, its grants with the incidents beside
them, the actions taken on it. Every action opens a confirmation page (declared in
``enforcement_pages``) that says exactly what it will affect before it is taken, and calls one
service. Each button is shown by asking ``policies.can_<verb>``, and its page answers 404 to
anyone for whom it is not shown; auditors and portal administrators get no buttons.
"""

from django.contrib import admin
from django.db.models import Case, F, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from approvals import policies, selectors
from approvals.agency_admin.actions import action_urls
from approvals.agency_admin.enforcement_pages import (
    ENFORCEMENT_ACTIONS,
    NAME,
    TEMPLATES,
    frontier_model_for,
    model_url,
)
from approvals.models import EnforcementAction, Grant, IncidentReport, PrereleaseReview
from approvals.selectors.entitlements import entitlement, find_customers
from portal import permissions
from portal.admin import PortalModelAdmin
from portal.admin_site import admin_site
from portal.audit.history import history_rows
from portal.params import int_param
from vendors.models import FrontierModel

Phase = FrontierModel.ReleasePhase


def model_actions(user, frontier_model, oversight):
    """The buttons the signed-in official may use on the model page now: ``[(label, url)]``.

    Each is shown exactly when ``policies.can_<verb>`` says the service would accept it."""
    review = oversight["open_review"]
    buttons = [
        (policies.can_lift_suspension, frontier_model, "Lift the suspension", "lift"),
        (policies.can_suspend_model, frontier_model, "Pull the model offline", "suspend"),
        (
            policies.can_clear_for_limited_preview,
            frontier_model,
            "Clear for limited preview",
            "clear_preview",
        ),
        (
            policies.can_clear_for_general_availability,
            frontier_model,
            "Clear for general availability",
            "clear_ga",
        ),
        (policies.can_decline_clearance, frontier_model, "Do not clear", "decline"),
        (policies.can_record_review_finding, review, "Record a finding", "finding"),
    ]
    return [
        (label, reverse("admin:" + NAME + name, args=[frontier_model.pk]))
        for can, obj, label, name in buttons
        if obj is not None and can(user, obj)
    ]


@admin.register(EnforcementAction, site=admin_site)
class EnforcementActionAdmin(PortalModelAdmin):
    autocomplete_fields = [
        "vendor",
        "frontier_model",
        "grant",
        "reverses",
        "taken_by",
        "responded_by",
        "partner_customers",
    ]
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
            path("vendors/", wrap(self.vendors_view), name=NAME + "vendors"),
            *action_urls(self, NAME, ENFORCEMENT_ACTIONS),
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
        return frontier_model_for(self, request, pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not int_param(object_id) is not None:
            raise Http404("No such action.")
        action = permissions.get_visible_or_404(
            request.user, selectors.actions_visible_to(request.user), pk=object_id
        )
        buttons = []
        if action.status == EnforcementAction.Status.IN_FORCE:
            if action.kind == EnforcementAction.Kind.SUSPEND_MODEL and policies.can_lift_suspension(
                request.user, action.frontier_model
            ):
                buttons.append(
                    (
                        "Lift the suspension",
                        reverse("admin:" + NAME + "lift", args=[action.frontier_model_id]),
                    )
                )
            if action.kind == EnforcementAction.Kind.DESIGNATE_VENDOR and policies.can_rescind_designation(
                request.user, action.vendor
            ):
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
            **self._attestations(request.user, action),
        )

    def _attestations(self, user, action):
        """A suspension's cut-off attestations: how many wait, and the first ones by customer, of
        the grants ``user`` may read (an agency sees a customer only on the requests it is
        referred on; the counts are of them all)."""
        if action.kind != EnforcementAction.Kind.SUSPEND_MODEL:
            return {}
        rows = action.attestations.order_by(
            F("attested_at").asc(nulls_first=True), "partner_customer__legal_name", "pk"
        )
        shown = rows.filter(grant__in=selectors.grants_visible_to(user).values("pk"))
        total, readable = rows.count(), shown.count()
        return {
            "attestations": list(
                shown.select_related("partner_customer", "attested_by", "grant__access_request")[
                    : selectors.GRANTS_SHOWN
                ]
            ),
            "attestations_readable": readable,
            "attestations_not_yours": total - readable,
            "attestations_waiting": rows.filter(attested_at__isnull=True).count(),
            "attestations_total": total,
        }

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
        with policies.one_page(
            request.user,
            readable=[frontier_model],  # just looked up through the permissions helper
            open_reviews={frontier_model.pk: oversight["open_review"]},
            suspensions={frontier_model.pk: oversight["suspension"]},
        ):
            actions = model_actions(request.user, frontier_model, oversight)
        return self._render(
            request,
            "model.html",
            f"{frontier_model} — {frontier_model.get_release_phase_display()}",
            frontier_model=frontier_model,
            oversight=oversight,
            actions=actions,
            may_enforce=policies.may_enforce(request.user),
            revocable=policies.revocable_grants(request.user, oversight["grants"]),
            history=history_rows(frontier_model, limit=20),
            **self._entitlement_lookup(request, frontier_model),
        )

    def _entitlement_lookup(self, request, frontier_model):
        """ "Is this customer cleared?" for a customer (id or the vendor's reference) the official reads."""
        customer = request.GET.get("customer", "").strip()[:200]
        if not customer:
            return {"customer_query": ""}
        partner_customer = find_customers(request.user, [customer]).get(customer)
        if partner_customer is None or partner_customer.vendor_id != frontier_model.vendor_id:
            return {"customer_query": customer, "customer_not_found": True}
        answer = entitlement(frontier_model=frontier_model, partner_customer=partner_customer)
        return {"customer_query": customer, "entitlement": answer}

    def vendors_view(self, request):
        vendors = list(selectors.vendors_under_oversight(request.user))
        verbs = policies.designation_verbs(request.user, vendors)
        for vendor in vendors:
            vendor.designation_verb = verbs.get(vendor.pk)
        return self._render(
            request,
            "vendors.html",
            "Vendors",
            vendors=vendors,
            may_enforce=policies.may_enforce(request.user),
        )


@admin.register(IncidentReport, site=admin_site)
class IncidentReportAdmin(PortalModelAdmin):
    autocomplete_fields = ["vendor", "frontier_model", "affected_customers", "reported_by", "completed_by"]
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
    # open reports first (the nearest due first), then the completed ones
    ordering = [
        Case(When(status=IncidentReport.Status.INITIAL, then=Value(0)), default=Value(1)).asc(),
        "due_on",
        "-pk",
    ]
    list_per_page = 50
    show_full_result_count = False

    @admin.display(description="Incident", ordering="pk")
    def reference_label(self, obj):
        return obj.reference

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not int_param(object_id) is not None:
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
    autocomplete_fields = ["vendor", "frontier_model", "evidence", "submitted_by", "decided_by"]
    list_display = ["frontier_model", "vendor", "status", "phase_at_submission", "submitted_at", "decided_at"]
    list_filter = ["status", "vendor"]
    list_select_related = ["frontier_model", "vendor"]
    search_fields = ["frontier_model__name", "vendor__legal_name"]
    # reviews still open first (the longest waiting first), then the decided ones, newest first
    ordering = [
        Case(When(status=PrereleaseReview.Status.IN_REVIEW, then=Value(0)), default=Value(1)).asc(),
        Case(When(status=PrereleaseReview.Status.IN_REVIEW, then="submitted_at")).asc(),
        "-submitted_at",
        "-pk",
    ]
    list_per_page = 50
    show_full_result_count = False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not int_param(object_id) is not None:
            raise Http404("No such review.")
        review = permissions.get_visible_or_404(
            request.user, selectors.reviews_visible_to(request.user), pk=object_id
        )
        return redirect(model_url(review.frontier_model_id))
