"""Every change to a background job: asking for one, claiming it, finishing or failing it.

A job is written in the transaction of the person's request and queued after it commits
(``start_job``); the Celery task (``tasks.run_job``) claims it, calls the runner registered for
its kind, and ends it with ``succeed``/``fail``, each of which mails the person who asked.
Runners live with the work they do (``vendors/jobs.py``, ``portal/audit/jobs.py``) and register
here, so that ``portal`` never imports the apps.
"""

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connections, transaction
from django.urls import reverse
from django.utils import timezone

from portal.audit.history import save_with_history
from portal.errors import PortalError
from portal.jobs.models import Job
from portal.jobs.progress import Progress
from portal.jobs.selectors import mark_has_jobs
from portal.notifications.services import notify
from portal.permissions import grant

logger = logging.getLogger(__name__)

RUNNERS = {}
# A job left ``running`` this long ago by a worker that died is taken up again. Its work was one
# transaction, rolled back with the worker, so running it again is safe.
STALE_AFTER = timedelta(hours=1)
# A job still ``queued`` this long after it was asked for was not handed to the broker (it was
# down); the sweep queues it again.
QUEUED_GRACE = timedelta(minutes=2)


@dataclass
class JobResult:
    """What a runner returns: a summary line, and a page to open and/or a file to download."""

    summary: str
    link: str = ""
    content: bytes | None = None
    filename: str = ""
    content_type: str = ""


def register_runner(kind, runner):
    """``runner(job, progress) -> JobResult``; raises ``PortalError`` to fail with its message."""
    RUNNERS[kind] = runner


@transaction.atomic
def start_job(*, kind, title, owner, params, total=0, viewers=()):
    """Ask for long work; the task is queued when the caller's transaction commits.

    The person who asks may see the job; so may each of ``viewers`` (users or groups, for
    example a vendor's members). Nobody outside the owner's organisation ever does.
    """
    if kind not in RUNNERS:
        raise PortalError("The portal cannot do this kind of work in the background.")
    job = Job(
        kind=kind,
        title=title[:200],
        owner=owner,
        organisation_id=owner.organisation_id,
        params=params,
        total=total,
    )
    save_with_history(job, actor=owner, reason=f"Asked for by {owner.email}")
    grant("view", owner, job)
    seers = {owner.pk}
    for viewer in viewers:
        grant("view", viewer, job)
        seers.update(
            viewer.user_set.values_list("pk", flat=True) if hasattr(viewer, "user_set") else [viewer.pk]
        )
    mark_has_jobs(seers)  # their menus now link to the list of jobs
    transaction.on_commit(lambda: enqueue(job.pk))
    return job


def enqueue(job_id):
    """Hand a job to the broker; never raises (a job that cannot be queued waits for the sweep)."""
    from portal.jobs.tasks import run_job

    if run_job.app.conf.task_always_eager and settings.JOBS_IN_A_THREAD:
        threading.Thread(target=_run_in_a_thread, args=(job_id,), name=f"job-{job_id}", daemon=True).start()
        return
    try:
        run_job.delay(job_id)
    except Exception as exc:
        if run_job.app.conf.task_always_eager:
            raise
        logger.warning("Broker unreachable; job %s left for the sweep: %s", job_id, exc)


def _run_in_a_thread(job_id):
    """The embedded default's worker: the task in this process, with a connection of its own.
    A job cut short by the server stopping is taken up again as abandoned (``claim``)."""
    from portal.jobs.tasks import run_job

    try:
        run_job.apply(args=(job_id,))
    except Exception:
        logger.exception("Background job %s failed in its thread", job_id)
    finally:
        connections.close_all()


def claim(job_id, *, now=None):
    """Move a queued (or abandoned running) job to ``running``; None when it is not to be run."""
    now = now or timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).select_related("owner").first()
        if job is None:
            return None
        abandoned = job.status == Job.Status.RUNNING and job.started_at and job.started_at < now - STALE_AFTER
        if job.status != Job.Status.QUEUED and not abandoned:
            return None
        job.status = Job.Status.RUNNING
        job.started_at = now
        job.done = 0
        reason = "Started again: the worker running it stopped" if abandoned else "Started in the background"
        save_with_history(job, actor=job.owner, reason=reason, update_fields=["status", "started_at", "done"])
        return job


def run(job_id):
    """Claim the job, run it, and record how it ended. Called by the Celery task only."""
    job = claim(job_id)
    if job is None:
        return None
    progress = Progress(job.pk)
    try:
        result = RUNNERS[job.kind](job, progress)
    except PortalError as error:
        return fail(job=job, message=error.message, details=error.messages)
    except Exception:
        logger.exception("Background job %s (%s) failed", job.pk, job.kind)
        return fail(
            job=job,
            message="The portal stopped this work because of an error on its side; nothing was changed. "
            "Try again, and tell the portal's administrators if it happens again.",
        )
    finally:
        progress.close()
    return succeed(job=job, result=result)


@transaction.atomic
def succeed(*, job, result):
    job = Job.objects.select_for_update().select_related("owner").get(pk=job.pk)
    job.status = Job.Status.SUCCEEDED
    job.finished_at = timezone.now()
    job.done = job.total
    job.phase = ""
    job.result_summary = result.summary[:500]
    job.result_link = result.link
    fields = ["status", "finished_at", "done", "phase", "result_summary", "result_link"]
    if result.content is not None:
        job.result_filename = result.filename[:200]
        job.result_content_type = result.content_type
        job.result_file.save(f"job-{job.pk}-{result.filename}"[:120], ContentFile(result.content), save=False)
        fields += ["result_file", "result_filename", "result_content_type"]
    save_with_history(job, actor=job.owner, reason="Finished in the background", update_fields=fields)
    _tell_owner(job, event="job_succeeded", subject=f"Finished: {job.title}")
    return job


@transaction.atomic
def fail(*, job, message, details=()):
    job = Job.objects.select_for_update().select_related("owner").get(pk=job.pk)
    job.status = Job.Status.FAILED
    job.finished_at = timezone.now()
    job.phase = ""
    job.error = message
    job.error_details = [str(d) for d in details if str(d) != message][:2000]
    save_with_history(
        job,
        actor=job.owner,
        reason="Failed in the background",
        update_fields=["status", "finished_at", "phase", "error", "error_details"],
    )
    _tell_owner(job, event="job_failed", subject=f"Failed: {job.title}")
    return job


def _tell_owner(job, *, event, subject):
    notify(
        event=event,
        recipients=[job.owner],
        subject=subject,
        context={
            "job_title": job.title,
            "summary": job.result_summary if job.status == Job.Status.SUCCEEDED else job.error,
            "problem_count": len(job.error_details),
        },
        link=reverse("jobs:detail", args=[job.pk]),
        key=f"job:{job.pk}",
        object_label=f"Job {job.pk}",
    )


def sweep(*, now=None):
    """Queue again what the broker never got and what a dead worker left running. Returns the ids."""
    now = now or timezone.now()
    waiting = Job.objects.filter(status=Job.Status.QUEUED, created_at__lt=now - QUEUED_GRACE)
    abandoned = Job.objects.filter(status=Job.Status.RUNNING, started_at__lt=now - STALE_AFTER)
    ids = list(waiting.values_list("pk", flat=True)) + list(abandoned.values_list("pk", flat=True))
    for job_id in ids:
        enqueue(job_id)
    return ids


RESULT_RETENTION_DAYS = 30


def result_retention_days():
    """Days a job's result file is kept after the job finished (``JOBS_RESULT_RETENTION_DAYS``;
    0 keeps them for ever)."""
    from django.conf import settings

    return int(getattr(settings, "JOBS_RESULT_RETENTION_DAYS", RESULT_RETENTION_DAYS))


def prune_results(*, now=None):
    """Remove the result files of jobs finished more than the retention period ago. The job stays
    listed, with its summary; its history says when and why the file went. Returns how many."""
    from portal.accounts.services import system_user

    days = result_retention_days()
    if days <= 0:
        return 0
    now = now or timezone.now()
    old = (
        Job.objects.filter(finished_at__lt=now - timedelta(days=days), result_removed_at__isnull=True)
        .exclude(result_file="")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    actor = system_user()
    removed = 0
    for job_id in list(old):
        with transaction.atomic():
            job = Job.objects.select_for_update().filter(pk=job_id, result_removed_at__isnull=True).first()
            if job is None or not job.result_file:
                continue
            name, storage = job.result_file.name, job.result_file.storage
            job.result_file = ""
            job.result_removed_at = now
            save_with_history(
                job,
                actor=actor,
                reason=f"Result file {job.result_filename or name} removed: "
                f"kept {days} days after the job finished",
                update_fields=["result_file", "result_removed_at"],
            )
            transaction.on_commit(lambda name=name, storage=storage: _delete_file(storage, name))
            removed += 1
    logger.info(
        "Jobs: removed %s result file(s) older than %s days", removed, days, extra={"removed": removed}
    )
    return removed


def _delete_file(storage, name):
    try:
        storage.delete(name)
    except OSError as exc:  # the row already says it is gone; a file left behind is only space
        logger.warning("Jobs: could not delete %s: %s", name, exc)
