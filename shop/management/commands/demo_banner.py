from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from shop.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print where the running site lives and how to sign in to the demo."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url, **options):
        base = url.rstrip("/")
        pages = [
            ("Storefront", reverse("shop:catalog"), "sessions, CSRF, your devices"),
            ("Compare", reverse("compare"), "start here: both models side by side"),
            ("Browser app", reverse("webclient:app"), "a JavaScript client of the API"),
            ("API docs", reverse("api:docs"), "Swagger UI; the schema is /api/schema/"),
            ("Admin", reverse("admin:index"), "as " + DEMO_ADMIN["email"]),
        ]
        width = max(len(name) for name, _, _ in pages)
        url_width = max(len(base + path) for _, path, _ in pages)
        debug = "on" if settings.DEBUG else "off"
        lines = [
            "",
            f"Sessions vs JWT shop (DEBUG {debug}; Ctrl-C stops)",
            *(
                f"  {name:<{width}}  {base + path:<{url_width}}  {what}"
                for name, path, what in pages
            ),
            f"Demo sign-ins, all with the password {DEMO_PASSWORD} (demo data only):",
            *(f"  {user['email']}" for user in DEMO_USERS),
            f"  {DEMO_ADMIN['email']} (staff, admin site)",
            "Locked out by wrong passwords? make unlock (details: manage.py lockout_clear --help)",
            "",
        ]
        self.stdout.write("\n".join(lines))
