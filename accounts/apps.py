from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-ins"

    def ready(self):
        # Register the deploy check on the lockout's store, and connect the receivers that
        # end sign-ins whoever changes a user (accounts/signals.py).
        from . import checks, signals  # noqa: F401
