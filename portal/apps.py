from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Frontier Access Portal"

    def ready(self):
        from portal.observability import tasks  # noqa: F401 - connects the Celery signal handlers
