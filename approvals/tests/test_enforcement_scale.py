"""Ten thousand active grants: the suspension takes them all in one transaction, with their history,
and the lift gives them all back. (The time is measured by ``bench_suspension.py``, not here.)"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from approvals.models import Grant
from approvals.tests.enforcement_helpers import bulk_grants, lift, suspend
from vendors.models import FrontierModel

pytestmark = pytest.mark.django_db

COUNT = 10_000


def test_ten_thousand_grants_are_suspended_and_restored_with_their_history(world):
    # given ten thousand active grants for the model (and none elsewhere)
    grants = bulk_grants(world, COUNT)
    model = world.frontier_model
    history_before = Grant.history.count()

    # when the model is pulled offline
    with CaptureQueriesContext(connection) as queries:
        action = suspend(world, expected_grants=COUNT, expected_requests=0)

    # then every grant is suspended by that action, each with one new history row naming the actor
    assert action.grants_affected == COUNT
    assert (
        Grant.objects.filter(frontier_model=model, status=Grant.Status.SUSPENDED, suspended_by=action).count()
        == COUNT
    )
    assert not Grant.objects.filter(status=Grant.Status.ACTIVE).exists()
    rows = Grant.history.filter(history_id__gt=0).count() - history_before
    assert rows == COUNT
    suspended_rows = Grant.history.filter(status=Grant.Status.SUSPENDED, history_user=world["doc_approver"])
    assert suspended_rows.count() == COUNT
    assert suspended_rows.filter(history_change_reason__contains=f"action #{action.pk}").count() == COUNT
    # and written in bulk: batches of rows, never a statement per grant
    assert len(queries) < COUNT / 10, len(queries)

    # when it is lifted, every grant comes back
    lift(world, expected_grants=COUNT)
    assert Grant.objects.filter(pk__in=[g.pk for g in grants], status=Grant.Status.ACTIVE).count() == COUNT
    assert FrontierModel.objects.get(pk=model.pk).release_phase == FrontierModel.ReleasePhase.LIMITED_PREVIEW
    assert Grant.history.count() - history_before == 2 * COUNT
