"""Reads of background jobs that pages share."""

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
