from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        from accounts.models import SignIn
        from accounts.services import register_sign_in_ender

        # Register the OpenAPI extension for our authentication class and the JWT checks.
        from . import checks, schema  # noqa: F401
        from .token_services import token_sign_in_revoke

        # Ending a token sign-in, from either edge, must also end its tokens.
        register_sign_in_ender(SignIn.Kind.TOKEN, token_sign_in_revoke)
