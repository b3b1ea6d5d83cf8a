from django.apps import AppConfig


class WebclientConfig(AppConfig):
    """The browser client at /app/: plain JavaScript over the JWT API, tokens in memory."""

    name = "webclient"
    verbose_name = "Browser client"
