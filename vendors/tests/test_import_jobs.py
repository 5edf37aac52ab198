"""Large customer imports and exports run as background jobs: pages, who sees them, the result.

The job pages themselves live in ``portal/jobs``; these tests drive them through the registry's
work, in-process (the embedded default) and, for one import, through a real Celery worker.
"""

import time

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from portal.jobs.models import Job
from portal.notifications.models import Notification
from vendors import services
from vendors.models import CustomerImport, PartnerCustomer
from vendors.tests.factories import PartnerCustomerFactory
from vendors.tests.test_imports import csv_file, row
from vendors.tests.test_views_vendor import csv_upload

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_threshold(settings):
    """Five rows count as "large", so that a test needs no thousands of rows."""
    settings.CUSTOMER_IMPORT_BACKGROUND_ROWS = 5
    settings.CUSTOMER_EXPORT_BACKGROUND_ROWS = 3


def _upload_and_confirm(client, django_capture_on_commit_callbacks, rows):
    client.post(reverse("vendors:customer_import"), {"file": csv_upload(rows)})
    customer_import = CustomerImport.objects.latest("pk")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    return customer_import, response


def test_a_large_import_returns_at_once_with_a_job_page_and_a_mail_when_done(
    client, world, small_threshold, django_capture_on_commit_callbacks
):
    # given an officer who uploaded and checked a file of ten customers
    client.force_login(world.officer)
    client.post(
        reverse("vendors:customer_import"), {"file": csv_upload([{"legal_name": f"N{i}"} for i in range(10)])}
    )
    customer_import = CustomerImport.objects.get()
    preview = client.get(
        reverse("vendors:customer_import_preview", args=[customer_import.pk])
    ).content.decode()
    assert "imported in the background" in preview
    # when they confirm it
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    # then they are sent to the job's page, and the job (run in-process here) imported every row
    job = Job.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    assert job.kind == Job.Kind.CUSTOMER_IMPORT
    assert job.owner == world.officer
    assert job.status == Job.Status.SUCCEEDED
    assert (job.done, job.total) == (10, 10)
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 10
    customer_import.refresh_from_db()
    assert customer_import.status == CustomerImport.Status.IMPORTED
    page = client.get(response["Location"]).content.decode()
    assert "10 partner customers imported from customers.csv." in page
    assert reverse("vendors:customer_list") in page
    assert 'id="job-progress"' not in page
    # and the job's history names the officer at each change of status
    reasons = [h.history_change_reason for h in job.history.order_by("history_id")]
    assert reasons == [
        "Asked for by " + world.officer.email,
        "Started in the background",
        "Finished in the background",
    ]
    assert {h.history_user for h in job.history.all()} == {world.officer}
    # and the officer is mailed, with a link to the job
    notification = Notification.objects.get(event="job_succeeded")
    assert notification.recipient == world.officer
    assert notification.link == reverse("jobs:detail", args=[job.pk])
    assert any(
        "Import of customers.csv" in m.subject and "10 partner customers" in m.body for m in mail.outbox
    )


def test_a_job_still_running_shows_a_progress_bar_that_works_without_javascript(client, world):
    # given a job that has not finished
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=csv_file([row(n) for n in range(8)]), actor=world.officer
    )
    job = services.start_customer_import_job(customer_import=customer_import, actor=world.officer)
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING, done=3, phase="Writing the customers")
    client.force_login(world.viewer)
    # when a member of the vendor opens its page
    page = client.get(reverse("jobs:detail", args=[job.pk])).content.decode()
    # then it shows a bar, a refresh link for a browser without JavaScript, and the polling script
    assert '<progress id="job-progress" class="portal-job__bar" max="8" value="3">37%</progress>' in page
    assert f'href="{reverse("jobs:detail", args=[job.pk])}">Refresh to see the progress' in page
    assert "portal/job_progress.js" in page
    assert "<script>" not in page
    status = client.get(reverse("jobs:status", args=[job.pk])).json()
    assert status == {
        "status": "running",
        "status_label": "Running",
        "done": 3,
        "total": 8,
        "percent": 37,
        "phase": "Writing the customers",
        "finished": False,
    }
    # and asking for the import again gives the same job rather than a second one
    again = services.start_customer_import_job(customer_import=customer_import, actor=world.officer)
    assert again.pk == job.pk
    assert Job.objects.count() == 1


def test_a_failed_import_shows_each_problem_and_imports_nothing(
    client, world, small_threshold, django_capture_on_commit_callbacks
):
    # given a checked file of eight customers, one of which is registered meanwhile
    client.force_login(world.officer)
    client.post(
        reverse("vendors:customer_import"), {"file": csv_upload([{"legal_name": f"N{i}"} for i in range(8)])}
    )
    customer_import = CustomerImport.objects.get()
    PartnerCustomerFactory(vendor=world.vendor, legal_name="N4", country="DE")
    # when the import runs
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    # then the job failed with the service's message and the bad row, and nothing was imported
    job = Job.objects.get()
    assert job.status == Job.Status.FAILED
    assert job.error == "Nothing was imported: 1 row need fixing."
    assert len(job.error_details) == 1
    assert job.error_details[0].startswith("Row 6: N4 (Germany) is already one")
    assert PartnerCustomer.objects.filter(vendor=world.vendor).count() == 1
    page = client.get(response["Location"]).content.decode()
    assert "It did not work" in page
    assert "Row 6: N4 (Germany)" in page
    assert Notification.objects.get(event="job_failed").recipient == world.officer


@pytest.mark.parametrize(
    ("role", "status"),
    [("officer", 200), ("admin", 200), ("viewer", 200), ("other_admin", 404), ("agency", 404)],
)
def test_a_job_is_seen_by_its_vendors_members_only(
    client, world, small_threshold, django_capture_on_commit_callbacks, role, status
):
    # given an export job of the vendor's officer, finished with a file
    for n in range(4):
        PartnerCustomerFactory(vendor=world.vendor, legal_name=f"Export {n} Ltd")
    client.force_login(world.officer)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vendors:customer_export"))
    job = Job.objects.get()
    assert response["Location"] == reverse("jobs:detail", args=[job.pk])
    # when someone opens its pages
    client.force_login(world.user(role))
    # then its vendor's members see them and everyone else gets 404, as for a job that does not exist
    for name in ("jobs:detail", "jobs:status", "jobs:download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == status, name
        assert client.get(reverse(name, args=[job.pk + 1000])).status_code == 404
    listing = client.get(reverse("jobs:list")).content.decode()
    assert (reverse("jobs:detail", args=[job.pk]) in listing) == (status == 200)


def test_anonymous_visitors_are_sent_to_sign_in(client, world):
    customer_import = services.preview_customer_import(
        vendor=world.vendor, uploaded_file=csv_file([row(1)]), actor=world.officer
    )
    job = services.start_customer_import_job(customer_import=customer_import, actor=world.officer)
    response = client.get(reverse("jobs:detail", args=[job.pk]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_a_large_export_is_asked_for_by_post_and_downloaded_from_the_job(
    client, world, small_threshold, django_capture_on_commit_callbacks
):
    for n in range(4):
        PartnerCustomerFactory(vendor=world.vendor, legal_name=f"Export {n} Ltd", country="DE")
    PartnerCustomerFactory(vendor=world.other_vendor, legal_name="Not Ours Ltd")
    client.force_login(world.viewer)
    # a GET explains and asks; it starts nothing
    page = client.get(reverse("vendors:customer_export") + "?country=DE").content.decode()
    assert "Export 4 partner customers" in page
    assert Job.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("vendors:customer_export") + "?country=DE")
    job = Job.objects.get()
    assert job.status == Job.Status.SUCCEEDED
    assert job.params == {
        "vendor_id": world.vendor.pk,
        "filters": {"country": "DE"},
    }
    download = client.get(reverse("jobs:download", args=[job.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="partner-customers.csv"'
    text = b"".join(download.streaming_content).decode("utf-8-sig")
    assert sorted(line.split(",")[0] for line in text.splitlines()[1:]) == [
        f"Export {n} Ltd" for n in range(4)
    ]
    assert client.get(response["Location"]).status_code == 200


def test_a_small_import_still_runs_in_the_request(client, world):
    client.force_login(world.officer)
    client.post(reverse("vendors:customer_import"), {"file": csv_upload([{}] * 1)})
    customer_import = CustomerImport.objects.get()
    response = client.post(reverse("vendors:customer_import_preview", args=[customer_import.pk]))
    assert response["Location"] == reverse("vendors:customer_list")
    assert Job.objects.count() == 0


def test_progress_is_seen_from_outside_the_imports_transaction(transactional_db, postgres_only):
    from portal.jobs.progress import Progress
    from portal.tests.factories import vendor_user

    owner = vendor_user()
    job = Job.objects.create(
        kind=Job.Kind.CUSTOMER_IMPORT, title="t", owner=owner, organisation=owner.organisation
    )
    progress = Progress(job.pk, interval=0)
    try:
        with transaction.atomic():
            progress(40, 100, "Writing the customers")
            # read committed: this statement sees what the progress connection committed
            assert Job.objects.values_list("done", "total", "phase").get(pk=job.pk) == (
                40,
                100,
                "Writing the customers",
            )
            transaction.set_rollback(True)
    finally:
        progress.close()
    assert Job.objects.get(pk=job.pk).done == 40


@pytest.fixture
def worker_media(settings, monkeypatch):
    """The worker process reads the uploaded file from the test's media folder."""
    monkeypatch.setenv("PORTAL_MEDIA_ROOT", str(settings.MEDIA_ROOT))


@pytest.mark.integration
def test_an_import_runs_in_a_real_worker_with_progress_and_a_mail(
    worker_media, celery_worker_process, monkeypatch
):
    from portal.accounts.models import Role
    from portal.jobs import services as job_services
    from vendors.tests.factories import VendorFactory, member_of

    # given a checked file of 1,200 customers, and a job asked for but not queued by this process
    vendor = VendorFactory()
    officer = member_of(vendor, Role.VENDOR_OFFICER)
    customer_import = services.preview_customer_import(
        vendor=vendor, uploaded_file=csv_file([row(n) for n in range(1200)]), actor=officer
    )
    monkeypatch.setattr(job_services, "enqueue", lambda job_id: None)
    job = services.start_customer_import_job(customer_import=customer_import, actor=officer)
    # when it is delivered through Redis to a real worker
    celery_worker_process.send("jobs.run_job", job.pk)
    seen = set()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        job.refresh_from_db()
        seen.add((job.status, job.done))
        if not job.is_active:
            break
        time.sleep(0.05)
    # then the worker imported every row as the officer, and said so
    assert job.status == Job.Status.SUCCEEDED, (job.error, celery_worker_process.log())
    assert job.result_summary == "1,200 partner customers imported from customers.csv."
    assert PartnerCustomer.objects.filter(vendor=vendor).count() == 1200
    assert PartnerCustomer.history.filter(history_user=officer).count() == 1200
    assert Notification.objects.filter(event="job_succeeded", recipient=officer).count() == 1
    assert "jobs.run_job" in celery_worker_process.log()
    # and the progress was readable while the import's transaction was open
    assert all(done <= 1200 for _, done in seen)
    assert any(status == Job.Status.RUNNING for status, _ in seen), seen
