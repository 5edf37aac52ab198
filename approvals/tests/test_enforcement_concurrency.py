"""Enforcement racing other actions (PostgreSQL: real row locks, two connections at once)."""

import pytest

from approvals import services
from approvals.models import AccessRequest, EnforcementAction, Grant
from approvals.tests.enforcement_helpers import BASIS, approved
from approvals.tests.factories import all_concur, build_world, new_customer, refresh, submitted
from approvals.tests.test_concurrency import race

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_two_approvers_pulling_a_model_offline_at_once_suspend_it_once(postgres_only):
    world = build_world()
    grants = [approved(world) for _ in range(3)]
    outcomes = race(
        lambda: services.suspend_model(
            frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS
        ),
        lambda: services.suspend_model(
            frontier_model=world.frontier_model, actor=world["doc_approver2"], **BASIS
        ),
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    assert "already suspended" in next(text for kind, text in outcomes if kind == "refused")
    assert EnforcementAction.objects.count() == 1
    for grant in grants:
        assert refresh(grant).status == Grant.Status.SUSPENDED
        assert grant.history.filter(status=Grant.Status.SUSPENDED).count() == 1


def test_a_decision_racing_a_suspension_never_leaves_an_active_grant(postgres_only):
    # given a request every agency concurs with, for a model about to be pulled offline
    world = build_world()
    approved(world)
    access_request = all_concur(world, submitted(world, partner_customer=new_customer(world)))
    # when the decision and the suspension are taken at the same moment
    outcomes = race(
        lambda: services.record_decision(access_request=access_request, actor=world["doc_approver2"]),
        lambda: services.suspend_model(
            frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS
        ),
    )
    # then either the decision came first and its grant was suspended with the rest, or the
    # suspension came first and the request waits on hold: never an active grant, never a crash
    assert "crashed" not in [kind for kind, _ in outcomes], outcomes
    assert outcomes[1][0] == "ok"
    assert not Grant.objects.filter(frontier_model=world.frontier_model, status=Grant.Status.ACTIVE).exists()
    request = refresh(access_request)
    if outcomes[0][0] == "ok":
        assert refresh(request.grant).status == Grant.Status.SUSPENDED
    else:
        assert request.on_hold
        assert request.status == AccessRequest.Status.IN_REVIEW


def test_a_revocation_racing_the_lift_leaves_the_grant_revoked(postgres_only):
    world = build_world()
    grant, other = approved(world), approved(world)
    services.suspend_model(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    outcomes = race(
        lambda: services.revoke_grant(grant=grant, actor=world["doc_approver"], **BASIS),
        lambda: services.lift_suspension(
            frontier_model=world.frontier_model, actor=world["doc_approver2"], **BASIS
        ),
    )
    assert [kind for kind, _ in outcomes] == ["ok", "ok"], outcomes
    assert refresh(grant).status == Grant.Status.REVOKED
    assert refresh(other).status == Grant.Status.ACTIVE
