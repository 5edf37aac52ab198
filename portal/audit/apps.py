from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "portal.audit"
    label = "audit"
    verbose_name = "Audit and history"

    def ready(self):
        from django.db.models.signals import post_migrate

        from portal.audit import jobs, signals  # noqa: F401 - connects the history stamp; registers the export job
        from portal.audit.chain import install_head_function

        post_migrate.connect(install_head_function, sender=self, dispatch_uid="audit_chain_head_function")
