"""Issue 18: a suspension changes the state in its own transaction; the notice's PDF, the cut-off
attestations and the mail follow once it commits (``approvals.services.followthrough``), once,
and a process stopped in between leaves it to the scheduled sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from approvals import services
from approvals.models import CutoffAttestation, EnforcementAction, Grant
from approvals.services import partner_notices
from approvals.tests.enforcement_helpers import BASIS, approved
from approvals.tests.factories import new_customer
from portal.notifications.models import Notification

pytestmark = pytest.mark.django_db


def _what_followed(action):
    action.refresh_from_db()
    letter = action.letter
    return {
        "followed": action.followed_through_at is not None,
        "attestations": CutoffAttestation.objects.filter(suspension=action).count(),
        "mails": Notification.objects.filter(event="model_suspended").count(),
        "contacts told": Notification.objects.filter(event=partner_notices.SUSPENDED_EVENT).count(),
        "pdf": bool(letter.pdf),
    }


def _suspend(world):
    return services.suspend_model(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)


def test_the_follow_through_runs_when_the_suspension_commits_and_not_before(
    world, letters_pdf, django_capture_on_commit_callbacks
):
    approved(world, partner_customer=new_customer(world, security_contact_email="soc@first.example"))
    approved(world, partner_customer=new_customer(world, security_contact_email="soc@second.example"))

    with django_capture_on_commit_callbacks() as callbacks:
        action = _suspend(world)
        # the state changed in the suspension's transaction ...
        assert Grant.objects.filter(suspended_by=action).count() == 2
        assert action.letter.reference.startswith("ENF-")
        # ... and nothing of what follows it yet
        assert _what_followed(action) == {
            "followed": False,
            "attestations": 0,
            "mails": 0,
            "contacts told": 0,
            "pdf": False,
        }

    for callback in callbacks:
        callback()
    after = _what_followed(action)
    assert after["followed"]
    assert after["pdf"]
    assert after["attestations"] == 2
    assert after["contacts told"] == 2
    assert after["mails"] > 0
    vendor_mail = Notification.objects.filter(event="model_suspended", recipient=world["vendor_admin"]).get()
    assert vendor_mail.attachment_path == action.letter.pdf.name  # the PDF typeset before the mail
    assert vendor_mail.object_label == f"{action.letter.reference} · {world.frontier_model}"  # its reference
    reasons = list(action.history.values_list("history_change_reason", flat=True))
    assert any(
        r.startswith("Followed through: the notice typeset, 2 cut-off attestations asked") for r in reasons
    )


def test_the_follow_through_happens_once(world):
    approved(world)
    action = _suspend(world)
    assert services.follow_through_suspension(action.pk) is not None
    before = _what_followed(action)
    assert services.follow_through_suspension(action.pk) is None
    assert _what_followed(action) == before
    assert CutoffAttestation.objects.filter(suspension=action).count() == 1


def test_a_follow_through_cut_short_is_finished_by_the_sweep(world, monkeypatch):
    approved(world)
    action = _suspend(world)  # its process stopped before the commit's callback ran

    def typesetter_down(letter):
        raise OSError("disk full")

    monkeypatch.setattr("approvals.services.followthrough.typeset_letter", typesetter_down)
    later = timezone.now() + timedelta(minutes=3)
    assert services.follow_through_pending(now=later) == []  # failed: all of it rolled back
    assert _what_followed(action)["attestations"] == 0
    assert EnforcementAction.objects.get(pk=action.pk).followed_through_at is None

    monkeypatch.undo()
    assert services.follow_through_pending(now=timezone.now()) == []  # too young: its own process's
    assert services.follow_through_pending(now=later) == [action.pk]
    assert _what_followed(action)["attestations"] == 1
    assert services.follow_through_pending(now=later) == []


def test_a_failing_follow_through_does_not_fail_the_suspension_that_committed(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    approved(world)

    def typesetter_down(letter):
        raise OSError("disk full")

    monkeypatch.setattr("approvals.services.followthrough.typeset_letter", typesetter_down)
    with django_capture_on_commit_callbacks(execute=True):
        action = _suspend(world)  # no exception reaches whoever gave the order
    assert Grant.objects.filter(suspended_by=action).count() == 1
    assert _what_followed(action)["followed"] is False  # left to the sweep
