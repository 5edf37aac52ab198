"""Two officials acting at the same moment (PostgreSQL: real row locks, two connections)."""

import threading

import pytest
from django.db import connection

from approvals import services
from approvals.models import Decision, Position
from approvals.tests.factories import (
    all_concur,
    build_world,
    draft,
    new_customer,
    referral,
    refresh,
    submitted,
)
from portal.errors import PortalError

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def race(*calls):
    """Run each call on its own thread and connection, released together; return outcomes."""
    barrier = threading.Barrier(len(calls))
    outcomes = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=10)
            outcomes[index] = ("ok", call())
        except PortalError as exc:
            outcomes[index] = ("refused", exc.message)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes[index] = ("crashed", repr(exc))
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def test_two_approvers_signing_at_once_one_wins_the_other_is_told(postgres_only):
    world = build_world()
    access_request = submitted(world)
    doc = referral(access_request, "DOC")
    services.draft_position(referral=doc, actor=world["doc_approver"], stance="concur")
    outcomes = race(
        lambda: services.sign_position(referral=doc, actor=world["doc_approver"]),
        lambda: services.sign_position(referral=doc, actor=world["doc_approver2"]),
    )
    kinds = sorted(kind for kind, _ in outcomes)
    assert kinds == ["ok", "refused"], outcomes
    message = next(text for kind, text in outcomes if kind == "refused")
    position = Position.objects.get(referral=doc)
    assert f"{position.signed_by.full_name} signed DOC's position" in message
    assert "a signed position is final" in message
    assert position.history.filter(signed_at__isnull=False).count() == 1


def test_two_lead_approvers_deciding_at_once_make_one_decision(postgres_only):
    world = build_world()
    access_request = all_concur(world, submitted(world))
    outcomes = race(
        lambda: services.record_decision(access_request=access_request, actor=world["doc_approver"]),
        lambda: services.record_decision(access_request=access_request, actor=world["doc_approver2"]),
    )
    assert sorted(kind for kind, _ in outcomes) == ["ok", "refused"], outcomes
    assert Decision.objects.count() == 1
    assert "already decided" in next(text for kind, text in outcomes if kind == "refused")
    assert refresh(access_request).grant is not None


def test_simultaneous_submissions_draw_distinct_sequential_numbers(postgres_only):
    world = build_world()
    drafts = [draft(world, partner_customer=new_customer(world)) for _ in range(4)]
    outcomes = race(
        *[
            lambda d=d: services.submit_request(access_request=d, actor=world["officer"]).tracking_number
            for d in drafts
        ]
    )
    assert all(kind == "ok" for kind, _ in outcomes), outcomes
    numbers = sorted(number for _, number in outcomes)
    year = numbers[0][4:8]
    assert numbers == [f"FAR-{year}-{n:06d}" for n in range(1, 5)]
