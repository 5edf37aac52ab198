"""The case page of an access request, with the buttons the official may use now, and the letter."""

from django.contrib import admin, messages
from django.db.models import F, OuterRef, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from approvals import policies, selectors, services
from approvals.agency_admin.forms import (
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
from approvals.agency_admin.lists import ACTIVE, ReferredToFilter, RequestClockFilter, case_url, export_cases
from approvals.models import (
    AccessRequest,
    Grant,
    IntentToDeny,
    Position,
    Referral,
    RequestDocument,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role, User
from portal.admin import PortalModelAdmin, values_filter
from portal.admin_site import admin_site
from portal.audit.history import history_rows
from portal.errors import PortalError
from portal.templatetags.portal_tags import clock
from vendors.uploads import document_response


def case_actions(user, access_request, case):
    """The buttons the signed-in official may use on the case now: ``[(label, url)]``.

    Each button is shown exactly when ``policies.can_<verb>`` says the service would accept it."""
    if case["agency"] is None:
        return []
    actions = []
    base = "admin:approvals_accessrequest_"
    pk = access_request.pk
    mine = case["my_referral"]
    if mine is not None:
        if policies.can_assign_officials(user, mine):
            assigned = any(o.pk == user.pk for o in mine.assigned_officials.all())
            if user.role != Role.AGENCY_REVIEWER:
                actions.append(("Assign officials", reverse(base + "assign", args=[pk])))
            elif not assigned:
                actions.append(("Assign to me", reverse(base + "assign", args=[pk])))
        if policies.can_draft_position(user, mine):
            label = "Redraft the position" if mine.status == Referral.Status.DRAFTED else "Draft the position"
            actions.append((label, reverse(base + "position", args=[pk])))
        if policies.can_sign_position(user, mine):
            actions.append(("Sign the position", reverse(base + "sign", args=[pk])))
    if policies.can_ask_vendor(user, access_request):
        actions.append(("Ask the vendor", reverse(base + "ask", args=[pk])))
    if policies.can_escalate(user, access_request):
        actions.append(("Escalate", reverse(base + "escalate", args=[pk])))
    if policies.can_record_decision(user, access_request):
        actions.append(("Record the decision", reverse(base + "decide", args=[pk])))
    if policies.can_resolve_escalation(user, access_request):
        actions.append(("Resolve the escalation", reverse(base + "resolve", args=[pk])))
    if policies.can_finalise_denial(user, access_request):
        actions.append(("Finalise the denial", reverse(base + "finalise", args=[pk])))
    return actions


def enforcement_actions(user, access_request, case):
    """Buttons to the enforcement confirmation pages (lead-agency approvers only): ``[(label, url)]``.

    Each page says exactly what the action will affect before it is taken."""
    if not policies.may_enforce(user):
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
        agency = policies.agency_of(request.user)
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
        agency = policies.agency_of(request.user)
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
            organisation_id=referral.agency.organisation_id, role__in=policies.REVIEW_ROLES, is_active=True
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
