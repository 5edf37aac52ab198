"""The action pages behind the case page's buttons, each declared as an ``ActionPage`` and gated
by the ``policies.can_<verb>`` that shows its button (``cases.case_actions``)."""

from django.contrib import messages
from django.urls import reverse

from approvals import policies, selectors, services
from approvals.agency_admin.actions import ActionPage
from approvals.agency_admin.forms import (
    AssignForm,
    DecisionForm,
    EscalateForm,
    FinaliseDenialForm,
    NoteForm,
    PositionForm,
    QuestionForm,
    ResolveForm,
    ReturnForm,
    SignForm,
    VersionForm,
)
from approvals.agency_admin.lists import case_url
from approvals.models import IntentToDeny, Position, Referral
from portal.accounts.models import Role, User
from portal.errors import PortalError


def _my_referral(user, access_request):
    """The referral of ``access_request`` to the user's agency, or ``None`` (kept on the request)."""
    if not hasattr(access_request, "_my_referral"):
        agency = policies.agency_of(user)
        referral = None
        if agency is not None:
            referral = (
                Referral.objects.filter(access_request=access_request, agency=agency)
                .select_related("agency")
                .first()
            )
        if referral is not None:
            referral.access_request = access_request
        access_request._my_referral = referral
    return access_request._my_referral


def _on_my_referral(can):
    """``can_<verb>`` asked of the user's own agency's referral of the case."""

    def allowed(user, access_request):
        referral = _my_referral(user, access_request)
        return referral is not None and can(user, referral)

    def require(user, access_request):
        referral = _my_referral(user, access_request)
        if referral is None:
            raise PortalError("Your agency holds no referral on this case.")
        can.require(user, referral)

    allowed.require = require
    return allowed


def _position(referral):
    if not hasattr(referral, "_position"):
        referral._position = Position.objects.filter(referral=referral).select_related("drafted_by").first()
    return referral._position


def _version(request, access_request):
    return {"version": access_request.version}


def _officials(request, access_request):
    referral = _my_referral(request.user, access_request)
    officials = User.objects.filter(
        organisation_id=referral.agency.organisation_id, role__in=policies.REVIEW_ROLES, is_active=True
    ).order_by("full_name")
    if request.user.role == Role.AGENCY_REVIEWER:
        officials = officials.filter(pk=request.user.pk)
    return {"officials": officials}


def _assign(request, access_request, form):
    referral = _my_referral(request.user, access_request)
    services.assign_officials(
        referral=referral,
        actor=request.user,
        officials=form.cleaned_data["officials"],
        expected_version=form.cleaned_data["version"],
    )
    return f"{referral.agency.code}'s referral of {access_request} assigned."


def _position_initial(request, access_request):
    initial = {"version": access_request.version}
    position = _position(_my_referral(request.user, access_request))
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
    return initial


def _draft_position(request, access_request, form):
    referral = _my_referral(request.user, access_request)
    data = form.cleaned_data
    arguments = {
        "referral": referral,
        "actor": request.user,
        "stance": data["stance"],
        "rationale": data["rationale"],
        "conditions": form.conditions(),
        "expected_version": data["version"],
    }
    if "sign" in request.POST:
        services.draft_and_sign_position(**arguments)
        return f"{referral.agency.code}'s position on {access_request} is signed; it is now final."
    services.draft_position(**arguments)
    if policies.can_sign_position(request.user, referral):
        return f"{referral.agency.code}'s position drafted. Sign it when it is ready."
    if referral.agency.requires_two_persons:
        return (
            f"{referral.agency.code}'s position drafted. Another approver of {referral.agency.code} signs it."
        )
    return f"{referral.agency.code}'s position drafted. An approver of {referral.agency.code} signs it."


def _position_context(request, access_request):
    referral = _my_referral(request.user, access_request)
    return {"can_sign_now": policies.can_draft_and_sign(request.user, referral), "referral": referral}


def _assign_me(request, access_request, form):
    """One click: the service reads the officials already on it under its lock and adds you."""
    referral = _my_referral(request.user, access_request)
    referral, added = services.assign_to_me(referral=referral, actor=request.user)
    if not added:
        return messages.WARNING, _already_mine(referral, request.user)
    return f"{referral.agency.code}'s referral of {access_request} is assigned to you."


def _already_mine(referral, user):
    return (
        f"Nothing changed: {referral.agency.code}'s referral of {referral.access_request} is already "
        "assigned to you."
    )


def _stale_assign_me(request, access_request):
    referral = _my_referral(request.user, access_request)
    if referral is not None and referral.assigned_officials.filter(pk=request.user.pk).exists():
        return _already_mine(referral, request.user)
    return None


def can_assign_me(user, access_request):
    """ "Assign to me": the assignment rule, for an official who may work the referral and is not on it."""
    referral = _my_referral(user, access_request)
    return (
        referral is not None
        and user.role in policies.REVIEW_ROLES
        and policies.can_assign_officials(user, referral)
        and not referral.assigned_officials.filter(pk=user.pk).exists()
    )


def _sign_initial(request, access_request):
    position = _position(_my_referral(request.user, access_request))
    return {"version": access_request.version, "drafted_at": position.drafted_at.isoformat()}


def _sign(request, access_request, form):
    referral = _my_referral(request.user, access_request)
    services.sign_position(
        referral=referral, actor=request.user, expected_drafted_at=form.cleaned_data["drafted_at"]
    )
    return f"{referral.agency.code}'s position on {access_request} is signed; it is now final."


def _sign_context(request, access_request):
    position = _position(_my_referral(request.user, access_request))
    return {"position": position, "conditions": list(position.conditions.all())}


def _ask(request, access_request, form):
    data = form.cleaned_data
    question = services.issue_information_request(
        access_request=access_request,
        actor=request.user,
        question=data["question"],
        deadline=data["deadline"],
        expected_version=data["version"],
    )
    return f"Question sent to the vendor; answer due {question.deadline:%B %-d, %Y}. Every clock is stopped."


def _note(request, access_request, form):
    note = services.add_internal_note(
        access_request=access_request, actor=request.user, body=form.cleaned_data["body"]
    )
    return f"Internal note saved; only {note.agency.code} can read it."


def _decide(request, access_request, form):
    data = form.cleaned_data
    services.record_decision(
        access_request=access_request,
        actor=request.user,
        rationale=data["rationale"],
        expected_version=data["version"],
    )
    return f"{access_request} approved. The letter has been issued and the grant created."


def _escalate(request, access_request, form):
    data = form.cleaned_data
    services.escalate_request(
        access_request=access_request,
        actor=request.user,
        reason=data["reason"],
        expected_version=data["version"],
    )
    return f"{access_request} escalated."


def _intent(access_request):
    if not hasattr(access_request, "_intent"):
        access_request._intent = IntentToDeny.objects.filter(access_request=access_request).first()
    return access_request._intent


def _outcomes(request, access_request):
    """Before an intent to deny: approve, or announce the intent. After it (the vendor answered,
    or the window closed): approve (with conditions), or deny for good."""
    if _intent(access_request) is None:
        return {"outcomes": services.RESOLUTIONS}
    outcomes = {k: v for k, v in services.RESOLUTIONS.items() if k != "intent_to_deny"}
    if policies.can_finalise_denial(request.user, access_request):
        outcomes["deny"] = "Deny (final): the letter gives the reasons"
    return {"outcomes": outcomes}


def _resolve_context(request, access_request):
    return {**_with_case(request, access_request), "intent": _intent(access_request)}


def _resolve(request, access_request, form):
    data = form.cleaned_data
    if data["outcome"] == "deny":
        services.finalise_denial(
            access_request=access_request,
            actor=request.user,
            rationale=data["rationale"],
            expected_version=data["version"],
        )
        return f"{access_request} denied. The letter has been issued."
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


def _finalise(request, access_request, form):
    data = form.cleaned_data
    services.finalise_denial(
        access_request=access_request,
        actor=request.user,
        rationale=data["rationale"],
        expected_version=data["version"],
    )
    return f"{access_request} denied. The letter has been issued."


def _return_incomplete(request, access_request, form):
    data = form.cleaned_data
    services.return_incomplete(
        access_request=access_request,
        actor=request.user,
        reason=data["reason"],
        expected_version=data["version"],
    )
    return (
        f"{access_request} returned to the vendor as incomplete. When they resubmit it, every referral "
        "reopens on a new clock."
    )


def _return_without_action(request, access_request, form):
    data = form.cleaned_data
    services.return_without_action(
        access_request=access_request,
        actor=request.user,
        reason=data["reason"],
        expected_version=data["version"],
    )
    return f"{access_request} returned without action. The vendor has been told why."


def _with_case(request, access_request):
    return {"case": selectors.agency_case(request.user, access_request)}


def _decision_context(request, access_request):
    """The decision page: the case, the model's preview cap, and the way out when the cap is full."""
    cap = selectors.preview_cap(access_request.frontier_model)
    blocked = cap is not None and cap.blocks(access_request.partner_customer_id)
    base = "admin:approvals_accessrequest_"
    returns = []
    if blocked:
        with policies.one_page(request.user, readable=[access_request]):
            if policies.can_return_without_action(request.user, access_request):
                returns.append(
                    (
                        "Return without action",
                        reverse(base + "return_without_action", args=[access_request.pk]),
                    )
                )
            if policies.can_return_incomplete(request.user, access_request):
                returns.append(
                    ("Return as incomplete", reverse(base + "return_incomplete", args=[access_request.pk]))
                )
    return {**_with_case(request, access_request), "cap": cap, "cap_blocks": blocked, "returns": returns}


def _case_page(name, route, *, title, template="admin/approvals/action.html", context=None, **kwargs):
    """An action page on a case: looked up as the case page is, back to the case page after."""

    def full_context(request, access_request):
        return {"access_request": access_request, **(context(request, access_request) if context else {})}

    return ActionPage(
        name=name,
        route=f"<int:pk>/{route}/",
        lookup=lambda model_admin, request, pk: model_admin._case_request(request, pk),
        title=title if callable(title) else (lambda _access_request: title),
        back=case_url,
        template=template,
        context=full_context,
        **kwargs,
    )


def _referral_title(text):
    def title(access_request):
        referral = getattr(access_request, "_my_referral", None)
        return text.format(code=referral.agency.code if referral else "Your agency", request=access_request)

    return title


CASE_ACTIONS = [
    _case_page(
        "assign_me",
        "assign-me",
        title=_referral_title("Assign {code}'s referral of {request} to yourself"),
        allowed=can_assign_me,
        form_class=VersionForm,
        initial=_version,
        call=_assign_me,
        stale=_stale_assign_me,
    ),
    _case_page(
        "assign",
        "assign",
        title=_referral_title("Assign {code}'s referral"),
        allowed=_on_my_referral(policies.can_assign_officials),
        form_class=AssignForm,
        initial=lambda request, access_request: {
            "version": access_request.version,
            "officials": list(_my_referral(request.user, access_request).assigned_officials.all()),
        },
        form_kwargs=_officials,
        call=_assign,
    ),
    _case_page(
        "position",
        "position",
        title=_referral_title("{code}'s position on {request}"),
        allowed=_on_my_referral(policies.can_draft_position),
        form_class=PositionForm,
        initial=_position_initial,
        call=_draft_position,
        template="admin/approvals/position.html",
        context=_position_context,
    ),
    _case_page(
        "sign",
        "sign",
        title=_referral_title("Sign {code}'s position"),
        allowed=_on_my_referral(policies.can_sign_position),
        form_class=SignForm,
        initial=_sign_initial,
        call=_sign,
        template="admin/approvals/sign.html",
        context=_sign_context,
    ),
    _case_page(
        "ask",
        "ask",
        title="Ask the vendor a question",
        allowed=policies.can_ask_vendor,
        form_class=QuestionForm,
        initial=_version,
        call=_ask,
    ),
    _case_page(
        "note",
        "note",
        title="Add an internal note",
        allowed=policies.can_add_note,
        form_class=NoteForm,
        call=_note,
    ),
    _case_page(
        "decide",
        "decide",
        title="Record the decision",
        allowed=policies.can_record_decision,
        form_class=DecisionForm,
        initial=_version,
        call=_decide,
        template="admin/approvals/decide.html",
        context=_decision_context,
    ),
    _case_page(
        "escalate",
        "escalate",
        title="Escalate the case",
        allowed=policies.can_escalate,
        form_class=EscalateForm,
        initial=_version,
        call=_escalate,
    ),
    _case_page(
        "resolve",
        "resolve",
        title="Resolve the escalation",
        allowed=policies.can_resolve_escalation,
        form_class=ResolveForm,
        initial=_version,
        form_kwargs=_outcomes,
        call=_resolve,
        template="admin/approvals/resolve.html",
        context=_resolve_context,
    ),
    _case_page(
        "return_incomplete",
        "return-incomplete",
        title="Return the request as incomplete",
        allowed=policies.can_return_incomplete,
        form_class=ReturnForm,
        initial=_version,
        call=_return_incomplete,
        template="admin/approvals/return.html",
        context=lambda request, access_request: {"incomplete": True},
    ),
    _case_page(
        "return_without_action",
        "return-without-action",
        title="Return the request without action",
        allowed=policies.can_return_without_action,
        form_class=ReturnForm,
        initial=_version,
        call=_return_without_action,
        template="admin/approvals/return.html",
    ),
    _case_page(
        "finalise",
        "finalise-denial",
        title="Finalise the denial",
        allowed=policies.can_finalise_denial,
        form_class=FinaliseDenialForm,
        initial=_version,
        call=_finalise,
        template="admin/approvals/finalise.html",
        context=_resolve_context,
    ),
]
