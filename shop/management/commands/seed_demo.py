from decimal import Decimal

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.text import slugify

from shop.demo import ADJECTIVES, CATEGORIES, DEMO_ADMIN, DEMO_PASSWORD, DEMO_USERS
from shop.models import Category, Product


class Command(BaseCommand):
    help = "Load the demo catalog and accounts. Safe to run again: existing rows are kept."

    @transaction.atomic
    def handle(self, *args, **options):
        created_products = 0
        for c_index, (category_name, items) in enumerate(CATEGORIES.items()):
            category, _ = Category.objects.get_or_create(
                slug=slugify(category_name), defaults={"name": category_name}
            )
            for i_index, item in enumerate(items):
                for a_index, adjective in enumerate(ADJECTIVES):
                    name = f"{adjective} {item}"
                    seed = c_index * 100 + i_index * 10 + a_index
                    _, created = Product.objects.get_or_create(
                        slug=slugify(name),
                        defaults={
                            "category": category,
                            "name": name,
                            "description": f"A {adjective.lower()} {item.lower()} "
                            f"from our {category_name.lower()} range.",
                            "price": Decimal(4 + seed % 96) + Decimal("0.99"),
                            "stock": 5 + (seed * 7) % 60,
                        },
                    )
                    created_products += created

        User = get_user_model()
        for fields in DEMO_USERS:
            if not User.objects.filter(email=fields["email"]).exists():
                User.objects.create_user(password=DEMO_PASSWORD, **fields)
        if not User.objects.filter(email=DEMO_ADMIN["email"]).exists():
            User.objects.create_superuser(password=DEMO_PASSWORD, **DEMO_ADMIN)

        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {Product.objects.count()} products "
                f"({created_products} new), {User.objects.count()} users."
            )
        )
