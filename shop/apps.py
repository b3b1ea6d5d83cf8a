from django.apps import AppConfig


class ShopConfig(AppConfig):
    name = "shop"
    verbose_name = "Shop"

    def ready(self):
        # Connect the receiver that keeps a visitor's cart when they sign in
        # (shop/signals.py): the accounts app signs them in without knowing of carts.
        from . import signals  # noqa: F401
