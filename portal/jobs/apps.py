from django.apps import AppConfig
from django.contrib.auth.signals import user_logged_in


def _remember_whether_they_have_jobs(sender, request, user, **kwargs):
    """Work out at sign-in whether the menu links to background work (pages then ask the cache)."""
    from portal.jobs.selectors import has_jobs

    has_jobs(user)


class JobsConfig(AppConfig):
    name = "portal.jobs"
    label = "jobs"
    verbose_name = "Background work"

    def ready(self):
        user_logged_in.connect(_remember_whether_they_have_jobs, dispatch_uid="jobs-has-jobs")
