"""The menus' link to background work (shown to people who have some), and the daily removal of
old result files."""

import os
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.utils import timezone

from portal.accounts.models import Role
from portal.jobs import services
from portal.jobs.models import Job
from portal.jobs.services import JobResult
from portal.permissions import grant
from portal.scheduling import jobs as scheduled_jobs
from portal.tests.factories import auditor
from vendors.tests.factories import VendorFactory, member_of

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()


def _link(page):
    return 'href="/jobs/">Background work</a>' in page.content.decode()


def test_the_vendor_menu_links_to_background_work_once_the_team_has_some(client, monkeypatch):
    vendor = VendorFactory()
    officer, teammate = member_of(vendor, Role.VENDOR_OFFICER), member_of(vendor, Role.VENDOR_OFFICER)
    outsider = member_of(VendorFactory(), Role.VENDOR_OFFICER)
    client.force_login(teammate)
    assert not _link(client.get("/vendor/"))  # nothing yet (and the answer is now cached)
    # when the officer starts an export shared with the vendor's team
    monkeypatch.setitem(services.RUNNERS, Job.Kind.CUSTOMER_EXPORT, lambda job, progress: JobResult("ok"))
    services.start_job(
        kind=Job.Kind.CUSTOMER_EXPORT,
        title="Export",
        owner=officer,
        params={},
        viewers=[vendor.members_group],
    )
    # then the teammate's menu links to it at once; another vendor's does not
    assert _link(client.get("/vendor/"))
    assert client.get("/jobs/").status_code == 200
    client.force_login(outsider)
    assert not _link(client.get("/vendor/"))


def test_the_agency_look_links_to_background_work_for_its_owner_only(client, monkeypatch, settings):
    settings.AUDIT_EXPORT_BACKGROUND_ROWS = 0
    owner, other = auditor(), auditor()
    client.force_login(owner)
    assert not _link(client.get("/admin/"))
    monkeypatch.setitem(services.RUNNERS, Job.Kind.AUDIT_EXPORT, lambda job, progress: JobResult("ok"))
    services.start_job(kind=Job.Kind.AUDIT_EXPORT, title="Audit export", owner=owner, params={})
    assert _link(client.get("/admin/"))
    client.force_login(other)
    assert not _link(client.get("/admin/"))


def _finished(owner, *, days_ago, name="export.csv"):
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_EXPORT,
        title=f"Export {days_ago} days ago",
        owner=owner,
        organisation=owner.organisation,
        status=Job.Status.SUCCEEDED,
        finished_at=timezone.now() - timedelta(days=days_ago),
        result_filename=name,
    )
    job.result_file.save(f"job-{job.pk}-{name}", ContentFile(b"a,b\n1,2\n"), save=True)
    return job


def test_result_files_older_than_the_retention_are_removed_with_history(
    client, settings, django_capture_on_commit_callbacks
):
    settings.JOBS_RESULT_RETENTION_DAYS = 30
    owner = member_of(VendorFactory(), Role.VENDOR_OFFICER)
    old, recent = _finished(owner, days_ago=31), _finished(owner, days_ago=29)
    for job in (old, recent):
        grant("view", owner, job)
    old_path = old.result_file.path
    with django_capture_on_commit_callbacks(execute=True):  # the file goes once the row says so
        assert services.prune_results() == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    # the old file is gone from the disk and from the row, with when and why in its history
    assert not old.result_file
    assert old.result_removed_at is not None
    assert not os.path.exists(old_path)
    assert os.path.exists(recent.result_file.path)
    latest = old.history.latest()
    assert (
        latest.history_change_reason == "Result file export.csv removed: kept 30 days after the job finished"
    )
    assert latest.history_user.email  # the system account
    # the job's page says so, the download is gone, the recent one still downloads
    client.force_login(owner)
    page = client.get(f"/jobs/{old.pk}/").content.decode()
    assert "The file export.csv was removed on" in page
    assert client.get(f"/jobs/{old.pk}/download/").status_code == 404
    assert client.get(f"/jobs/{recent.pk}/download/").status_code == 200
    # a second run finds nothing more; 0 keeps everything
    assert services.prune_results() == 0
    settings.JOBS_RESULT_RETENTION_DAYS = 0
    assert services.prune_results(now=timezone.now() + timedelta(days=365)) == 0
    assert recent.result_file.storage.exists(recent.result_file.name)


def test_the_pruning_is_a_scheduled_job():
    task, _schedule, _ = scheduled_jobs()["jobs-prune-results"]
    assert task == "jobs.prune_results"
    from portal.jobs.tasks import prune_results

    assert prune_results.name == task
