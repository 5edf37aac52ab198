"""Reads of background jobs that pages share."""

from django.core.cache import cache

from portal.jobs.models import Job
from portal.permissions import visible_to


def jobs_visible_to(user):
    """Jobs of the user's own organisation that they may see (their own, or shared with their team)."""
    if user is None or not user.is_authenticated:
        return Job.objects.none()
    queryset = Job.objects.filter(organisation_id=user.organisation_id).select_related("owner")
    return visible_to(user, queryset)


def active_job_for(user, *, kind, **params):
    """The user's organisation's queued or running job of ``kind`` with these params, if any."""
    lookups = {f"params__{key}": value for key, value in params.items()}
    return jobs_visible_to(user).filter(kind=kind, status__in=Job.ACTIVE, **lookups).first()


HAS_JOBS_KEY = "jobs:has:{}"
HAS_JOBS_SECONDS = 600


def has_jobs(user):
    """Has the user any background work to see? Kept in the cache (no query on most pages); the
    answer is forgotten whenever a job they may see is asked for (``forget_has_jobs``)."""
    if user is None or not user.is_authenticated:
        return False
    key = HAS_JOBS_KEY.format(user.pk)
    answer = cache.get(key)
    if answer is None:
        answer = jobs_visible_to(user).exists()
        cache.set(key, answer, HAS_JOBS_SECONDS)
    return answer


def forget_has_jobs(user_ids):
    cache.delete_many([HAS_JOBS_KEY.format(pk) for pk in user_ids])
