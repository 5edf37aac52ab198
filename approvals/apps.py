from django.apps import AppConfig


class ApprovalsConfig(AppConfig):
    name = "approvals"
    verbose_name = "Review and approvals"

    def ready(self):
        from approvals import signals

        signals.connect()
