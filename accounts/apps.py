from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and sign-ins"

    def ready(self):
        # Register the deploy check on the lockout's store.
        from . import checks  # noqa: F401
