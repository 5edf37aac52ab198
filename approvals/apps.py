from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Review and approvals"

    def ready(self):
        from approvals import agency_admin, signals  # noqa: F401 (agency_admin registers the admin)

        signals.connect()
        from approvals.models.dashboard import connect_signals

        connect_signals()
