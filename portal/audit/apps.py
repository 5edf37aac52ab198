from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "Audit and history"

    def ready(self):
        from portal.audit import signals  # noqa: F401 - connects the history stamp
