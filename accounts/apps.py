from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-ins"

    def ready(self):
        # Connect the receivers that end sign-ins whoever changes a user (accounts/signals.py).
        from . import signals  # noqa: F401
