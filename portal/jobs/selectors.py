"""Reads of background jobs that pages share."""

import logging

from django.core.cache import cache

from portal.jobs.models import Job
from portal.permissions import visible_to

logger = logging.getLogger(__name__)


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
HAS_JOBS_SECONDS = 24 * 60 * 60
# a "no" is asked again sooner: on the embedded default each server process has its own cache,
# and a job asked for through another process marks only that one's
HAS_NO_JOBS_SECONDS = 5 * 60


def has_jobs(user):
    """Has the user any background work to see? Kept in the cache: worked out when they sign in
    (``apps``), set when a job they may see is asked for (``mark_has_jobs``; jobs are never deleted,
    so the answer only ever turns to yes), so that pages ask the database nothing for it."""
    if user is None or not user.is_authenticated:
        return False
    key = HAS_JOBS_KEY.format(user.pk)
    try:
        answer = cache.get(key)
    except Exception as exc:  # noqa: BLE001 - a cache outage must not stop a sign-in or a page
        logger.warning("Cache unavailable for the jobs link: %s", exc)
        return jobs_visible_to(user).exists()
    if answer is None:
        answer = jobs_visible_to(user).exists()
        try:
            cache.set(key, answer, HAS_JOBS_SECONDS if answer else HAS_NO_JOBS_SECONDS)
        except Exception as exc:  # noqa: BLE001
            logger.warning("Cache unavailable for the jobs link: %s", exc)
    return answer


def mark_has_jobs(user_ids):
    try:
        cache.set_many({HAS_JOBS_KEY.format(pk): True for pk in user_ids}, HAS_JOBS_SECONDS)
    except Exception as exc:  # noqa: BLE001 - the job is asked for all the same; the link follows
        logger.warning("Cache unavailable: the jobs link shows after its %s s: %s", HAS_NO_JOBS_SECONDS, exc)
