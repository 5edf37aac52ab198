"""Every transition from every state, and every role for every transition.

A request is built in each lifecycle state through the services; each verb is then tried
from each state (allowed only where the lifecycle allows it) and by each role (allowed
only for the roles DESIGN.md gives it). The cells are checked against ``policies.TRANSITIONS``
(a cell allowed here is a state and role the table allows), ``policies.can_<verb>`` must give
the same answer as the service (so a button is shown exactly when the click would work), and a
refusal is a ``PortalError`` carrying the policy's own message that leaves the request exactly
as it was.
"""

import dataclasses
import re
from datetime import timedelta

import pytest
from django.db import transaction

from approvals import policies, services
from approvals.models import AccessRequest, Escalation, Position
from approvals.tests.factories import (
    all_concur,
    build_world,
    document,
    draft,
    new_customer,
    referral,
    refresh,
    sign,
    submitted,
)
from portal.accounts.models import Role, User
from portal.errors import PortalError

pytestmark = pytest.mark.django_db


def _in_review(world, c):
    access_request = submitted(world, partner_customer=c)
    services.assign_officials(
        referral=referral(access_request, "DOC"),
        actor=world["doc_approver"],
        officials=[world["doc_reviewer"]],
    )
    return access_request


def _info_requested(world, c):
    access_request = _in_review(world, c)
    services.issue_information_request(
        access_request=access_request, actor=world["doc_reviewer"], question="Q?"
    )
    return access_request


def _drafted(world, c):
    access_request = _in_review(world, c)
    services.draft_position(
        referral=referral(access_request, "DOC"), actor=world["doc_approver2"], stance="concur"
    )
    return access_request


def _ready(world, c):
    return all_concur(world, submitted(world, partner_customer=c))


def _escalated(world, c):
    # the last signature escalates a case with a non-concurrence by itself
    access_request = submitted(world, partner_customer=c)
    sign(world, access_request, "DOC")
    sign(world, access_request, "ONCD", "non_concur", rationale="Untested controls.")
    sign(world, access_request, "OSTP")
    return access_request


def _objected(world, c):
    """A case a non-concurrence left in review before escalation became automatic (data of
    that time): the manual escalation is for it."""
    access_request = _escalated(world, c)
    Escalation.objects.filter(access_request=access_request).delete()
    AccessRequest.objects.filter(pk=access_request.pk).update(status=AccessRequest.Status.IN_REVIEW)
    return access_request


def _intent_issued(world, c):
    access_request = _escalated(world, c)
    services.resolve_escalation(
        access_request=refresh(access_request),
        actor=world["doc_approver"],
        outcome="intent_to_deny",
        rationale="No.",
    )
    return access_request


def _intent_responded(world, c):
    access_request = _intent_issued(world, c)
    services.respond_to_intent_to_deny(
        access_request=access_request, actor=world["officer"], response="Please."
    )
    return access_request


def _approved(world, c):
    access_request = _ready(world, c)
    services.record_decision(access_request=access_request, actor=world["doc_approver"])
    return access_request


def _denied(world, c):
    access_request = _intent_responded(world, c)
    services.finalise_denial(access_request=access_request, actor=world["doc_approver"])
    return access_request


def _withdrawn(world, c):
    access_request = submitted(world, partner_customer=c)
    services.withdraw_request(access_request=access_request, actor=world["officer"], reason="Not needed")
    return access_request


def _returned(world, c):
    access_request = _info_requested(world, c)
    deadline = access_request.information_requests.get().deadline
    services.return_lapsed_requests(today=deadline + timedelta(days=1))
    return access_request


STATES = {
    "draft": lambda world, c: draft(world, partner_customer=c),
    "submitted": lambda world, c: submitted(world, partner_customer=c),
    "in_review": _in_review,
    "info_requested": _info_requested,
    "drafted": _drafted,
    "ready": _ready,
    "objected": _objected,
    "escalated": _escalated,
    "intent_issued": _intent_issued,
    "intent_responded": _intent_responded,
    "approved": _approved,
    "denied": _denied,
    "withdrawn": _withdrawn,
    "returned": _returned,
}


@pytest.fixture(scope="module")
def matrix(django_db_setup, django_db_blocker):
    """The world and one request in each lifecycle state, built once for the module.

    Built inside a transaction that is rolled back when the module ends, so nothing is
    committed; each test runs in a savepoint inside it (pytest-django's per-test transaction)
    and is rolled back to the pristine states."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            world = build_world()
            # "returned" first: returning lapsed questions sweeps every request, and must not
            # reach the other states' open questions
            order = ["returned", *(state for state in STATES if state != "returned")]
            built = {state: STATES[state](world, new_customer(world)).pk for state in order}
            yield world, built
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def world_and_states(matrix, db):
    """The module's world with its people read afresh (no per-object caches carried over), in one
    query (one per person was 15 of each test's queries), each key its own instance."""
    world, built = matrix
    rows = User.objects.in_bulk([user.pk for user in world.people.values()])
    people = {}
    for key, user in world.people.items():
        people[key] = rows.pop(user.pk, None) or refresh(user)  # (a person under two keys: read again)
    return dataclasses.replace(world, people=people), built


def _question(access_request):
    return access_request.information_requests.order_by("-pk").first()


# verb: how this matrix takes it (the function, the policy verb it is, the object the policy is
# asked about). Which cells are allowed is not written here: it is generated from the table.
ACTIONS = {
    "update_draft": (
        lambda w, r, a: services.update_draft(access_request=r, actor=a, scope="Changed scope"),
        "update_draft",
        lambda r: r,
    ),
    "attach_document": (
        lambda w, r, a: services.attach_request_document(access_request=r, actor=a, uploaded_file=document()),
        "attach_document",
        lambda r: r,
    ),
    "submit": (lambda w, r, a: services.submit_request(access_request=r, actor=a), "submit", lambda r: r),
    "withdraw": (
        lambda w, r, a: services.withdraw_request(access_request=r, actor=a, reason="Changed plans"),
        "withdraw",
        lambda r: r,
    ),
    "assign": (
        lambda w, r, a: services.assign_officials(
            referral=referral(r, "DOC"), actor=a, officials=[w["doc_reviewer2"]]
        ),
        "assign_officials",
        lambda r: referral(r, "DOC"),
    ),
    "draft_position": (
        lambda w, r, a: services.draft_position(referral=referral(r, "DOC"), actor=a, stance="concur"),
        "draft_position",
        lambda r: referral(r, "DOC"),
    ),
    "sign_position": (
        lambda w, r, a: services.sign_position(referral=referral(r, "DOC"), actor=a),
        "sign_position",
        lambda r: referral(r, "DOC"),
    ),
    "ask_vendor": (
        lambda w, r, a: services.issue_information_request(access_request=r, actor=a, question="Why?"),
        "ask_vendor",
        lambda r: r,
    ),
    "answer": (
        lambda w, r, a: services.answer_information_request(
            information_request=_question(r), actor=a, answer="A."
        ),
        "answer_question",
        _question,
    ),
    "add_note": (
        lambda w, r, a: services.add_internal_note(access_request=r, actor=a, body="Note."),
        "add_note",
        lambda r: r,
    ),
    "decide": (
        lambda w, r, a: services.record_decision(access_request=r, actor=a),
        "record_decision",
        lambda r: r,
    ),
    "escalate": (
        lambda w, r, a: services.escalate_request(access_request=r, actor=a, reason="Objection."),
        "escalate",
        lambda r: r,
    ),
    "resolve": (
        lambda w, r, a: services.resolve_escalation(
            access_request=r, actor=a, outcome="approve", rationale="OK."
        ),
        "resolve_escalation",
        lambda r: r,
    ),
    "respond_to_intent": (
        lambda w, r, a: services.respond_to_intent_to_deny(access_request=r, actor=a, response="We object."),
        "respond_to_intent",
        lambda r: r,
    ),
    "finalise_denial": (
        lambda w, r, a: services.finalise_denial(access_request=r, actor=a),
        "finalise_denial",
        lambda r: r,
    ),
    "return_incomplete": (
        lambda w, r, a: services.return_incomplete(access_request=r, actor=a, reason="Incomplete."),
        "return_incomplete",
        lambda r: r,
    ),
    "return_without_action": (
        lambda w, r, a: services.return_without_action(access_request=r, actor=a, reason="Cap full."),
        "return_without_action",
        lambda r: r,
    ),
}
VERBS = list(ACTIONS)
# States in which a verb has nothing to act on at all (no question to answer, no referral yet).
NOT_APPLICABLE = {
    "answer": {s for s in STATES if s not in {"info_requested", "returned"}},
    "assign": {"draft"},
    "draft_position": {"draft"},
    "sign_position": {"draft"},
}

# -- Who: the table gives the roles; the organisation a role must belong to is the verb's scope --

# The matrix's people: their role (as the table names roles) and their organisation.
ROLE_OF = {
    "officer": "vendor_officer",
    "vendor_admin": "vendor_admin",
    "viewer": "vendor_viewer",
    "other_officer": "vendor_officer",
    "doc_reviewer": "agency_reviewer",
    "doc_approver": "agency_approver",
    "doc_admin": "agency_admin",
    "oncd_approver": "agency_approver",
    "cisa_approver": "agency_approver",
    "auditor": "auditor",
    "portal_admin": "portal_admin",
}
ORGANISATION_OF = {
    "officer": "vendor",
    "vendor_admin": "vendor",
    "viewer": "vendor",
    "other_officer": "other vendor",
    "doc_reviewer": "DOC",
    "doc_approver": "DOC",
    "doc_admin": "DOC",
    "oncd_approver": "ONCD",
    "cisa_approver": "CISA",
}
ROLES = list(ROLE_OF)
REFERRED = {"DOC", "ONCD", "OSTP"}  # a U.S. customer outside the critical-infrastructure sectors


def _names(roles):
    return " or ".join(sorted(Role(r).label.lower() + "s" for r in roles))


def _scope(transition):
    """Whose organisation may take the verb: the request's vendor, the referral's agency (DOC's
    referral here), any agency the request is referred to, or the lead agency (DOC)."""
    if transition.roles <= policies.VENDOR_ACTOR_ROLES | {Role.VENDOR_VIEWER}:
        return "vendor"
    if transition.subject == "referral":
        return "referral"
    if transition.verb in {"ask_vendor", "add_note"}:
        return "referred"
    return "lead"


def role_refusal(verb, role):
    """The refusal ``role`` gets for ``verb`` because of who they are (None: the table lets them),
    written from the table's roles and words."""
    transition = policies.TRANSITIONS[ACTIONS[verb][1]]
    organisation, allowed_role = ORGANISATION_OF.get(role), ROLE_OF[role] in transition.roles
    scope = _scope(transition)
    if scope == "vendor":
        if organisation != "vendor":
            return "Only the vendor's compliance team can do this."
        return None if allowed_role else "Viewers can follow the record but not act on it."
    if scope == "referral":
        if organisation == "DOC" and allowed_role:
            return None
        return f"Only {_names(transition.roles)} of DOC can {transition.doing}."
    if scope == "referred":
        if organisation not in REFERRED | {"CISA"}:
            return (
                "Only officials of an agency the request is referred to can ask the vendor."
                if verb == "ask_vendor"
                else "Only agency officials write internal notes."
            )
        if organisation not in REFERRED:
            return (
                "Only officials of an agency the request is referred to can ask the vendor."
                if verb == "ask_vendor"
                else f"is not referred to {organisation}."
            )
        return (
            None
            if allowed_role
            else f"Only {_names(transition.roles)} of {organisation} can {transition.doing}."
        )
    if organisation == "DOC" and allowed_role:
        return None
    return f"Only an approver of the lead agency can {transition.doing}."


# -- When: the table gives the statuses; a verb's own precondition narrows them within a status --

# (verb, state) cells whose status the table allows but whose precondition refuses, with the words.
PRECONDITIONS = {
    **{(v, s): "is signed and final" for v in ("assign", "draft_position") for s in ("ready", "objected")},
    **{
        ("sign_position", s): "There is no drafted position to sign yet."
        for s in ("submitted", "in_review", "info_requested")
    },
    **{("sign_position", s): "a signed position is final" for s in ("ready", "objected")},
    **{
        (v, s): "Every required agency must sign its position before the decision."
        for v in ("decide", "escalate")
        for s in ("submitted", "in_review", "drafted")
    },
    ("decide", "objected"): "ONCD does not concur: escalate the case instead of deciding it.",
    ("escalate", "ready"): "Every agency concurs: record the decision instead of escalating.",
    ("respond_to_intent", "escalated"): "There is no intent to deny",
    (
        "respond_to_intent",
        "intent_responded",
    ): "Your response to the intent to deny has already been recorded.",
    ("finalise_denial", "escalated"): "A denial follows an intent to deny: issue one first.",
    ("finalise_denial", "intent_issued"): "to respond; the denial can be finalised after they respond",
}
# (verb, role) cells whose role the table allows but who may not act as this matrix asks them to.
ROLE_PRECONDITIONS = {
    ("assign", "doc_reviewer"): "Reviewers can assign a referral only to themselves.",
    ("draft_position", "doc_reviewer"): "Assign the referral to yourself before drafting DOC's position.",
}
# Where the button is shown though this matrix's request is refused: a reviewer's "Assign to me".
BUTTON_SHOWN = {("assign", "doc_reviewer", ROLE_PRECONDITIONS[("assign", "doc_reviewer")])}
# The words a verb is refused with from a status the table does not allow ({state: words}, "*" for
# every other state).
STATE_REFUSALS = {
    "return_incomplete": {
        "draft": "You may not return a request as incomplete on this case.",
        "*": "only a request under review can be returned.",
    },
    "return_without_action": {
        "draft": "You may not return a request without action on this case.",
        "*": "only a request under review can be returned.",
    },
    "update_draft": {"*": "has been submitted; a submitted request cannot be edited."},
    "attach_document": {"*": "Supporting documents can be added only to a draft."},
    "submit": {"*": "has already been submitted."},
    "withdraw": {
        "draft": "A draft has not been submitted: discard it instead.",
        "*": "only a request awaiting a decision can be withdrawn.",
    },
    "assign": {"*": "you can no longer assign officials."},
    "draft_position": {"*": "you can no longer draft a position."},
    "sign_position": {
        "withdrawn": "you can no longer sign a position.",
        "returned": "you can no longer sign",
        "*": "a signed position is final.",
    },
    "ask_vendor": {
        "draft": "Only officials of an agency the request is referred to can ask the vendor.",
        "*": "the vendor can no longer be asked.",
    },
    "answer": {"*": "; it cannot be answered now."},
    "add_note": {"*": "is not referred to DOC."},
    "decide": {
        "draft": "You may not record a decision on this case.",
        "info_requested": "waits for the vendor's answer to an information request",
        "approved": "already decided",
        "denied": "already decided",
        "*": "resolve the escalation instead|it cannot be decided",
    },
    "escalate": {
        "draft": "You may not escalate a case on this case.",
        "approved": "already decided",
        "denied": "already decided",
        "escalated": "is already escalated.",
        "intent_issued": "is already escalated.",
        "intent_responded": "is already escalated.",
        "*": "it cannot be escalated.",
    },
    "resolve": {
        "draft": "You may not resolve an escalation on this case.",
        "approved": "already decided",
        "denied": "already decided",
        "*": "not escalated.",
    },
    "respond_to_intent": {"*": "There is no intent to deny"},
    "finalise_denial": {
        "draft": "You may not finalise a denial on this case.",
        "approved": "already decided",
        "denied": "already decided",
        "*": "A denial follows an intent to deny: issue one first.",
    },
}


def expected(verb, state, role):
    """None where the table (and the verb's precondition) lets ``role`` take ``verb`` from ``state``,
    else the words of the refusal."""
    transition = policies.TRANSITIONS[ACTIONS[verb][1]]
    refusal = role_refusal(verb, role)
    if refusal:
        return refusal
    if STATUS_OF[state] not in transition.states:
        words = STATE_REFUSALS[verb]
        return words.get(state, words["*"])
    return PRECONDITIONS.get((verb, state)) or ROLE_PRECONDITIONS.get((verb, role))


def allowed_states(verb, role):
    return [state for state in STATES if expected(verb, state, role) is None]


def _snapshot(access_request):
    access_request = refresh(access_request)
    return (
        access_request.status,
        access_request.version,
        sorted(access_request.referrals.values_list("agency__code", "status", "due_date")),
        sorted(access_request.information_requests.values_list("pk", "status")),
        access_request.internal_notes.count(),
        sorted(access_request.referrals.values_list("agency__code", "assigned_officials")),
        sorted(
            Position.objects.filter(referral__access_request=access_request).values_list(
                "referral__agency__code", "drafted_at", "signed_at"
            )
        ),
        access_request.documents.count(),
    )


def _try(world_and_states, verb, state, role):
    world, built = world_and_states
    function, policy_verb, subject = ACTIONS[verb]
    access_request = AccessRequest.objects.get(pk=built[state])
    before = _snapshot(access_request)
    refusal = expected(verb, state, role)
    actor, obj = world[role], subject(access_request)
    # the button (can_) says yes exactly where the table does (a role precondition is about what
    # this matrix asks, not about the button: a reviewer may take a referral on themselves)
    can = getattr(policies, f"can_{policy_verb}")(actor, obj)
    shown = refusal is None or (verb, role, refusal) in BUTTON_SHOWN
    assert can is shown, f"can_{policy_verb} from {state} by {role}"
    if refusal is None:
        function(world, access_request, actor)
        assert _snapshot(access_request) != before, f"{verb} from {state} by {role} changed nothing"
        return
    with pytest.raises(PortalError, match=refusal if "|" in refusal else re.escape(refusal)):
        function(world, access_request, actor)
    assert _snapshot(access_request) == before, f"refused {verb} from {state} by {role} left a change"


def _canonical_role(verb):
    """The first role the table lets take ``verb`` (a reviewer's questions: the DOC reviewer)."""
    return next(
        role for role in ROLES if role_refusal(verb, role) is None and (verb, role) not in ROLE_PRECONDITIONS
    )


@pytest.mark.parametrize(
    ("verb", "state"),
    [(verb, state) for verb in VERBS for state in STATES if state not in NOT_APPLICABLE.get(verb, ())],
)
def test_every_verb_from_every_state(world_and_states, verb, state):
    _try(world_and_states, verb, state, _canonical_role(verb))


@pytest.mark.parametrize(("verb", "role"), [(verb, role) for verb in VERBS for role in ROLES])
def test_every_verb_by_every_role(world_and_states, verb, role):
    state = allowed_states(verb, _canonical_role(verb))[0]
    _try(world_and_states, verb, state, role)


def test_the_states_are_what_their_names_say(world_and_states):
    _, built = world_and_states
    for state, status in STATUS_OF.items():
        assert AccessRequest.objects.get(pk=built[state]).status == status, state


STATUS_OF = {
    "draft": AccessRequest.Status.DRAFT,
    "submitted": AccessRequest.Status.SUBMITTED,
    "in_review": AccessRequest.Status.IN_REVIEW,
    "info_requested": AccessRequest.Status.INFO_REQUESTED,
    "drafted": AccessRequest.Status.IN_REVIEW,
    "ready": AccessRequest.Status.IN_REVIEW,
    "objected": AccessRequest.Status.IN_REVIEW,
    "escalated": AccessRequest.Status.ESCALATED,
    "intent_issued": AccessRequest.Status.ESCALATED,
    "intent_responded": AccessRequest.Status.ESCALATED,
    "approved": AccessRequest.Status.APPROVED,
    "denied": AccessRequest.Status.DENIED,
    "withdrawn": AccessRequest.Status.WITHDRAWN,
    "returned": AccessRequest.Status.RETURNED,
}


def test_every_verb_is_allowed_somewhere_and_refused_somewhere():
    """The generated matrix is not empty on either side: each verb has a cell the table allows
    (from the states this matrix builds) and cells it refuses."""
    for verb in VERBS:
        role = _canonical_role(verb)
        assert allowed_states(verb, role), verb
        assert len(allowed_states(verb, role)) < len(STATES), verb


def test_every_transition_of_the_table_is_tried():
    # draft_and_sign is for agencies without the two-person rule (this matrix's DOC has it):
    # approvals/tests/test_one_step_and_holds.py tries it
    assert {policy_verb for _, policy_verb, _ in ACTIONS.values()} | {
        "remove_document",
        "discard_draft",
        "draft_and_sign",
    } == set(policies.TRANSITIONS)
