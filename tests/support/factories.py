"""factory_boy factories for the suite's models: users, sign-ins, catalog, carts."""

from datetime import timedelta
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from accounts.models import SignIn
from shop.models import Cart, CartLine, Category, Product
from tests.support.storefront import FIREFOX_ON_LINUX


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Test"
    last_name = factory.Sequence(lambda n: f"User{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery-staple")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class SignInFactory(factory.django.DjangoModelFactory):
    """
    A live sign-in of a new user, as the sign-in index records it: a browser session, or
    with ``token=True`` an API token chain. Only the row: no session is stored and no token
    is issued (pass ``session_key`` to tie the row to a stored session).
    """

    class Meta:
        model = SignIn

    class Params:
        token = factory.Trait(kind=SignIn.Kind.TOKEN)

    user = factory.SubFactory(UserFactory)
    kind = SignIn.Kind.SESSION
    ip_address = "127.0.0.1"
    user_agent = FIREFOX_ON_LINUX
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=1))


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    category = factory.SubFactory(CategoryFactory)
    name = factory.Sequence(lambda n: f"Product {n}")
    slug = factory.Sequence(lambda n: f"product-{n}")
    description = "A product for tests."
    price = Decimal("10.00")
    stock = 10
    is_active = True


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    user = factory.SubFactory(UserFactory)


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    product = factory.SubFactory(ProductFactory)
    quantity = 1
