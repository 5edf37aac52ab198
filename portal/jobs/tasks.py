"""Celery tasks of background jobs (thin: each calls one service)."""

from celery import shared_task


@shared_task(name="jobs.run_job")
def run_job(job_id):
    """Run one job asked for by a person (``services.start_job`` queues it after commit)."""
    from portal.jobs import services

    job = services.run(job_id)
    return job.status if job is not None else None


@shared_task(name="jobs.sweep")
def sweep():
    """Every few minutes: queue again jobs the broker never got or a dead worker left running."""
    from portal.jobs import services

    return len(services.sweep())


@shared_task(name="jobs.prune_results")
def prune_results():
    """Daily: remove the result files of jobs finished more than JOBS_RESULT_RETENTION_DAYS ago."""
    from portal.jobs import services

    return services.prune_results()
