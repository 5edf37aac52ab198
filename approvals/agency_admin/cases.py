"""The case page of an access request, with the buttons the official may use now, and the letter."""

from django.contrib import admin
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from approvals import policies, selectors, services
from approvals.agency_admin.actions import action_urls
from approvals.agency_admin.amendment_pages import AMENDMENT_ACTIONS, case_context
from approvals.agency_admin.case_pages import CASE_ACTIONS, can_assign_me
from approvals.agency_admin.forms import NoteForm
from approvals.agency_admin.lists import (
    ReferredToFilter,
    RequestClockFilter,
    VendorFilter,
    export_cases,
)
from approvals.letter_downloads import letter_pdf_response
from approvals.models import AccessRequest, Referral, RequestDocument
from approvals.selectors.entitlements import entitlement
from approvals.selectors.staffing import unstaffed_referrals
from portal.accounts.models import Role
from portal.admin import PortalModelAdmin, values_filter
from portal.admin_site import admin_site
from portal.audit.history import history_rows
from portal.params import int_param
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
        if policies.can_assign_officials(user, mine) and user.role != Role.AGENCY_REVIEWER:
            actions.append(("Assign officials", reverse(base + "assign", args=[pk])))
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
        label = "Resolve the escalation"
        if policies.can_finalise_denial(user, access_request):
            label = "Decide: the intent to deny and the vendor's answer side by side"
        actions.append((label, reverse(base + "resolve", args=[pk])))
    if policies.can_finalise_denial(user, access_request):
        actions.append(("Finalise the denial", reverse(base + "finalise", args=[pk])))
    if case["grant"] is not None and policies.can_confirm_grant_facts(user, case["grant"]):
        actions.append(("Confirm the grant on the amended facts", reverse(base + "confirm_facts", args=[pk])))
    if policies.can_return_incomplete(user, access_request):
        actions.append(("Return as incomplete", reverse(base + "return_incomplete", args=[pk])))
    if policies.can_return_without_action(user, access_request):
        actions.append(("Return without action", reverse(base + "return_without_action", args=[pk])))
    return actions


def one_click_actions(user, access_request, case):
    """Buttons that act at once (a POST with the page's version): "Assign to me"."""
    if case["my_referral"] is None:
        return []
    access_request._my_referral = case["my_referral"]
    if can_assign_me(user, access_request):
        return [
            ("Assign to me", reverse("admin:approvals_accessrequest_assign_me", args=[access_request.pk]))
        ]
    return []


def enforcement_actions(user, access_request, case):
    """Buttons to the enforcement confirmation pages (lead-agency approvers only): ``[(label, url)]``.

    Each page says exactly what the action will affect before it is taken; each button is shown
    when ``policies.can_<verb>`` says the service would accept it."""
    base = "admin:approvals_enforcementaction_"
    model, vendor, grant = access_request.frontier_model, access_request.vendor, case["grant"]
    buttons = [
        (policies.can_lift_suspension, model, "Lift the model's suspension", "lift"),
        (policies.can_suspend_model, model, "Suspend the model (pull it offline)", "suspend"),
        (policies.can_revoke_grant, grant, "Revoke the grant", "revoke"),
        (policies.can_rescind_designation, vendor, "Rescind the vendor's designation", "rescind"),
        (policies.can_designate_vendor, vendor, "Designate the vendor a supply-chain risk", "designate"),
    ]
    return [
        (label, reverse(base + name, args=[obj.pk]))
        for can, obj, label, name in buttons
        if obj is not None and can(user, obj)
    ]


@admin.register(AccessRequest, site=admin_site)
class AccessRequestAdmin(PortalModelAdmin):
    autocomplete_fields = [
        "vendor",
        "frontier_model",
        "partner_customer",
        "renewal_of",
        "held_by",
        "created_by",
    ]
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
        ("vendor", VendorFilter),
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
        # open cases first, the nearest running clock first; then the newest. ``next_due`` is
        # stored on the request (kept whenever a referral is saved) and this is the order of the
        # index ``access_request_next_due``: the list reads a page of it, not every visible request.
        return [F("next_due").asc(nulls_last=True), F("submitted_at").desc(), "-pk"]

    def get_queryset(self, request):
        # a draft is the vendor's own until submitted: nobody on this side reads it (DESIGN.md)
        return super().get_queryset(request).exclude(status=AccessRequest.Status.DRAFT)

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
            *action_urls(self, name, CASE_ACTIONS),
            *action_urls(self, name, AMENDMENT_ACTIONS),
            path("<int:pk>/letter/", wrap(self.letter_view), name=name + "letter"),
            path("letters/<str:reference>/", wrap(self.letter_by_reference), name=name + "letter_ref"),
            path("letters/<str:reference>/pdf/", wrap(self.letter_pdf), name=name + "letter_pdf"),
            path("<int:pk>/documents/<int:document_pk>/", wrap(self.document_view), name=name + "document"),
            *super().get_urls(),
        ]

    def _case_request(self, request, pk):
        # ``get_queryset`` is already the official's visible requests: checked once, not nested
        # inside a second permission filter (316 ms at 100,000 requests; 5 ms checked once)
        try:
            return self.get_queryset(request).get(pk=pk)
        except AccessRequest.DoesNotExist:
            raise Http404("No such case.") from None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not int_param(object_id) is not None:
            raise Http404("No such case.")
        access_request = self._case_request(request, int(object_id))
        case = selectors.agency_case(request.user, access_request)
        cap = selectors.preview_cap(access_request.frontier_model)
        with policies.one_page(request.user):
            enforcement_buttons = enforcement_actions(request.user, access_request, case)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"{access_request} — {access_request.get_status_display()}",
            "access_request": access_request,
            "case": case,
            "actions": case_actions(request.user, access_request, case),
            "one_click": one_click_actions(request.user, access_request, case),
            "enforcement_actions": enforcement_buttons,
            "evidence": selectors.case_evidence(request.user, access_request),
            "cap": cap,
            "cap_blocks": access_request.is_open
            and cap is not None
            and cap.blocks(access_request.partner_customer_id),
            "entitlement": entitlement(
                frontier_model=access_request.frontier_model, partner_customer=access_request.partner_customer
            ),
            "enforcement": selectors.case_enforcement(request.user, access_request),
            "model_page": reverse(
                "admin:approvals_enforcementaction_model", args=[access_request.frontier_model_id]
            ),
            "note_form": NoteForm() if policies.can_add_note(request.user, access_request) else None,
            "history": history_rows(access_request),
            "my_referral_history": history_rows(case["my_referral"]) if case["my_referral"] else [],
            **case_context(access_request, case["decision"], case["grant"]),
            "unstaffed": _unstaffed_for_lead(request.user, access_request),
        }
        return TemplateResponse(request, "admin/approvals/case.html", context)

    def letter_view(self, request, pk):
        access_request = self._case_request(request, pk)
        decision = getattr(access_request, "decision", None) if access_request.is_decided else None
        if decision is None:
            raise Http404("No decision yet.")
        letter = selectors.letters_visible_to(request.user).filter(decision=decision).first()
        return self._letter_response(request, letter, access_request=access_request, decision=decision)

    def _letter(self, request, reference):
        letter = selectors.letters_visible_to(request.user).filter(reference=reference).first()
        if letter is None:
            raise Http404("No such letter.")
        return letter

    def letter_by_reference(self, request, reference):
        letter = self._letter(request, reference)
        return self._letter_response(request, letter, access_request=letter.access_request)

    def letter_pdf(self, request, reference):
        letter = self._letter(request, reference)
        return letter_pdf_response(letter)

    def _letter_response(self, request, letter, *, access_request=None, decision=None):
        title = f"Decision letter, {access_request}"
        if letter is not None:
            title = f"{letter.get_kind_display()} {letter.reference}"
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            "access_request": access_request,
            "decision": decision,
            **case_context(access_request, decision),
            "letter": letter,
        }
        return TemplateResponse(request, "admin/approvals/letter.html", context)

    def document_view(self, request, pk, document_pk):
        access_request = self._case_request(request, pk)
        document = get_object_or_404(RequestDocument, pk=document_pk, access_request=access_request)
        return document_response(
            document.file, filename=document.original_filename, content_type=document.content_type
        )


def _unstaffed_for_lead(user, access_request):
    """The case's open referrals to agencies nobody can sign for, shown to the lead agency."""
    agency = policies.agency_of(user)
    if agency is None or not agency.is_lead:
        return []
    return list(unstaffed_referrals(AccessRequest.objects.filter(pk=access_request.pk)))
