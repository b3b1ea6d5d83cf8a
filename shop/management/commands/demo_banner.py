from django.core.management.base import BaseCommand
from django.urls import reverse

from shop.demo import DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERS


class Command(BaseCommand):
    help = "Print where the running site lives and how to sign in to the demo."

    def add_arguments(self, parser):
        parser.add_argument("--url", default="http://127.0.0.1:8000")

    def handle(self, *args, url, **options):
        base = url.rstrip("/")
        lines = [
            "",
            "Sessions vs JWT shop",
            f"  Storefront  {base}{reverse('shop:catalog')}",
            f"  API docs    {base}{reverse('api:docs')}",
            f"  Admin       {base}{reverse('admin:index')}",
            "Demo sign-ins (password for all: " + DEMO_PASSWORD + ")",
            *(f"  {user['email']}" for user in DEMO_USERS),
            f"  {DEMO_ADMIN['email']} (staff, admin site)",
            "",
        ]
        self.stdout.write("\n".join(lines))
