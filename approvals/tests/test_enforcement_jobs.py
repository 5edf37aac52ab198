"""Enforcement cascades in the background (issue 17): the order returns at once with the job's page;
the job does the whole cascade in one transaction or nothing; who sees the job; the mail."""

import pytest

from approvals import services
from approvals.agency_admin import enforcement_orders
from approvals.models import EnforcementAction, Grant
from approvals.tests.enforcement_helpers import BASE, BASIS, approved, order, shown_records, suspend_url, text
from approvals.tests.factories import new_customer, refresh, submitted
from portal.jobs import services as job_services
from portal.jobs.models import Job
from portal.notifications.models import Notification
from vendors.models import FrontierModel

pytestmark = pytest.mark.django_db
Phase = FrontierModel.ReleasePhase


def _ask(client, world, url=None):
    """Give the order without running its job (as on a worker that has not picked it up yet)."""
    url = url or suspend_url(world)
    page = text(client.get(url))
    response = client.post(url, {**BASIS, "shown_records": shown_records(page)})
    assert response.status_code == 302, text(response)
    job = Job.objects.get(pk=int(response["Location"].rstrip("/").split("/")[-1]))
    return response, job


def test_the_order_returns_at_once_and_the_job_does_the_cascade(client, world):
    grants = [approved(world) for _ in range(2)]
    waiting = submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    response, job = _ask(client, world)
    # the request answered before anything was suspended: the job waits for its worker
    assert (job.status, job.kind, job.owner) == (
        Job.Status.QUEUED,
        Job.Kind.ENFORCEMENT,
        world["doc_approver"],
    )
    assert job.total == 3  # two grants and one request, for the bar
    assert not EnforcementAction.objects.exists()
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    page = text(client.get(response["Location"]))
    assert 'id="job-progress"' in page
    assert "Waiting to start" in page
    # when the worker runs it: everything at once, linked from the job, mailed to the official
    job = job_services.run(job.pk)
    assert job.status == Job.Status.SUCCEEDED, job.error
    action = EnforcementAction.objects.get()
    assert (action.kind, action.taken_by) == (EnforcementAction.Kind.SUSPEND_MODEL, world["doc_approver"])
    assert all(refresh(g).status == Grant.Status.SUSPENDED for g in grants)
    assert refresh(waiting).on_hold
    assert job.result_link == f"{BASE}{action.pk}/change/"
    assert "2 grant(s) suspended" in job.result_summary
    mail = Notification.objects.get(event="job_succeeded", recipient=world["doc_approver"])
    assert mail.link == f"/jobs/{job.pk}/"
    page = text(client.get(response["Location"]))
    assert "Open the enforcement action" in page
    assert f"Back to {world.frontier_model}" in page


def test_a_refusal_under_the_lock_fails_the_job_and_changes_nothing(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    _, job = _ask(client, world)
    arriving = approved(world)  # a grant is made after the order, before the worker runs it
    job = job_services.run(job.pk)
    assert job.status == Job.Status.FAILED
    assert "Nothing was done: the records this page showed changed" in job.error
    assert arriving.access_request.tracking_number in job.error
    assert not EnforcementAction.objects.exists()
    assert not Grant.objects.filter(status=Grant.Status.SUSPENDED).exists()
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW
    page = text(client.get(f"/jobs/{job.pk}/"))
    assert "It did not work" in page
    assert f'href="{BASE}models/{world.frontier_model.pk}/"' in page  # back to confirm again
    assert Notification.objects.filter(event="job_failed", recipient=world["doc_approver"]).exists()


def test_an_error_midway_leaves_nothing_half_written(client, world, monkeypatch):
    grants = [approved(world) for _ in range(3)]
    client.force_login(world["doc_approver"])
    _, job = _ask(client, world)

    def broken(action):  # the letter is written after the grants are suspended
        raise RuntimeError("disk full")

    monkeypatch.setattr("approvals.services.suspension.issue_enforcement_letter", broken)
    job = job_services.run(job.pk)
    assert job.status == Job.Status.FAILED
    assert "nothing was changed" in job.error
    assert "disk full" not in job.error
    assert not EnforcementAction.objects.exists()
    assert all(refresh(g).status == Grant.Status.ACTIVE for g in grants)
    assert refresh(world.frontier_model).release_phase == Phase.LIMITED_PREVIEW


def test_an_order_made_moot_meanwhile_says_who_acted(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    _, job = _ask(client, world)
    action = services.suspend_model(
        frontier_model=world.frontier_model, actor=world["doc_approver2"], **BASIS
    )
    job = job_services.run(job.pk)
    assert job.status == Job.Status.FAILED
    assert "was already pulled offline by" in job.error
    assert f"(action #{action.pk})" in job.error
    assert EnforcementAction.objects.count() == 1


def test_only_the_official_who_gave_the_order_sees_the_job(client, world):
    approved(world)
    client.force_login(world["doc_approver"])
    _, job = _ask(client, world)
    # the same official's second press while it waits leads to the same job, not a second one
    again = client.post(suspend_url(world), {**BASIS}, follow=False)
    assert again["Location"] == f"/jobs/{job.pk}/"
    assert Job.objects.count() == 1
    # another official who may read the model: no job page, and their own order is refused
    client.force_login(world["oncd_approver"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
    assert client.get(f"/jobs/{job.pk}/status/").status_code == 404
    client.force_login(world["doc_approver2"])
    page = text(client.get(suspend_url(world)))
    refused = client.post(suspend_url(world), {**BASIS, "shown_records": shown_records(page)})
    assert refused.status_code == 200
    assert "is being carried out now" in text(refused)
    assert Job.objects.count() == 1
    # another organisation's people: 404
    for who in ("officer", "other_officer", "auditor"):
        client.force_login(world[who])
        assert client.get(f"/jobs/{job.pk}/").status_code == 404, who
        assert client.get(f"/jobs/{job.pk}/status/").status_code == 404, who


def test_designation_and_rescission_run_as_jobs(client, world, django_capture_on_commit_callbacks):
    submitted(world, partner_customer=new_customer(world))
    client.force_login(world["doc_approver"])
    url = f"{BASE}vendors/{world.vendor.pk}/designate/"
    page = text(client.get(url))
    _, job = order(
        client, url, {**BASIS, "shown_records": shown_records(page)}, django_capture_on_commit_callbacks
    )
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "designated a supply-chain risk" in job.result_summary
    assert refresh(world.vendor).is_supply_chain_risk
    url = f"{BASE}vendors/{world.vendor.pk}/rescind/"
    page = text(client.get(url))
    data = {**BASIS, "close_referrals": "on", "shown_records": shown_records(page)}
    _, job = order(client, url, data, django_capture_on_commit_callbacks)
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert "1 referral(s) it caused are closed" in job.result_summary
    assert not refresh(world.vendor).is_supply_chain_risk
    assert job.result_link.endswith(f"/{EnforcementAction.objects.latest('pk').pk}/change/")


def test_a_service_that_reports_progress_is_given_the_bar():
    reported, plain = [], []

    def counting(*, progress=None, **kwargs):
        progress(5, 10)
        return kwargs

    enforcement_orders.call_service(counting, lambda done, total: reported.append((done, total)), x=1)
    assert reported == [(5, 10)]
    assert enforcement_orders.call_service(lambda **kwargs: kwargs, plain.append, x=1) == {"x": 1}
    assert plain == []


def test_the_suspension_s_summary_says_whether_everyone_was_told(world, monkeypatch):
    approved(world)

    def order():
        return enforcement_orders.carry_out_suspend(
            world["doc_approver"], world.frontier_model, dict(BASIS), lambda done, total: None
        )

    # a test's transaction never commits: the follow-through has not run, and the summary says so
    _, summary = order()
    assert "held up by an error; the portal tries again within five minutes" in summary
    assert "Everyone concerned has been told" not in summary
    services.lift_suspension(frontier_model=world.frontier_model, actor=world["doc_approver"], **BASIS)
    # as on a worker, where it runs as the suspension commits
    monkeypatch.setattr(
        "approvals.services.followthrough.after_commit",
        lambda action: services.follow_through_suspension(action.pk),
    )
    _, summary = order()
    assert "Everyone concerned has been told." in summary
