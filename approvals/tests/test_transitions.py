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


def _returned_incomplete(world, c):
    access_request = submitted(world, partner_customer=c)
    services.return_incomplete(access_request=access_request, actor=world["doc_approver"], reason="Fix it.")
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
    "returned_incomplete": _returned_incomplete,
}
UNDER_REVIEW = {"submitted", "in_review", "info_requested", "drafted", "ready", "objected"}
OPEN = UNDER_REVIEW | {"escalated", "intent_issued", "intent_responded"}
EDITABLE = {"draft", "returned_incomplete"}
UNDECIDED_REFERRALS = {"submitted", "in_review", "info_requested", "drafted"}


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
    """The module's world with its people read afresh (no per-object caches carried over)."""
    world, built = matrix
    fresh = dataclasses.replace(world, people={key: refresh(user) for key, user in world.people.items()})
    return fresh, built


def _question(access_request):
    return access_request.information_requests.order_by("-pk").first()


# verb: (function(world, access_request, actor), states it is allowed from, roles allowed)
VERBS = {
    "update_draft": (
        lambda w, r, a: services.update_draft(access_request=r, actor=a, scope="Changed scope"),
        EDITABLE,
        {"officer", "vendor_admin"},
    ),
    "attach_document": (
        lambda w, r, a: services.attach_request_document(access_request=r, actor=a, uploaded_file=document()),
        EDITABLE,
        {"officer", "vendor_admin"},
    ),
    "submit": (
        lambda w, r, a: services.submit_request(access_request=r, actor=a),
        EDITABLE,
        {"officer", "vendor_admin"},
    ),
    "withdraw": (
        lambda w, r, a: services.withdraw_request(access_request=r, actor=a, reason="Changed plans"),
        OPEN | {"returned_incomplete"},
        {"officer", "vendor_admin"},
    ),
    "assign": (
        lambda w, r, a: services.assign_officials(
            referral=referral(r, "DOC"), actor=a, officials=[w["doc_reviewer2"]]
        ),
        UNDECIDED_REFERRALS,
        {"doc_approver", "doc_admin"},
    ),
    "draft_position": (
        lambda w, r, a: services.draft_position(referral=referral(r, "DOC"), actor=a, stance="concur"),
        UNDECIDED_REFERRALS,
        {"doc_approver"},
    ),
    "sign_position": (
        lambda w, r, a: services.sign_position(referral=referral(r, "DOC"), actor=a),
        {"drafted"},
        {"doc_approver"},
    ),
    "draft_and_sign": (
        lambda w, r, a: services.draft_and_sign_position(
            referral=referral(r, "DOC"), actor=a, stance="concur"
        ),
        UNDECIDED_REFERRALS,
        {"doc_approver"},
    ),
    "ask_vendor": (
        lambda w, r, a: services.issue_information_request(access_request=r, actor=a, question="Why?"),
        UNDER_REVIEW,
        {"doc_reviewer", "doc_approver", "oncd_approver"},
    ),
    "answer": (
        lambda w, r, a: services.answer_information_request(
            information_request=_question(r), actor=a, answer="A."
        ),
        {"info_requested"},
        {"officer", "vendor_admin"},
    ),
    "add_note": (
        lambda w, r, a: services.add_internal_note(access_request=r, actor=a, body="Note."),
        set(STATES) - {"draft"},
        {"doc_reviewer", "doc_approver", "doc_admin", "oncd_approver"},
    ),
    "decide": (
        lambda w, r, a: services.record_decision(access_request=r, actor=a),
        {"ready"},
        {"doc_approver"},
    ),
    "escalate": (
        lambda w, r, a: services.escalate_request(access_request=r, actor=a, reason="Objection."),
        {"objected"},
        {"doc_approver"},
    ),
    "resolve": (
        lambda w, r, a: services.resolve_escalation(
            access_request=r, actor=a, outcome="approve", rationale="OK."
        ),
        {"escalated", "intent_issued", "intent_responded"},
        {"doc_approver"},
    ),
    "respond_to_intent": (
        lambda w, r, a: services.respond_to_intent_to_deny(access_request=r, actor=a, response="We object."),
        {"intent_issued"},
        {"officer", "vendor_admin"},
    ),
    "finalise_denial": (
        lambda w, r, a: services.finalise_denial(access_request=r, actor=a),
        {"intent_responded"},
        {"doc_approver"},
    ),
    "return_incomplete": (
        lambda w, r, a: services.return_incomplete(access_request=r, actor=a, reason="Incomplete."),
        OPEN,
        {"doc_approver"},
    ),
    "return_without_action": (
        lambda w, r, a: services.return_without_action(access_request=r, actor=a, reason="Cap full."),
        OPEN,
        {"doc_approver"},
    ),
}
# States in which a verb has nothing to act on at all (no question to answer, no referral yet).
NOT_APPLICABLE = {
    "answer": {s for s in STATES if s not in {"info_requested", "returned"}},
    "assign": {"draft"},
    "draft_position": {"draft"},
    "sign_position": {"draft"},
    "draft_and_sign": {"draft"},
}
# test verb: (policy verb, the object the policy is asked about)
POLICY = {
    "update_draft": ("update_draft", lambda r: r),
    "attach_document": ("attach_document", lambda r: r),
    "submit": ("submit", lambda r: r),
    "withdraw": ("withdraw", lambda r: r),
    "assign": ("assign_officials", lambda r: referral(r, "DOC")),
    "draft_position": ("draft_position", lambda r: referral(r, "DOC")),
    "sign_position": ("sign_position", lambda r: referral(r, "DOC")),
    "draft_and_sign": ("draft_and_sign", lambda r: referral(r, "DOC")),
    "ask_vendor": ("ask_vendor", lambda r: r),
    "answer": ("answer_question", _question),
    "add_note": ("add_note", lambda r: r),
    "decide": ("record_decision", lambda r: r),
    "escalate": ("escalate", lambda r: r),
    "resolve": ("resolve_escalation", lambda r: r),
    "respond_to_intent": ("respond_to_intent", lambda r: r),
    "finalise_denial": ("finalise_denial", lambda r: r),
    "return_incomplete": ("return_incomplete", lambda r: r),
    "return_without_action": ("return_without_action", lambda r: r),
}
# Cells where the policy lets the person act, but not in the way this matrix asks: a reviewer
# may take a referral on themselves ("Assign to me"), not assign a colleague.
INPUT_REFUSALS = {("assign", "doc_reviewer"): "Reviewers can assign a referral only to themselves."}
ROLES = [
    "officer",
    "vendor_admin",
    "viewer",
    "other_officer",
    "doc_reviewer",
    "doc_approver",
    "doc_admin",
    "oncd_approver",
    "cisa_approver",
    "auditor",
    "portal_admin",
]


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
    function, allowed_states, allowed_roles = VERBS[verb]
    access_request = AccessRequest.objects.get(pk=built[state])
    before = _snapshot(access_request)
    allowed = state in allowed_states and role in allowed_roles
    policy_verb, subject = POLICY[verb]
    actor, obj = world[role], subject(access_request)
    # the button (can_) and the service agree; where the policy allows the person but the
    # service refuses what this test asks of them, the refusal is that input's own message
    refused_input = INPUT_REFUSALS.get((verb, role)) if state in allowed_states else None
    can = getattr(policies, f"can_{policy_verb}")(actor, obj)
    assert can is (allowed or refused_input is not None), f"can_{policy_verb} from {state} by {role}"
    if allowed:
        function(world, access_request, world[role])
        assert _snapshot(access_request) != before, f"{verb} from {state} by {role} changed nothing"
    else:
        if refused_input is None:
            with pytest.raises(PortalError) as refusal:
                getattr(policies, f"require_{policy_verb}")(actor, obj)
            refused_input = refusal.value.message
        with pytest.raises(PortalError, match=re.escape(refused_input)):
            function(world, access_request, world[role])
        assert _snapshot(access_request) == before, f"refused {verb} from {state} by {role} left a change"


def _canonical_role(verb):
    return sorted(VERBS[verb][2])[0] if verb != "ask_vendor" else "doc_reviewer"


@pytest.mark.parametrize(
    ("verb", "state"),
    [(verb, state) for verb in VERBS for state in STATES if state not in NOT_APPLICABLE.get(verb, ())],
)
def test_every_verb_from_every_state(world_and_states, verb, state):
    _try(world_and_states, verb, state, _canonical_role(verb))


@pytest.mark.parametrize(("verb", "role"), [(verb, role) for verb in VERBS for role in ROLES])
def test_every_verb_by_every_role(world_and_states, verb, role):
    state = sorted(VERBS[verb][1], key=list(STATES).index)[0]
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
    "returned_incomplete": AccessRequest.Status.RETURNED_INCOMPLETE,
}
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


@pytest.mark.parametrize("verb", list(VERBS))
def test_the_matrix_allows_only_what_the_transition_table_allows(verb):
    """Every cell this matrix expects to succeed is a state and a role that the table allows."""
    transition = policies.TRANSITIONS[POLICY[verb][0]]
    _, allowed_states, allowed_roles = VERBS[verb]
    assert {STATUS_OF[state] for state in allowed_states} <= set(transition.states)
    assert {ROLE_OF[role] for role in allowed_roles} <= set(transition.roles)


def test_every_transition_of_the_table_is_tried():
    assert {policy_verb for policy_verb, _ in POLICY.values()} | {"remove_document", "discard_draft"} == set(
        policies.TRANSITIONS
    )
