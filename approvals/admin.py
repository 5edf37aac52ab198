"""The agency side of the review, in the admin, until the agency dashboard replaces it.

Lists are scoped by the permissions helper (an agency sees what is referred to it; auditors
and portal administrators see everything). The case page of an access request shows the
request and everything about its review that the signed-in official may read; its buttons
open small forms that call one service each. Auditors get no buttons and no forms.
"""

import csv
import io
from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Case, Exists, F, OuterRef, Subquery, Value, When
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from approvals import enforcement, selectors, services
from approvals.forms import (
    AssignForm,
    DecisionForm,
    EscalateForm,
    FinaliseDenialForm,
    NoteForm,
    PositionForm,
    QuestionForm,
    ResolveForm,
    SignForm,
)
from approvals.models import (
    AccessRequest,
    Agency,
    Grant,
    InformationRequest,
    IntentToDeny,
    Position,
    Referral,
    RequestDocument,
    RoutingRule,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.admin import PortalModelAdmin, values_filter
from portal.admin_site import admin_site
from portal.audit.export import register_scope
from portal.audit.history import history_rows, stamp
from portal.errors import PortalError
from portal.templatetags.portal_tags import clock
from vendors.uploads import document_response

ACTIVE = (Referral.Status.OPEN, Referral.Status.DRAFTED)


def case_url(access_request_or_pk):
    pk = getattr(access_request_or_pk, "pk", access_request_or_pk)
    return reverse("admin:approvals_accessrequest_change", args=[pk])


def case_actions(user, access_request, case):
    """The buttons the signed-in official may use on the case now: ``[(label, url)]``."""
    agency = case["agency"]
    if agency is None or not user.is_active or user.role not in AGENCY_ROLES:
        return []
    actions = []
    base = "admin:approvals_accessrequest_"
    pk = access_request.pk
    under_review = access_request.status in services.UNDER_REVIEW
    mine = case["my_referral"]
    if mine is not None and mine.status in ACTIVE and under_review:
        assigned = any(o.pk == user.pk for o in mine.assigned_officials.all())
        if user.role in services.ASSIGNER_ROLES or (user.role == Role.AGENCY_REVIEWER and not assigned):
            label = "Assign officials" if user.role != Role.AGENCY_REVIEWER else "Assign to me"
            actions.append((label, reverse(base + "assign", args=[pk])))
        if user.role == Role.AGENCY_APPROVER or (user.role == Role.AGENCY_REVIEWER and assigned):
            label = "Redraft the position" if mine.status == Referral.Status.DRAFTED else "Draft the position"
            actions.append((label, reverse(base + "position", args=[pk])))
        position = mine.visible_position
        if (
            position is not None
            and not position.is_signed
            and user.role == Role.AGENCY_APPROVER
            and not (agency.requires_two_persons and position.drafted_by_id == user.pk)
        ):
            actions.append(("Sign the position", reverse(base + "sign", args=[pk])))
    if mine is not None and under_review and user.role in services.REVIEW_ROLES:
        actions.append(("Ask the vendor", reverse(base + "ask", args=[pk])))
    if agency.is_lead and user.role == Role.AGENCY_APPROVER and access_request.decided_at is None:
        required = [r for r in case["referrals"] if r.required]
        all_signed = bool(required) and all(r.status == Referral.Status.SIGNED for r in required)
        objection = any(
            r.visible_position is not None and r.visible_position.stance == Position.Stance.NON_CONCUR
            for r in case["referrals"]
        )
        if (
            access_request.status in (AccessRequest.Status.IN_REVIEW, AccessRequest.Status.SUBMITTED)
            and all_signed
        ):
            if objection:
                actions.append(("Escalate", reverse(base + "escalate", args=[pk])))
            else:
                actions.append(("Record the decision", reverse(base + "decide", args=[pk])))
        if access_request.status == AccessRequest.Status.ESCALATED:
            actions.append(("Resolve the escalation", reverse(base + "resolve", args=[pk])))
            intent = case["intent_to_deny"]
            if intent is not None and (
                intent.status != IntentToDeny.Status.AWAITING_RESPONSE
                or timezone.localdate() > intent.respond_by
            ):
                actions.append(("Finalise the denial", reverse(base + "finalise", args=[pk])))
    return actions


def enforcement_actions(user, access_request, case):
    """Buttons to the enforcement confirmation pages (lead-agency approvers only): ``[(label, url)]``.

    Each page says exactly what the action will affect before it is taken."""
    if not enforcement.may_enforce(user):
        return []
    base = "admin:approvals_enforcementaction_"
    model = access_request.frontier_model
    actions = []
    if model.release_phase == model.ReleasePhase.SUSPENDED:
        actions.append(("Lift the model's suspension", reverse(base + "lift", args=[model.pk])))
    else:
        actions.append(("Suspend the model (pull it offline)", reverse(base + "suspend", args=[model.pk])))
    grant = case["grant"]
    if grant is not None and grant.status in (Grant.Status.ACTIVE, Grant.Status.SUSPENDED):
        actions.append(("Revoke the grant", reverse(base + "revoke", args=[grant.pk])))
    vendor = access_request.vendor
    if vendor.is_supply_chain_risk:
        actions.append(("Rescind the vendor's designation", reverse(base + "rescind", args=[vendor.pk])))
    else:
        actions.append(
            ("Designate the vendor a supply-chain risk", reverse(base + "designate", args=[vendor.pk]))
        )
    return actions


# ---------------------------------------------------------------------------------------------
# List filters (each offers only values found in the rows the official may see)


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
        agency = services.agency_of(request.user)
        if agency is not None:
            referrals = referrals.filter(agency=agency)
        return queryset.filter(status__in=services.UNDER_REVIEW).filter(Exists(referrals))


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


# ---------------------------------------------------------------------------------------------
# Bulk actions: export the selected cases; assign a reviewer (each row through the service)

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
                _cell(v)
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


def _cell(value):
    """Neutralise spreadsheet formulas in text a vendor typed (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class BulkAssignForm(forms.Form):
    reviewer = forms.ModelChoiceField(
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


# ---------------------------------------------------------------------------------------------
# Access requests: the list and the case page


@admin.register(AccessRequest, site=admin_site)
class AccessRequestAdmin(PortalModelAdmin):
    list_display = [
        "tracking",
        "status_label",
        "clock_label",
        "partner_customer",
        "frontier_model",
        "vendor",
        "submitted_at",
    ]
    list_filter = [
        "status",
        ReferredToFilter,
        RequestClockFilter,
        values_filter("partner_customer__sector", "sector"),
        values_filter("partner_customer__country", "country"),
        ("vendor", admin.RelatedOnlyFieldListFilter),
        values_filter("frontier_model__release_phase", "release phase", "phase"),
    ]
    list_select_related = ["vendor", "partner_customer", "frontier_model"]
    search_fields = [
        "tracking_number",
        "partner_customer__legal_name",
        "frontier_model__name",
        "frontier_model__version",
        "vendor__legal_name",
    ]
    actions = ["export_selected"]

    def get_ordering(self, request):
        # open cases first, the nearest running clock first; then the newest (``next_due`` is
        # annotated below, so it cannot be the declarative ``ordering``)
        return [F("next_due").asc(nulls_last=True), "-submitted_at", "-pk"]

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if not request.user.sees_everything:
            queryset = queryset.exclude(status=AccessRequest.Status.DRAFT)
        referrals = Referral.objects.filter(
            access_request=OuterRef("pk"), status__in=ACTIVE, clock_stopped_at__isnull=True
        )
        agency = services.agency_of(request.user)
        if agency is not None:
            referrals = referrals.filter(agency=agency)
        return queryset.annotate(next_due=Subquery(referrals.order_by("due_date").values("due_date")[:1]))

    @admin.display(description="Request", ordering="tracking_number")
    def tracking(self, obj):
        return obj.tracking_number or f"Draft #{obj.pk}"

    @admin.display(description="Status", ordering="status")
    def status_label(self, obj):
        return obj.get_status_display()

    @admin.display(description="Clock", ordering=F("next_due").asc(nulls_last=True))
    def clock_label(self, obj):
        if obj.status == AccessRequest.Status.INFO_REQUESTED:
            return clock(None, True)
        if obj.status not in services.UNDER_REVIEW or obj.next_due is None:
            return "—"
        return clock((obj.next_due - timezone.localdate()).days)

    @admin.action(description="Export the selected cases (CSV)")
    def export_selected(self, request, queryset):
        return export_cases(queryset)

    # -- the case page ---------------------------------------------------------------------

    def get_urls(self):
        wrap = admin_site.admin_view
        name = "approvals_accessrequest_"
        return [
            path("<int:pk>/assign/", wrap(self.assign_view), name=name + "assign"),
            path("<int:pk>/position/", wrap(self.position_view), name=name + "position"),
            path("<int:pk>/sign/", wrap(self.sign_view), name=name + "sign"),
            path("<int:pk>/ask/", wrap(self.ask_view), name=name + "ask"),
            path("<int:pk>/note/", wrap(self.note_view), name=name + "note"),
            path("<int:pk>/decide/", wrap(self.decide_view), name=name + "decide"),
            path("<int:pk>/escalate/", wrap(self.escalate_view), name=name + "escalate"),
            path("<int:pk>/resolve/", wrap(self.resolve_view), name=name + "resolve"),
            path("<int:pk>/finalise-denial/", wrap(self.finalise_view), name=name + "finalise"),
            path("<int:pk>/letter/", wrap(self.letter_view), name=name + "letter"),
            path("<int:pk>/documents/<int:document_pk>/", wrap(self.document_view), name=name + "document"),
            *super().get_urls(),
        ]

    def _case_request(self, request, pk):
        return permissions.get_visible_or_404(request.user, self.get_queryset(request), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not str(object_id).isdigit():
            raise Http404("No such case.")
        access_request = self._case_request(request, int(object_id))
        case = selectors.agency_case(request.user, access_request)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{access_request} — {access_request.get_status_display()}",
            "access_request": access_request,
            "case": case,
            "actions": case_actions(request.user, access_request, case),
            "enforcement_actions": enforcement_actions(request.user, access_request, case),
            "evidence": selectors.case_evidence(request.user, access_request),
            "enforcement": selectors.case_enforcement(request.user, access_request),
            "model_page": reverse(
                "admin:approvals_enforcementaction_model", args=[access_request.frontier_model_id]
            ),
            "note_form": NoteForm() if case["agency"] and case["my_referral"] else None,
            "history": history_rows(access_request),
            "my_referral_history": history_rows(case["my_referral"]) if case["my_referral"] else [],
        }
        return TemplateResponse(request, "admin/approvals/case.html", context)

    def _action(self, request, pk, *, title, form, call, template="admin/approvals/action.html", extra=None):
        """Show ``form``; on a valid POST call the service and go back to the case page."""
        if request.user.role not in AGENCY_ROLES:
            raise Http404("No such page.")
        access_request = self._case_request(request, pk)
        if request.method == "POST" and form.is_valid():
            try:
                message = call(access_request, form.cleaned_data)
            except PortalError as error:
                error.add_to_form(form)
            else:
                messages.success(request, message)
                return redirect(case_url(access_request))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "access_request": access_request,
            "form": form,
            **(extra(access_request) if extra else {}),
        }
        return TemplateResponse(request, template, context)

    def _my_referral(self, request, access_request):
        agency = services.agency_of(request.user)
        referral = (
            Referral.objects.filter(access_request=access_request, agency=agency).first() if agency else None
        )
        if referral is None:
            raise Http404("This case is not referred to your agency.")
        return referral

    def _version(self, request, pk):
        access_request = self._case_request(request, pk)
        return {"version": access_request.version}

    def assign_view(self, request, pk):
        access_request = self._case_request(request, pk)
        referral = self._my_referral(request, access_request)
        officials = User.objects.filter(
            organisation_id=referral.agency.organisation_id, role__in=services.REVIEW_ROLES, is_active=True
        ).order_by("full_name")
        if request.user.role == Role.AGENCY_REVIEWER:
            officials = officials.filter(pk=request.user.pk)
        initial = {"version": access_request.version, "officials": list(referral.assigned_officials.all())}
        form = AssignForm(request.POST or None, initial=initial, officials=officials)

        def call(access_request, data):
            services.assign_officials(
                referral=referral,
                actor=request.user,
                officials=data["officials"],
                expected_version=data["version"],
            )
            return f"{referral.agency.code}'s referral of {access_request} assigned."

        return self._action(
            request, pk, title=f"Assign {referral.agency.code}'s referral", form=form, call=call
        )

    def position_view(self, request, pk):
        access_request = self._case_request(request, pk)
        referral = self._my_referral(request, access_request)
        initial = {"version": access_request.version}
        position = Position.objects.filter(referral=referral).first()
        if position is not None and not position.is_signed:
            initial.update({"stance": position.stance, "rationale": position.rationale})
            for i, condition in enumerate(position.conditions.all()[:4]):
                initial.update(
                    {
                        f"condition_{i}_kind": condition.kind,
                        f"condition_{i}_text": condition.text,
                        f"condition_{i}_expires_on": condition.expires_on,
                        f"condition_{i}_seat_cap": condition.seat_cap,
                    }
                )
        form = PositionForm(request.POST or None, initial=initial)

        def call(access_request, data):
            services.draft_position(
                referral=referral,
                actor=request.user,
                stance=data["stance"],
                rationale=data["rationale"],
                conditions=form.conditions(),
                expected_version=data["version"],
            )
            return f"{referral.agency.code}'s position drafted. An approver must sign it."

        return self._action(
            request,
            pk,
            title=f"{referral.agency.code}'s position on {access_request}",
            form=form,
            call=call,
            template="admin/approvals/position.html",
        )

    def sign_view(self, request, pk):
        access_request = self._case_request(request, pk)
        referral = self._my_referral(request, access_request)
        position = Position.objects.filter(referral=referral).select_related("drafted_by").first()
        if position is None:
            raise Http404("No drafted position.")
        form = SignForm(
            request.POST or None,
            initial={"version": access_request.version, "drafted_at": position.drafted_at.isoformat()},
        )

        def call(access_request, data):
            services.sign_position(
                referral=referral, actor=request.user, expected_drafted_at=data["drafted_at"]
            )
            return f"{referral.agency.code}'s position on {access_request} is signed; it is now final."

        return self._action(
            request,
            pk,
            title=f"Sign {referral.agency.code}'s position",
            form=form,
            call=call,
            template="admin/approvals/sign.html",
            extra=lambda _: {"position": position, "conditions": list(position.conditions.all())},
        )

    def ask_view(self, request, pk):
        form = QuestionForm(request.POST or None, initial=self._version(request, pk))

        def call(access_request, data):
            question = services.issue_information_request(
                access_request=access_request,
                actor=request.user,
                question=data["question"],
                deadline=data["deadline"],
                expected_version=data["version"],
            )
            due = f"{question.deadline:%B %-d, %Y}"
            return f"Question sent to the vendor; answer due {due}. Every clock is stopped."

        return self._action(request, pk, title="Ask the vendor a question", form=form, call=call)

    def note_view(self, request, pk):
        form = NoteForm(request.POST or None)

        def call(access_request, data):
            note = services.add_internal_note(
                access_request=access_request, actor=request.user, body=data["body"]
            )
            return f"Internal note saved; only {note.agency.code} can read it."

        return self._action(request, pk, title="Add an internal note", form=form, call=call)

    def decide_view(self, request, pk):
        form = DecisionForm(request.POST or None, initial=self._version(request, pk))

        def call(access_request, data):
            services.record_decision(
                access_request=access_request,
                actor=request.user,
                rationale=data["rationale"],
                expected_version=data["version"],
            )
            return f"{access_request} approved. The letter has been issued and the grant created."

        return self._action(
            request,
            pk,
            title="Record the decision",
            form=form,
            call=call,
            template="admin/approvals/decide.html",
            extra=lambda r: {"case": selectors.agency_case(request.user, r)},
        )

    def escalate_view(self, request, pk):
        form = EscalateForm(request.POST or None, initial=self._version(request, pk))

        def call(access_request, data):
            services.escalate_request(
                access_request=access_request,
                actor=request.user,
                reason=data["reason"],
                expected_version=data["version"],
            )
            return f"{access_request} escalated."

        return self._action(request, pk, title="Escalate the case", form=form, call=call)

    def resolve_view(self, request, pk):
        form = ResolveForm(request.POST or None, initial=self._version(request, pk))

        def call(access_request, data):
            result = services.resolve_escalation(
                access_request=access_request,
                actor=request.user,
                outcome=data["outcome"],
                rationale=data["rationale"],
                conditions=form.conditions(),
                expected_version=data["version"],
            )
            if isinstance(result, IntentToDeny):
                return f"Intent to deny issued; the vendor may respond by {result.respond_by:%B %-d, %Y}."
            return f"{access_request} approved. The letter has been issued and the grant created."

        return self._action(
            request,
            pk,
            title="Resolve the escalation",
            form=form,
            call=call,
            template="admin/approvals/position.html",
            extra=lambda r: {"case": selectors.agency_case(request.user, r)},
        )

    def finalise_view(self, request, pk):
        form = FinaliseDenialForm(request.POST or None, initial=self._version(request, pk))

        def call(access_request, data):
            services.finalise_denial(
                access_request=access_request,
                actor=request.user,
                rationale=data["rationale"],
                expected_version=data["version"],
            )
            return f"{access_request} denied. The letter has been issued."

        return self._action(request, pk, title="Finalise the denial", form=form, call=call)

    def letter_view(self, request, pk):
        access_request = self._case_request(request, pk)
        decision = getattr(access_request, "decision", None) if access_request.is_decided else None
        if decision is None:
            raise Http404("No decision yet.")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Decision letter, {access_request}",
            "access_request": access_request,
            "decision": decision,
        }
        return TemplateResponse(request, "admin/approvals/letter.html", context)

    def document_view(self, request, pk, document_pk):
        access_request = self._case_request(request, pk)
        document = get_object_or_404(RequestDocument, pk=document_pk, access_request=access_request)
        return document_response(
            document.file, filename=document.original_filename, content_type=document.content_type
        )


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
        ("agency", admin.RelatedOnlyFieldListFilter),
        ClockFilter,
        AssignedFilter,
        "required",
        values_filter("access_request__partner_customer__sector", "sector", "sector"),
        values_filter("access_request__partner_customer__country", "country", "country"),
        ("access_request__vendor", admin.RelatedOnlyFieldListFilter),
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

    def get_ordering(self, request):
        # open referrals first, running clocks before stopped ones (a stopped clock cannot run
        # out), then the nearest due date; answered and closed referrals after them
        still_open = Case(When(status__in=ACTIVE, then=Value(0)), default=Value(1))
        return [still_open, F("clock_stopped_at").asc(nulls_first=True), "due_date", "pk"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("assigned_officials")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if request.user.role not in services.ASSIGNER_ROLES | {Role.AGENCY_REVIEWER}:
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
        agency = services.agency_of(request.user)
        if agency is None:
            raise Http404("No such page.")
        officials = User.objects.filter(
            organisation_id=agency.organisation_id, role__in=services.REVIEW_ROLES, is_active=True
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
        ("agency", admin.RelatedOnlyFieldListFilter),
        QuestionClockFilter,
        ("access_request__vendor", admin.RelatedOnlyFieldListFilter),
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
        ("vendor", admin.RelatedOnlyFieldListFilter),
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


class _ReferenceData(PortalModelAdmin):
    """Every official may read it; portal administrators edit it; changes carry a reason."""

    editable_by_portal_admin = True

    def get_queryset(self, request):
        return self.model._default_manager.all()

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff


@admin.register(Agency, site=admin_site)
class AgencyAdmin(_ReferenceData):
    list_display = ["code", "name", "is_lead", "requires_two_persons"]
    readonly_fields = ["officials_group"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["organisation", "code", "name", "is_lead", "requires_two_persons"]
        return ["organisation", "code", "name", "is_lead", "requires_two_persons", "officials_group"]

    def get_readonly_fields(self, request, obj=None):
        return ["organisation", "officials_group"] if obj is not None else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is None and "organisation" in form.base_fields:
            from portal.accounts.models import Organisation

            form.base_fields["organisation"].queryset = Organisation.objects.filter(
                kind=Organisation.Kind.AGENCY, agency__isnull=True
            )
        return form

    def save_model(self, request, obj, form, change):
        if change:
            stamp(obj, actor=request.user, reason="Agency settings changed in the admin.")
            obj.save()
            return
        try:
            created = services.create_agency(
                organisation=obj.organisation,
                code=obj.code,
                name=obj.name,
                is_lead=obj.is_lead,
                requires_two_persons=obj.requires_two_persons,
                actor=request.user,
                reason="Agency added in the admin.",
            )
        except PortalError as error:
            raise PermissionDenied(error.message) from error
        obj.pk = created.pk


@admin.register(RoutingRule, site=admin_site)
class RoutingRuleAdmin(_ReferenceData):
    list_display = ["agency", "condition", "required", "is_active", "note"]
    list_filter = ["is_active", "condition"]
    list_select_related = ["agency"]
    fields = ["agency", "condition", "required", "is_active", "note"]

    def save_model(self, request, obj, form, change):
        stamp(
            obj,
            actor=request.user,
            reason="Routing rule changed in the admin; it applies to requests submitted from now on.",
        )
        obj.save()


# Whose history an agency official may export: their own agency's referrals, positions and notes,
# and what the cases referred to them concern (portal.audit.export).
for _label, _scope in selectors.AUDIT_SCOPES.items():
    register_scope(_label, _scope)


from approvals import admin_enforcement  # noqa: E402,F401
