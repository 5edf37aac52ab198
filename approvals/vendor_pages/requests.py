"""The vendor's access requests at ``/vendor/requests/``.

Views parse, call one service and render its result or its refusal. Requests are addressed
by tracking number, drafts by id; a request of another vendor answers 404.
"""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from approvals import policies, selectors, services
from approvals.models import AccessRequest, InformationRequest, RequestDocument
from approvals.vendor_pages.forms import (
    AnswerForm,
    DocumentForm,
    IntentResponseForm,
    NewRequestForm,
    RequestForm,
    SubmitForm,
    WithdrawForm,
)
from portal.accounts.models import Role
from portal.errors import PortalError
from portal.params import int_param
from vendors.uploads import document_response
from vendors.views import vendor_member_required

PAGE_SIZE = 25
ACTOR_ROLES = {Role.VENDOR_ADMIN, Role.VENDOR_OFFICER}


def _detail_url(access_request):
    return reverse("approvals:detail", args=[selectors.reference(access_request)])


def _request(request, ref):
    """The request ``ref`` names, if the signed-in vendor member may read it; else 404."""
    return selectors.request_by_reference(request.user, ref)


def _may_act(request):
    return request.user.role in ACTOR_ROLES


@vendor_member_required
def request_list(request):
    status = request.GET.get("status", "")
    if status not in AccessRequest.Status.values:
        status = ""
    search = request.GET.get("q", "").strip()[:100]
    queryset = selectors.vendor_requests(request.user, status=status, search=search)
    counts = selectors.status_counts(request.user)
    paginator = Paginator(queryset, PAGE_SIZE)
    if not search:  # the kept counts are the list's length: no count of every row (issue 18)
        paginator.count = counts.get(status, 0) if status else sum(counts.values())
    page = paginator.get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return render(
        request,
        "approvals/request_list.html",
        {
            "page": page,
            "filters": {"status": status, "q": search},
            "statuses": [
                (value, label, counts.get(value, 0)) for value, label in AccessRequest.Status.choices
            ],
            "total": sum(counts.values()),
            "querystring": params.urlencode(),
            "can_act": _may_act(request),
        },
    )


@vendor_member_required
def request_new(request):
    if not _may_act(request):
        raise Http404("No such page.")
    initial = {}
    for key in ("frontier_model", "partner_customer"):
        if int_param(request.GET.get(key)) is not None:
            initial[key] = int_param(request.GET.get(key))
    form = NewRequestForm(
        request.POST or None, request.FILES or None, user=request.user, vendor=request.vendor, initial=initial
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        documents = [(data["document"], data["document_title"])] if data.get("document") else []
        try:
            access_request = services.create_draft_request(
                actor=request.user,
                frontier_model=data["frontier_model"],
                partner_customer=data["partner_customer"],
                use_case=data["use_case"],
                scope=data["scope"],
                requested_duration_days=data["requested_duration_days"],
                documents=documents,
            )
        except PortalError as error:
            if error.field == "documents":
                error.field = "document"
            error.add_to_form(form)
        else:
            messages.success(request, "Draft saved. Check it, add documents if needed, then submit it.")
            return redirect(_detail_url(access_request))
    return render(
        request,
        "approvals/request_form.html",
        {
            "form": form,
            "title": "New access request",
            "has_models": form.fields["frontier_model"].queryset.exists(),
            "caps": selectors.preview_caps(form.fields["frontier_model"].queryset).values(),
        },
    )


def _detail_context(request, access_request, **forms):
    """The request page; each form and button is there when ``policies.can_<verb>`` allows it."""
    user = request.user
    case = selectors.vendor_case(access_request)
    can = {
        verb: getattr(policies, f"can_{verb}")(user, access_request)
        for verb in (
            "update_draft",
            "attach_document",
            "remove_document",
            "discard_draft",
            "submit",
            "withdraw",
            "respond_to_intent",
        )
    }
    context = {"access_request": access_request, "case": case, "can_act": _may_act(request), "can": can}
    context.update(forms)
    version = {"version": access_request.version}
    if can["attach_document"]:
        context.setdefault("document_form", DocumentForm())
    if can["submit"]:
        context.setdefault("submit_form", SubmitForm(initial=version))
        context["defects"] = context.get("defects") or services.completeness_defects(access_request)
        cap = selectors.preview_cap(access_request.frontier_model)
        if cap is not None and cap.blocks(access_request.partner_customer_id):
            context["full_caps"] = [cap]
    open_questions = case["open_questions"]
    # every open question of the request is answerable by the same people: ask the rule once
    if open_questions and policies.can_answer_question(user, open_questions[0]):
        for question in open_questions:
            bound = forms.get("answer_forms", {}).get(question.pk)
            question.form = bound or AnswerForm(initial=version, prefix=f"q{question.pk}")
    if can["respond_to_intent"]:
        context.setdefault("intent_form", IntentResponseForm(initial=version))
    return context


def _render_detail(request, access_request, status=200, **forms):
    context = _detail_context(request, access_request, **forms)
    return render(request, "approvals/request_detail.html", context, status=status)


@vendor_member_required
def request_detail(request, ref):
    access_request = _request(request, ref)
    canonical = selectors.reference(access_request)
    if ref != canonical:
        return redirect(_detail_url(access_request))
    return _render_detail(request, access_request)


@vendor_member_required
def request_edit(request, ref):
    access_request = _request(request, ref)
    if not _may_act(request) or access_request.status not in AccessRequest.EDITABLE_STATUSES:
        raise Http404("No such page.")
    initial = {
        "frontier_model": access_request.frontier_model_id,
        "partner_customer": access_request.partner_customer_id,
        "use_case": access_request.use_case,
        "scope": access_request.scope,
        "requested_duration_days": access_request.requested_duration_days,
        "version": access_request.version,
    }
    form = RequestForm(request.POST or None, user=request.user, vendor=request.vendor, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_draft(
                access_request=access_request,
                actor=request.user,
                expected_version=data["version"],
                frontier_model=data["frontier_model"],
                partner_customer=data["partner_customer"],
                use_case=data["use_case"],
                scope=data["scope"],
                requested_duration_days=data["requested_duration_days"],
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, "Draft saved.")
            return redirect(_detail_url(access_request))
    return render(
        request,
        "approvals/request_form.html",
        {
            "form": form,
            "title": f"Edit {access_request}",
            "access_request": access_request,
            "has_models": True,
        },
    )


@vendor_member_required
@require_POST
def document_attach(request, ref):
    access_request = _request(request, ref)
    form = DocumentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attach_request_document(
                access_request=access_request,
                actor=request.user,
                uploaded_file=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except PortalError as error:
            if error.field == "documents":
                error.field = "file"
            error.add_to_form(form)
        else:
            messages.success(request, "Document attached.")
            return redirect(_detail_url(access_request))
    return _render_detail(request, access_request, status=400, document_form=form)


@vendor_member_required
def document_download(request, ref, pk):
    access_request = _request(request, ref)
    document = get_object_or_404(RequestDocument, pk=pk, access_request=access_request)
    return document_response(
        document.file, filename=document.original_filename, content_type=document.content_type
    )


@vendor_member_required
@require_POST
def document_remove(request, ref, pk):
    access_request = _request(request, ref)
    document = get_object_or_404(RequestDocument, pk=pk, access_request=access_request)
    try:
        services.remove_request_document(document=document, actor=request.user)
    except PortalError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{document.title}” removed.")
    return redirect(_detail_url(access_request))


@vendor_member_required
@require_POST
def request_submit(request, ref):
    access_request = _request(request, ref)
    form = SubmitForm(request.POST)
    form.is_valid()
    try:
        access_request = services.submit_request(
            access_request=access_request,
            actor=request.user,
            expected_version=form.cleaned_data.get("version"),
        )
    except PortalError as error:
        return _render_detail(
            request, access_request, status=400, submit_error=error.message, defects=error.messages
        )
    messages.success(
        request,
        f"Submitted as {access_request.tracking_number}. The agencies have been notified; we have e-mailed "
        "you a receipt.",
    )
    cap = selectors.preview_cap(access_request.frontier_model)
    if cap is not None and cap.blocks(access_request.partner_customer_id):
        holders = ", ".join(g.partner_customer.legal_name for g in cap.holders)
        messages.warning(
            request,
            f"{access_request.frontier_model}'s preview {cap} (held by {holders}): the request cannot be "
            "approved until one of those grants ends, and may be returned without action.",
        )
    return redirect(_detail_url(access_request))


@vendor_member_required
def request_withdraw(request, ref):
    access_request = _request(request, ref)
    if not _may_act(request):
        raise Http404("No such page.")
    if not policies.can_withdraw(request.user, access_request):
        # GET or POST alike: no form for a request that cannot be withdrawn, and nothing changed.
        try:
            policies.require_withdraw(request.user, access_request)
        except PortalError as refusal:
            messages.warning(request, refusal.message)
        return redirect(_detail_url(access_request))
    form = WithdrawForm(request.POST or None, initial={"version": access_request.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.withdraw_request(
                access_request=access_request,
                actor=request.user,
                reason=form.cleaned_data["reason"],
                expected_version=form.cleaned_data["version"],
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, f"{access_request} has been withdrawn.")
            return redirect(_detail_url(access_request))
    return render(
        request, "approvals/request_withdraw.html", {"access_request": access_request, "form": form}
    )


@vendor_member_required
@require_POST
def request_discard(request, ref):
    access_request = _request(request, ref)
    try:
        services.discard_draft(access_request=access_request, actor=request.user)
    except PortalError as error:
        messages.error(request, error.message)
        return redirect(_detail_url(access_request))
    messages.success(request, "Draft discarded.")
    return redirect("approvals:list")


@vendor_member_required
@require_POST
def question_answer(request, ref, pk):
    access_request = _request(request, ref)
    question = get_object_or_404(InformationRequest, pk=pk, access_request=access_request)
    form = AnswerForm(request.POST, request.FILES, prefix=f"q{question.pk}")
    if form.is_valid():
        try:
            services.answer_information_request(
                information_request=question,
                actor=request.user,
                answer=form.cleaned_data["answer"],
                documents=form.cleaned_data["documents"],
                expected_version=form.cleaned_data["version"],
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, f"Your answer has been sent to {question.agency.code}.")
            return redirect(_detail_url(access_request))
    return _render_detail(request, access_request, status=400, answer_forms={question.pk: form})


@vendor_member_required
@require_POST
def intent_respond(request, ref):
    access_request = _request(request, ref)
    form = IntentResponseForm(request.POST)
    if form.is_valid():
        try:
            services.respond_to_intent_to_deny(
                access_request=access_request,
                actor=request.user,
                response=form.cleaned_data["response"],
                expected_version=form.cleaned_data["version"],
            )
        except PortalError as error:
            error.add_to_form(form)
        else:
            messages.success(request, "Your response has been sent to the lead agency.")
            return redirect(_detail_url(access_request))
    return _render_detail(request, access_request, status=400, intent_form=form)


@vendor_member_required
def decision_letter(request, ref):
    access_request = _request(request, ref)
    decision = getattr(access_request, "decision", None) if access_request.is_decided else None
    if decision is None:
        raise Http404("No decision yet.")
    letter = selectors.letters_visible_to(request.user).filter(decision=decision).first()
    if letter is not None:
        facts = selectors.facts_as_reviewed(access_request, decision)
        context = {"letter": letter, "access_request": access_request, "facts": facts}
        return render(request, "approvals/letter.html", context)
    return render(
        request,
        "approvals/decision_letter.html",
        {
            "access_request": access_request,
            "decision": decision,
            "facts": selectors.facts_as_reviewed(access_request, decision),
        },
    )
