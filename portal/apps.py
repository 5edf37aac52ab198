from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = "Frontier Access Portal"

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.observability import tasks  # noqa: F401 - connects the Celery signal handlers
        from portal.permissions import forget_kept_permissions

        post_migrate.connect(forget_kept_permissions, dispatch_uid="portal_forget_kept_permissions")
