from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "Vendor API"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The schema's token scheme, and the webhook receiver of the apps' events.
        from api import entitlement_cache, schema, webhook_hooks  # noqa: F401

        entitlement_cache.connect()  # kept entitlement answers cleared by every change
