"""The agency's queues as admin lists: filters by clock, assignment and agency; export; bulk assignment."""

import csv
import io
from datetime import timedelta
from types import SimpleNamespace

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, F, OuterRef
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from approvals import policies, selectors, services
from approvals.models import (
    AccessRequest,
    Agency,
    Grant,
    InformationRequest,
    Position,
    Referral,
)
from approvals.models.review import referral_still_open
from approvals.selectors.cases import position_versions
from portal import permissions
from portal.accounts.models import Role, User
from portal.admin import PortalModelAdmin, values_filter
from portal.admin_site import admin_site
from portal.audit.export import safe_cell
from portal.errors import PortalError
from portal.form_fields import IdChoiceField
from portal.params import int_param
from portal.templatetags.portal_tags import clock
from vendors.models import FrontierModel, Vendor


def case_url(access_request_or_pk):
    pk = getattr(access_request_or_pk, "pk", access_request_or_pk)
    return reverse("admin:approvals_accessrequest_change", args=[pk])


ACTIVE = (Referral.Status.OPEN, Referral.Status.DRAFTED)


class ClockFilter(admin.SimpleListFilter):
    """Overdue, due within 5 days, more time, clock stopped: on open referrals."""

    title = "clock"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return selectors.CLOCK_BUCKETS

    def queryset(self, request, queryset):
        if self.value() not in dict(selectors.CLOCK_BUCKETS):
            return queryset
        return queryset.filter(status__in=ACTIVE).filter(selectors.clock_bucket_filter(self.value()))


class RequestClockFilter(ClockFilter):
    """A request whose open referral (the official's own agency's, for an agency official) is in
    the bucket."""

    def queryset(self, request, queryset):
        if self.value() not in dict(selectors.CLOCK_BUCKETS):
            return queryset
        referrals = Referral.objects.filter(access_request=OuterRef("pk"), status__in=ACTIVE).filter(
            selectors.clock_bucket_filter(self.value())
        )
        agency = policies.agency_of(request.user)
        if agency is not None:
            referrals = referrals.filter(agency=agency)
        return queryset.filter(status__in=services.UNDER_REVIEW).filter(Exists(referrals))


class VendorFilter(admin.RelatedFieldListFilter):
    """The vendors whose models the official may see: a filter on a vendor that reads the small
    models table, not a ``DISTINCT`` over every visible row of the list (Django's
    ``RelatedOnlyFieldListFilter``)."""

    def field_choices(self, field, request, model_admin):
        models = permissions.visible_to(request.user, FrontierModel.objects.all()).values("vendor_id")
        return [(v.pk, str(v)) for v in Vendor.objects.filter(pk__in=models).order_by("legal_name")]


class AssignedFilter(admin.SimpleListFilter):
    title = "assigned"
    parameter_name = "assigned"

    def lookups(self, request, model_admin):
        return [("me", "To me"), ("nobody", "To nobody")]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assigned_officials=request.user)
        if self.value() == "nobody":
            return queryset.filter(assigned_officials__isnull=True)
        return queryset


class ReferredToFilter(admin.SimpleListFilter):
    title = "referred to"
    parameter_name = "agency"

    def lookups(self, request, model_admin):
        return [(a.code, a.code) for a in Agency.objects.order_by("-is_lead", "code")]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(
            Exists(Referral.objects.filter(access_request=OuterRef("pk"), agency__code=self.value()))
        )


EXPORT_COLUMNS = [
    "tracking number",
    "status",
    "vendor",
    "vendor designated supply-chain risk",
    "partner customer",
    "country",
    "sector",
    "model",
    "release phase",
    "submitted",
    "referrals",
    "signed positions",
    "decided",
]


def export_cases(access_requests):
    """The cases as CSV: what any agency referred on them may read (no draft, no note)."""
    rows = (
        AccessRequest.objects.filter(pk__in=[a.pk for a in access_requests])
        .select_related("vendor", "partner_customer", "frontier_model")
        .prefetch_related("referrals__agency", "referrals__position")
        .order_by("tracking_number", "pk")
    )
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(EXPORT_COLUMNS)
    for a in rows:
        referrals = sorted(a.referrals.all(), key=lambda r: r.agency.code)
        signed = []
        for r in referrals:
            position = getattr(r, "position", None) if r.status == Referral.Status.SIGNED else None
            if position is not None and position.is_signed:
                signed.append(f"{r.agency.code}: {position.get_stance_display()}")
        writer.writerow(
            [
                safe_cell(v)
                for v in [
                    a.tracking_number or f"Draft #{a.pk}",
                    a.get_status_display(),
                    a.vendor.legal_name,
                    "yes" if a.vendor.is_supply_chain_risk else "no",
                    a.partner_customer.legal_name,
                    a.partner_customer.country,
                    a.partner_customer.get_sector_display(),
                    str(a.frontier_model),
                    a.frontier_model.get_release_phase_display(),
                    timezone.localtime(a.submitted_at).strftime("%Y-%m-%d %H:%M") if a.submitted_at else "",
                    "; ".join(f"{r.agency.code}: {r.get_status_display()}" for r in referrals),
                    "; ".join(signed),
                    timezone.localtime(a.decided_at).strftime("%Y-%m-%d %H:%M") if a.decided_at else "",
                ]
            ]
        )
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="cases-{timezone.localdate():%Y%m%d}.csv"'
    return response


class BulkAssignForm(forms.Form):
    reviewer = IdChoiceField(
        queryset=User.objects.none(),
        label="Official",
        empty_label="- Select -",
        help_text="Added to the officials already assigned to each referral.",
    )

    def __init__(self, *args, officials, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewer"].queryset = officials
        self.fields["reviewer"].label_from_instance = lambda u: (
            f"{u.full_name or u.email} ({u.get_role_display()})"
        )


def assign_in_bulk(*, referrals, actor, official):
    """Assign ``official`` on each referral through the service; ``(done, [(referral, message)])``."""
    done, refused = [], []
    for referral in referrals:
        current = list(referral.assigned_officials.all())
        wanted = [actor] if actor.role == Role.AGENCY_REVIEWER else [*current, official]
        try:
            services.assign_officials(referral=referral, actor=actor, officials=wanted)
        except PortalError as error:
            refused.append((referral, error.message))
        else:
            done.append(referral)
    return done, refused


class _OpensTheCase:
    """Rows of these lists are parts of a case: their link opens the case page."""

    list_display_links = None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        obj = self.get_object(request, object_id)
        if obj is None or not self.has_view_permission(request, obj):
            raise Http404("No such record.")
        return redirect(case_url(obj.access_request_id))

    @admin.display(description="Request", ordering="access_request__tracking_number")
    def case(self, obj):
        return format_html('<a href="{}">{}</a>', case_url(obj.access_request_id), obj.access_request)


@admin.register(Referral, site=admin_site)
class ReferralAdmin(_OpensTheCase, PortalModelAdmin):
    autocomplete_fields = ["access_request", "assigned_officials"]  # issue 17: searched, never listed
    list_display = [
        "case",
        "agency",
        "status",
        "required",
        "due_date",
        "clock_label",
        "customer",
        "model_label",
        "assigned",
    ]
    list_filter = [
        "status",
        "agency",
        ClockFilter,
        AssignedFilter,
        "required",
        values_filter("access_request__partner_customer__sector", "sector", "sector"),
        values_filter("access_request__partner_customer__country", "country", "country"),
        ("access_request__vendor", VendorFilter),
        values_filter("access_request__frontier_model__release_phase", "release phase", "phase"),
    ]
    list_select_related = [
        "access_request__partner_customer",
        "access_request__frontier_model",
        "access_request__vendor",
        "agency",
    ]
    search_fields = [
        "access_request__tracking_number",
        "access_request__partner_customer__legal_name",
        "access_request__frontier_model__name",
        "access_request__vendor__legal_name",
    ]
    actions = ["assign_reviewer", "export_selected"]
    object_history_template = "admin/approvals/referral/object_history.html"

    def history_view(self, request, object_id, extra_context=None):
        """The referral's history, and above it who drafted, redrafted and signed its position."""
        extra_context = dict(extra_context or {})
        if int_param(object_id) is not None:
            # every position the referral ever had, a redraft's replaced one included
            ids = Position.history.filter(referral_id=int(object_id)).values_list("id", flat=True)
            positions = [SimpleNamespace(pk=pk) for pk in sorted(set(ids))]
            extra_context["position_versions"] = "; ".join(position_versions(positions).values())
        return super().history_view(request, object_id, extra_context=extra_context)

    def get_ordering(self, request):
        # open referrals first, running clocks before stopped ones (a stopped clock cannot run
        # out), then the nearest due date; answered and closed referrals after them
        # (the index ``referral_list_order`` has exactly these keys)
        return [referral_still_open(), F("clock_stopped_at").asc(nulls_first=True), "due_date", "pk"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request).prefetch_related("assigned_officials")
        agency = policies.agency_of(request.user)
        if agency is not None:
            # an agency's officials read its own referrals only (the services grant ``view`` on a
            # referral to its agency's officials alone): said outright, the list walks the
            # agency-led index of its order instead of skipping every other agency's rows
            queryset = queryset.filter(agency=agency)
        return queryset

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.role not in policies.ASSIGNER_ROLES | {Role.AGENCY_REVIEWER}:
            actions.pop("assign_reviewer", None)
        elif request.user.role == Role.AGENCY_REVIEWER and "assign_reviewer" in actions:
            func, name, _ = actions["assign_reviewer"]
            actions["assign_reviewer"] = (func, name, "Assign the selected referrals to me")
        return actions

    @admin.display(description="Clock")
    def clock_label(self, obj):
        if obj.status not in ACTIVE or obj.access_request.status not in services.UNDER_REVIEW:
            return "—"
        return clock(obj.days_remaining(), obj.clock_stopped)

    @admin.display(description="Customer", ordering="access_request__partner_customer__legal_name")
    def customer(self, obj):
        return obj.access_request.partner_customer.legal_name

    @admin.display(description="Model")
    def model_label(self, obj):
        return obj.access_request.frontier_model

    @admin.display(description="Assigned to")
    def assigned(self, obj):
        return ", ".join(o.full_name or o.email for o in obj.assigned_officials.all()) or "—"

    @admin.action(description="Assign an official to the selected referrals")
    def assign_reviewer(self, request, queryset):
        """An intermediate page picks the official; then the service runs for each referral and
        every refusal is reported by row."""
        agency = policies.agency_of(request.user)
        if agency is None:
            raise Http404("No such page.")
        officials = User.objects.filter(
            organisation_id=agency.organisation_id, role__in=policies.REVIEW_ROLES, is_active=True
        ).order_by("full_name", "email")
        if request.user.role == Role.AGENCY_REVIEWER:
            officials = officials.filter(pk=request.user.pk)
        form = BulkAssignForm(
            request.POST if "apply" in request.POST else None,
            officials=officials,
            initial={"reviewer": request.user if request.user.role == Role.AGENCY_REVIEWER else None},
        )
        if form.is_valid():
            done, refused = assign_in_bulk(
                referrals=queryset.select_related("agency"),
                actor=request.user,
                official=form.cleaned_data["reviewer"],
            )
            if done:
                messages.success(
                    request,
                    f"{form.cleaned_data['reviewer']} assigned to {len(done)} "
                    f"referral{'s' if len(done) != 1 else ''}.",
                )
            for referral, message in refused:
                messages.error(request, f"{referral}: not assigned. {message}")
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Assign an official to the selected referrals",
            "form": form,
            "referrals": list(queryset.select_related("access_request__partner_customer", "agency")),
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(request, "admin/approvals/bulk_assign.html", context)

    @admin.action(description="Export the cases of the selected referrals (CSV)")
    def export_selected(self, request, queryset):
        return export_cases(
            AccessRequest.objects.filter(pk__in=queryset.values("access_request_id")).only("pk")
        )


class QuestionClockFilter(admin.SimpleListFilter):
    title = "answer due"
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", "Past the deadline"), ("soon", f"Within {selectors.SOON_DAYS} days")]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        open_ = queryset.filter(status=InformationRequest.Status.OPEN)
        if self.value() == "overdue":
            return open_.filter(deadline__lt=today)
        if self.value() == "soon":
            return open_.filter(
                deadline__gte=today, deadline__lte=today + timedelta(days=selectors.SOON_DAYS)
            )
        return queryset


@admin.register(InformationRequest, site=admin_site)
class InformationRequestAdmin(_OpensTheCase, PortalModelAdmin):
    autocomplete_fields = ["access_request", "asked_by", "answered_by"]  # issue 17
    list_display = [
        "case",
        "agency",
        "status",
        "asked_at",
        "deadline",
        "deadline_clock",
        "customer",
        "answered_at",
    ]
    list_filter = [
        "status",
        "agency",
        QuestionClockFilter,
        ("access_request__vendor", VendorFilter),
    ]
    list_select_related = ["access_request__partner_customer", "agency"]
    search_fields = [
        "access_request__tracking_number",
        "access_request__partner_customer__legal_name",
        "access_request__frontier_model__name",
        "access_request__vendor__legal_name",
        "question",
    ]
    # open questions first, the nearest deadline first
    ordering = ["status", "deadline", "pk"]

    @admin.display(description="Answer")
    def deadline_clock(self, obj):
        if obj.status != InformationRequest.Status.OPEN:
            return "—"
        return clock((obj.deadline - timezone.localdate()).days)

    @admin.display(description="Customer")
    def customer(self, obj):
        return obj.access_request.partner_customer.legal_name


@admin.register(Grant, site=admin_site)
class GrantAdmin(PortalModelAdmin):
    list_display = [
        "access_request",
        "partner_customer",
        "frontier_model",
        "vendor",
        "status",
        "valid_from",
        "valid_to",
    ]
    list_filter = [
        "status",
        ("vendor", VendorFilter),
        values_filter("partner_customer__sector", "sector", "sector"),
        values_filter("partner_customer__country", "country", "country"),
        values_filter("frontier_model__release_phase", "release phase", "phase"),
    ]
    list_select_related = ["access_request", "partner_customer", "frontier_model", "vendor"]
    search_fields = [
        "access_request__tracking_number",
        "partner_customer__legal_name",
        "frontier_model__name",
        "vendor__legal_name",
    ]
    # active grants first, the soonest to expire first
    ordering = ["status", "valid_to", "pk"]
    readonly_fields = [
        "access_request",
        "vendor",
        "frontier_model",
        "partner_customer",
        "valid_from",
        "valid_to",
        "status",
        "status_changed_at",
        "status_reason",
        "condition_list",
    ]
    fields = readonly_fields

    @admin.display(description="Conditions")
    def condition_list(self, obj):
        rows = [f"[{c.agency.code}] {c.text}" for c in obj.conditions.select_related("agency")]
        return format_html("<br>".join(["{}"] * len(rows)), *rows) if rows else "None"
