from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "REST API"

    def ready(self):
        # Register the OpenAPI extension for our authentication class and the JWT checks.
        from . import checks, schema  # noqa: F401
