"""The lifecycle of an access request as a table (``TRANSITIONS``: verb, states, roles) and its
rules: ``require_<verb>`` for the services, ``can_<verb>`` for the buttons.
"""

from dataclasses import dataclass

from django.utils import timezone

from approvals.models import (
    AccessRequest,
    Decision,
    IntentToDeny,
    Position,
    Referral,
)
from approvals.policies.common import (
    APPROVER_ROLES,
    ASSIGNER_ROLES,
    REVIEW_ROLES,
    UNDER_REVIEW,
    VENDOR_ACTOR_ROLES,
    Status,
    _asks,
    _refuse,
    agency_of,
    require_lead_approver,
    require_official,
    require_vendor_actor,
)
from portal import permissions
from portal.accounts.models import AGENCY_ROLES, Role


@dataclass(frozen=True)
class Transition:
    """One verb of the lifecycle: the states it is allowed from and the roles that may take it."""

    verb: str
    subject: str  # the object the verb is asked about: "access_request", "referral" or "question"
    states: frozenset
    roles: frozenset
    doing: str  # what the verb does, for refusal messages ("sign a position")


_VENDOR = VENDOR_ACTOR_ROLES


_DECIDABLE = frozenset({Status.SUBMITTED, Status.IN_REVIEW})


_EDITABLE = frozenset(AccessRequest.EDITABLE_STATUSES)


_RETURNABLE = frozenset(AccessRequest.OPEN_STATUSES)


TRANSITIONS = {
    t.verb: t
    for t in [
        Transition("update_draft", "access_request", _EDITABLE, _VENDOR, "edit the request"),
        Transition("attach_document", "access_request", _EDITABLE, _VENDOR, "attach documents"),
        Transition("remove_document", "access_request", _EDITABLE, _VENDOR, "remove documents"),
        Transition(
            "discard_draft", "access_request", frozenset({Status.DRAFT}), _VENDOR, "discard the draft"
        ),
        Transition("submit", "access_request", _EDITABLE, _VENDOR, "submit the request"),
        Transition(
            "withdraw",
            "access_request",
            frozenset(AccessRequest.OPEN_STATUSES) | {Status.RETURNED_INCOMPLETE},
            _VENDOR,
            "withdraw the request",
        ),
        Transition(
            "answer_question", "question", frozenset({Status.INFO_REQUESTED}), _VENDOR, "answer the question"
        ),
        Transition("respond_to_intent", "access_request", frozenset({Status.ESCALATED}), _VENDOR, "respond"),
        Transition(
            "assign_officials",
            "referral",
            frozenset(UNDER_REVIEW),
            ASSIGNER_ROLES | {Role.AGENCY_REVIEWER},
            "assign officials",
        ),
        Transition("draft_position", "referral", frozenset(UNDER_REVIEW), REVIEW_ROLES, "draft a position"),
        Transition("sign_position", "referral", frozenset(UNDER_REVIEW), APPROVER_ROLES, "sign a position"),
        Transition(
            "draft_and_sign",
            "referral",
            frozenset(UNDER_REVIEW),
            APPROVER_ROLES,
            "draft and sign a position in one step",
        ),
        Transition(
            "ask_vendor", "access_request", frozenset(UNDER_REVIEW), REVIEW_ROLES, "ask the vendor a question"
        ),
        Transition(
            "add_note",
            "access_request",
            frozenset(set(Status) - {Status.DRAFT}),
            frozenset(AGENCY_ROLES),
            "write internal notes",
        ),
        Transition("record_decision", "access_request", _DECIDABLE, APPROVER_ROLES, "record a decision"),
        Transition("escalate", "access_request", _DECIDABLE, APPROVER_ROLES, "escalate a case"),
        Transition(
            "resolve_escalation",
            "access_request",
            frozenset({Status.ESCALATED}),
            APPROVER_ROLES,
            "resolve an escalation",
        ),
        Transition(
            "finalise_denial",
            "access_request",
            frozenset({Status.ESCALATED}),
            APPROVER_ROLES,
            "finalise a denial",
        ),
        Transition(
            "return_incomplete",
            "access_request",
            _RETURNABLE,
            APPROVER_ROLES,
            "return a request as incomplete",
        ),
        Transition(
            "return_without_action",
            "access_request",
            _RETURNABLE,
            APPROVER_ROLES,
            "return a request without action",
        ),
    ]
}


def _require_vendor_on_request(verb, actor, access_request):
    require_vendor_actor(actor, vendor=access_request.vendor, obj=access_request)


def _require_not_on_hold(access_request, doing):
    if access_request.on_hold:
        _refuse(
            f"{access_request} is on hold: {access_request.frontier_model} was suspended by enforcement "
            f"action #{access_request.held_by_id}. You cannot {doing} until the suspension is lifted."
        )


def _require_referral_active(verb, access_request, referral):
    doing = TRANSITIONS[verb].doing
    if access_request.status not in TRANSITIONS[verb].states:
        _refuse(f"{access_request} is “{access_request.get_status_display()}”: you can no longer {doing}.")
    if verb != "assign_officials":
        _require_not_on_hold(access_request, doing)
    if referral.status == Referral.Status.SIGNED:
        _refuse(f"{referral.agency.code}'s position on {access_request} is signed and final.")
    if referral.status == Referral.Status.CLOSED:
        _refuse(f"{referral.agency.code}'s referral of {access_request} is closed.")


def _require_undecided(access_request):
    if access_request.on_hold:
        _refuse(
            f"{access_request} is on hold while {access_request.frontier_model} is suspended: it cannot be "
            "decided until the suspension is lifted."
        )
    decision = Decision.objects.filter(access_request=access_request).select_related("decided_by").first()
    if decision is not None:
        who = decision.decided_by.full_name or decision.decided_by.email
        _refuse(
            f"{who} already decided {access_request} ({decision.get_outcome_display().lower()}) at "
            f"{timezone.localtime(decision.decided_at):%B %-d, %Y %H:%M}."
        )


def unsigned_required_referrals(access_request):
    """Required referrals whose position is not signed yet (the decision waits for them); a
    referral closed without a position (with a rescinded designation) is not waited for."""
    return list(
        access_request.referrals.filter(required=True)
        .exclude(status__in=(Referral.Status.SIGNED, Referral.Status.CLOSED))
        .select_related("agency")
    )


def non_concurring_positions(access_request):
    """Signed non-concurrences on the request: any one of them makes the case an escalation."""
    return list(
        Position.objects.filter(
            referral__access_request=access_request,
            signed_at__isnull=False,
            stance=Position.Stance.NON_CONCUR,
        ).select_related("referral__agency")
    )


def _require_all_signed(access_request):
    missing = unsigned_required_referrals(access_request)
    if missing:
        _refuse(
            "Every required agency must sign its position before the decision.",
            messages=[f"{r.agency.code} has not signed its position yet." for r in missing],
        )


def _require_draft(verb, actor, access_request, message):
    _require_vendor_on_request(verb, actor, access_request)
    if access_request.status not in TRANSITIONS[verb].states:
        _refuse(message.format(request=access_request))


def require_update_draft(actor, access_request):
    _require_draft(
        "update_draft",
        actor,
        access_request,
        "{request} has been submitted; a submitted request cannot be edited.",
    )


def require_attach_document(actor, access_request):
    _require_draft(
        "attach_document",
        actor,
        access_request,
        "Supporting documents can be added only to a draft. Once submitted, send documents with your "
        "answer to an information request.",
    )


def require_remove_document(actor, access_request):
    _require_draft(
        "remove_document",
        actor,
        access_request,
        "Documents of a submitted request are part of the record and cannot be removed.",
    )


def require_discard_draft(actor, access_request):
    _require_draft(
        "discard_draft", actor, access_request, "{request} has been submitted: withdraw it instead."
    )


def require_submit(actor, access_request):
    _require_draft("submit", actor, access_request, "{request} has already been submitted.")


def _require_returnable(verb, actor, access_request):
    require_lead_approver(actor, TRANSITIONS[verb].doing, access_request)
    if access_request.status not in TRANSITIONS[verb].states:
        _refuse(
            f"{access_request} is “{access_request.get_status_display()}”: only a request under review "
            "can be returned."
        )


def require_return_incomplete(actor, access_request):
    """The lead agency sends a request back to the vendor to fix and resubmit (same tracking number)."""
    _require_returnable("return_incomplete", actor, access_request)


def require_return_without_action(actor, access_request):
    """The lead agency closes a request without deciding it (for example: a full preview cap)."""
    _require_returnable("return_without_action", actor, access_request)


def require_withdraw(actor, access_request):
    _require_vendor_on_request("withdraw", actor, access_request)
    if access_request.status == Status.DRAFT:
        _refuse("A draft has not been submitted: discard it instead.")
    if access_request.status not in TRANSITIONS["withdraw"].states:
        _refuse(
            f"{access_request} is “{access_request.get_status_display()}”: only a request awaiting a "
            "decision can be withdrawn."
        )


def require_answer_question(actor, information_request):
    _require_vendor_on_request("answer_question", actor, information_request.access_request)
    if information_request.status != information_request.Status.OPEN:
        _refuse(
            f"This question is “{information_request.get_status_display().lower()}”; it cannot be "
            "answered now."
        )


def require_respond_to_intent(actor, access_request):
    _require_vendor_on_request("respond_to_intent", actor, access_request)
    intent = IntentToDeny.objects.filter(access_request=access_request).first()
    if intent is None or access_request.status not in TRANSITIONS["respond_to_intent"].states:
        _refuse(f"There is no intent to deny {access_request} to respond to.")
    if intent.status != IntentToDeny.Status.AWAITING_RESPONSE:
        _refuse("Your response to the intent to deny has already been recorded.")
    if timezone.localdate() > intent.respond_by:
        _refuse(f"The window to respond closed on {intent.respond_by:%B %-d, %Y}.")


def _require_on_referral(verb, actor, referral):
    transition = TRANSITIONS[verb]
    require_official(actor, referral.agency, roles=transition.roles, doing=transition.doing, obj=referral)


def require_assign_officials(actor, referral):
    _require_on_referral("assign_officials", actor, referral)
    _require_referral_active("assign_officials", referral.access_request, referral)


def require_draft_position(actor, referral):
    _require_on_referral("draft_position", actor, referral)
    if actor.role == Role.AGENCY_REVIEWER and not permissions.has_object_permission(
        actor, referral, "change"
    ):
        _refuse(f"Assign the referral to yourself before drafting {referral.agency.code}'s position.")
    _require_referral_active("draft_position", referral.access_request, referral)


def require_sign_position(actor, referral):
    _require_on_referral("sign_position", actor, referral)
    access_request, agency = referral.access_request, referral.agency
    position = Position.objects.filter(referral=referral).select_related("signed_by").first()
    if position is not None and position.is_signed:
        who = position.signed_by.full_name or position.signed_by.email
        _refuse(
            f"{who} signed {agency.code}'s position on {access_request} at "
            f"{timezone.localtime(position.signed_at):%B %-d, %Y %H:%M}; a signed position is final."
        )
    _require_referral_active("sign_position", access_request, referral)
    if position is None:
        _refuse("There is no drafted position to sign yet.")
    if agency.requires_two_persons and position.drafted_by_id == actor.pk:
        _refuse(
            f"{agency.code} requires two persons: a position you drafted must be signed by another approver."
        )


def require_draft_and_sign(actor, referral):
    """One step for an approver of an agency without the two-person rule: draft and sign at once."""
    _require_on_referral("draft_and_sign", actor, referral)
    if referral.agency.requires_two_persons:
        _refuse(
            f"{referral.agency.code} requires two persons: save the draft, and another approver signs it."
        )
    _require_referral_active("draft_and_sign", referral.access_request, referral)
    position = Position.objects.filter(referral=referral).first()
    if position is not None and position.is_signed:
        _refuse(f"{referral.agency.code}'s position on {referral.access_request} is signed and final.")


def require_ask_vendor(actor, access_request):
    agency = agency_of(actor)
    referral = (
        Referral.objects.filter(access_request=access_request, agency=agency).first() if agency else None
    )
    if referral is None:
        _refuse("Only officials of an agency the request is referred to can ask the vendor.")
    transition = TRANSITIONS["ask_vendor"]
    require_official(actor, agency, roles=transition.roles, doing=transition.doing, obj=referral)
    if access_request.status not in transition.states:
        _refuse(
            f"{access_request} is “{access_request.get_status_display()}”: the vendor can no longer be asked."
        )
    _require_not_on_hold(access_request, transition.doing)


def require_add_note(actor, access_request):
    agency = agency_of(actor)
    if agency is None or not actor.is_active:
        _refuse("Only agency officials write internal notes.")
    referred = Referral.objects.filter(access_request=access_request, agency=agency).exists()
    if access_request.status not in TRANSITIONS["add_note"].states or not referred:
        _refuse(f"{access_request} is not referred to {agency.code}.")
    if not permissions.has_object_permission(actor, access_request, "view"):
        _refuse("You may not write notes on this case.")


def _require_lead_on_case(verb, actor, access_request):
    require_lead_approver(actor, TRANSITIONS[verb].doing, access_request)
    _require_undecided(access_request)


def require_record_decision(actor, access_request):
    _require_lead_on_case("record_decision", actor, access_request)
    if access_request.status == Status.ESCALATED:
        _refuse(f"{access_request} is escalated: resolve the escalation instead.")
    if access_request.status == Status.INFO_REQUESTED:
        _refuse(f"{access_request} waits for the vendor's answer to an information request.")
    if access_request.status not in TRANSITIONS["record_decision"].states:
        _refuse(f"{access_request} is “{access_request.get_status_display()}”: it cannot be decided.")
    _require_all_signed(access_request)
    objections = non_concurring_positions(access_request)
    if objections:
        codes = ", ".join(p.referral.agency.code for p in objections)
        _refuse(f"{codes} does not concur: escalate the case instead of deciding it.")


def require_escalate(actor, access_request):
    _require_lead_on_case("escalate", actor, access_request)
    if access_request.status == Status.ESCALATED:
        _refuse(f"{access_request} is already escalated.")
    if access_request.status not in TRANSITIONS["escalate"].states:
        _refuse(f"{access_request} is “{access_request.get_status_display()}”: it cannot be escalated.")
    _require_all_signed(access_request)
    if not non_concurring_positions(access_request):
        _refuse("Every agency concurs: record the decision instead of escalating.")


def require_resolve_escalation(actor, access_request):
    _require_lead_on_case("resolve_escalation", actor, access_request)
    if access_request.status not in TRANSITIONS["resolve_escalation"].states:
        _refuse(f"{access_request} is “{access_request.get_status_display()}”, not escalated.")


def require_finalise_denial(actor, access_request):
    _require_lead_on_case("finalise_denial", actor, access_request)
    intent = IntentToDeny.objects.filter(access_request=access_request).first()
    if access_request.status not in TRANSITIONS["finalise_denial"].states or intent is None:
        _refuse("A denial follows an intent to deny: issue one first.")
    if intent.status == IntentToDeny.Status.AWAITING_RESPONSE and timezone.localdate() <= intent.respond_by:
        _refuse(
            f"The vendor has until {intent.respond_by:%B %-d, %Y} to respond; the denial can be finalised "
            "after they respond or the window closes."
        )


can_update_draft = _asks(require_update_draft, TRANSITIONS["update_draft"].doing)


can_attach_document = _asks(require_attach_document, TRANSITIONS["attach_document"].doing)


can_remove_document = _asks(require_remove_document, TRANSITIONS["remove_document"].doing)


can_discard_draft = _asks(require_discard_draft, TRANSITIONS["discard_draft"].doing)


can_submit = _asks(require_submit, TRANSITIONS["submit"].doing)


can_withdraw = _asks(require_withdraw, TRANSITIONS["withdraw"].doing)


can_answer_question = _asks(require_answer_question, TRANSITIONS["answer_question"].doing)


can_respond_to_intent = _asks(require_respond_to_intent, TRANSITIONS["respond_to_intent"].doing)


can_assign_officials = _asks(require_assign_officials, TRANSITIONS["assign_officials"].doing)


can_draft_position = _asks(require_draft_position, TRANSITIONS["draft_position"].doing)


can_sign_position = _asks(require_sign_position, TRANSITIONS["sign_position"].doing)


can_draft_and_sign = _asks(require_draft_and_sign, TRANSITIONS["draft_and_sign"].doing)


can_ask_vendor = _asks(require_ask_vendor, TRANSITIONS["ask_vendor"].doing)


can_add_note = _asks(require_add_note, TRANSITIONS["add_note"].doing)


can_record_decision = _asks(require_record_decision, TRANSITIONS["record_decision"].doing)


can_escalate = _asks(require_escalate, TRANSITIONS["escalate"].doing)


can_resolve_escalation = _asks(require_resolve_escalation, TRANSITIONS["resolve_escalation"].doing)


can_finalise_denial = _asks(require_finalise_denial, TRANSITIONS["finalise_denial"].doing)


can_return_incomplete = _asks(require_return_incomplete, TRANSITIONS["return_incomplete"].doing)


can_return_without_action = _asks(require_return_without_action, TRANSITIONS["return_without_action"].doing)
