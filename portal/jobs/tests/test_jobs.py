"""Background jobs: the audit export as a job, who sees it, claiming, failing, the sweep."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from portal.jobs import services
from portal.jobs.models import Job
from portal.jobs.services import JobResult
from portal.tests.factories import agency_user, auditor, vendor_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_a_large_audit_export_is_written_in_the_background_for_its_owner_only(
    client, settings, django_capture_on_commit_callbacks
):
    # given an auditor and a portal where any range counts as large
    settings.AUDIT_EXPORT_BACKGROUND_ROWS = 0
    owner, other_auditor, official = auditor(), auditor(), agency_user()
    vendor_user()  # some history in range
    client.force_login(owner)
    url = reverse("admin:audit_export")
    today = timezone.localdate()
    query = {"start": (today - timedelta(days=1)).isoformat(), "end": today.isoformat(), "format": "csv"}
    # when they ask for the range, the page offers the background instead of a download
    page = client.get(url, query)
    assert page.status_code == 200
    assert "Prepare the file in the background" in page.content.decode()
    assert Job.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, query)
    # then a job of the auditor's wrote the file, and the page leads to it
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.kind == Job.Kind.AUDIT_EXPORT
    assert job.result_filename.endswith(".csv")
    detail = client.get(response["Location"]).content.decode()
    assert "changes written to" in detail
    assert 'id="job-progress"' not in detail
    download = client.get(reverse("jobs:download", args=[job.pk]))
    text = b"".join(download.streaming_content).decode()
    assert text.startswith("at,model,record")
    assert "\nchain head," in text
    # and nobody else sees it: not another auditor, not an official
    for user in (other_auditor, official):
        client.force_login(user)
        for name in ("jobs:detail", "jobs:status", "jobs:download"):
            assert client.get(reverse(name, args=[job.pk])).status_code == 404


def test_a_small_audit_range_still_downloads_at_once(client):
    client.force_login(auditor())
    today = timezone.localdate().isoformat()
    response = client.get(reverse("admin:audit_export"), {"start": today, "end": today, "format": "csv"})
    assert response["Content-Disposition"].startswith("attachment;")
    assert Job.objects.count() == 0


def _job(owner, **fields):
    return Job.objects.create(
        kind=Job.Kind.CUSTOMER_EXPORT,
        title="Test job",
        owner=owner,
        organisation=owner.organisation,
        **fields,
    )


def test_a_job_is_run_once_and_an_abandoned_one_again(monkeypatch):
    owner = vendor_user()
    calls = []
    monkeypatch.setitem(
        services.RUNNERS,
        Job.Kind.CUSTOMER_EXPORT,
        lambda job, progress: calls.append(job.pk) or JobResult("ok"),
    )
    job = _job(owner)
    assert services.run(job.pk).status == Job.Status.SUCCEEDED
    assert services.run(job.pk) is None  # a second delivery of the same task does nothing
    assert calls == [job.pk]
    # a job left running by a worker that died an hour ago is taken up again
    stale = _job(owner, status=Job.Status.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    fresh = _job(owner, status=Job.Status.RUNNING, started_at=timezone.now())
    assert services.claim(fresh.pk) is None
    assert services.claim(stale.pk).status == Job.Status.RUNNING
    assert stale.history.latest().history_change_reason == "Started again: the worker running it stopped"


def test_an_unexpected_error_fails_the_job_with_a_message_for_the_person(monkeypatch):
    owner = vendor_user()

    def broken(job, progress):
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(services.RUNNERS, Job.Kind.CUSTOMER_EXPORT, broken)
    job = services.run(_job(owner).pk)
    assert job.status == Job.Status.FAILED
    assert job.error.startswith("The portal stopped this work because of an error on its side")
    assert "disk on fire" not in job.error


def test_the_sweep_queues_what_the_broker_never_got(monkeypatch):
    owner = vendor_user()
    queued = []
    monkeypatch.setattr(services, "enqueue", queued.append)
    old = _job(owner, created_at=timezone.now() - timedelta(minutes=5))
    _job(owner)  # just asked for: its task is on its way
    _job(owner, status=Job.Status.SUCCEEDED, created_at=timezone.now() - timedelta(days=1))
    assert services.sweep() == [old.pk]
    assert queued == [old.pk]


@pytest.mark.django_db(transaction=True)
def test_on_the_embedded_default_a_job_runs_beside_the_request_that_asked_for_it(monkeypatch, settings):
    """Tasks in-process (the embedded default): the job runs in a thread of the serving process,
    so the request that asked for it returns at once, and the job's page can follow it."""
    import threading
    import time

    from django.db import connection, transaction

    from conftest import require_service

    require_service(
        "A PostgreSQL test database",
        connection.vendor == "postgresql",
        "SQLite's in-memory test database (shared cache) refuses a read while another connection "
        "writes instead of waiting, unlike the embedded default's file (WAL); run with DATABASE_URL",
    )
    settings.JOBS_IN_A_THREAD = True
    started, release = threading.Event(), threading.Event()

    def slow(job, progress):
        started.set()
        assert release.wait(20), "the test never let the job finish"
        return JobResult(summary="Exported in the background.")

    monkeypatch.setitem(services.RUNNERS, Job.Kind.CUSTOMER_EXPORT, slow)
    owner = vendor_user()
    # when a job is asked for, the asking code gets its answer while the job still runs
    with transaction.atomic():
        job = services.start_job(
            kind=Job.Kind.CUSTOMER_EXPORT, title="Export", owner=owner, params={}, total=1
        )
    assert started.wait(20), "the job did not start"
    job.refresh_from_db()
    assert job.status == Job.Status.RUNNING
    # then it finishes on its own
    release.set()
    deadline = time.monotonic() + 20
    while job.status == Job.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
        job.refresh_from_db()
    assert job.status == Job.Status.SUCCEEDED, job.error
    assert job.result_summary == "Exported in the background."
