from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = "Vendor registry"

    def ready(self):
        from vendors import jobs  # noqa: F401 - registers the registry's background work
