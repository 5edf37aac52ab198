from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "portal.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        from portal.accounts import signals  # noqa: F401  (connects the sign-in recorders)
