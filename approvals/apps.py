from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Review and approvals"

    def ready(self):
        from approvals import agency_admin, jobs, signals  # noqa: F401 (agency_admin registers the admin,
        # jobs the enforcement cascades run in the background)

        signals.connect()
        from approvals.models.dashboard import connect_signals

        connect_signals()
