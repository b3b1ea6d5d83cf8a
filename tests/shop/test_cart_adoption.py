"""The shop keeps a visitor's cart through Django's user_logged_in (shop/signals.py)."""

import pytest
from django.contrib.auth.signals import user_logged_in
from django.test import RequestFactory

from shop import services
from shop.models import Cart
from shop.session_cart import CART_SESSION_KEY
from tests.support.factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_any_sign_in_of_the_session_carries_the_visitors_cart(client, user):
    anonymous = services.cart_create_anonymous()
    product = ProductFactory(stock=5)
    services.cart_add_item(cart=anonymous, product=product, quantity=2)
    session = client.session
    session[CART_SESSION_KEY] = anonymous.anonymous_token
    session.save()

    # force_login() calls django.contrib.auth.login() on this session, as the storefront does.
    client.force_login(user)

    cart = Cart.objects.get(user=user)
    assert [(line.product, line.quantity) for line in cart.lines.all()] == [(product, 2)]
    assert not Cart.objects.filter(pk=anonymous.pk).exists()


def test_a_sign_in_without_a_session_carries_no_cart(user):
    user_logged_in.send(sender=type(user), request=None, user=user)
    user_logged_in.send(sender=type(user), request=RequestFactory().get("/"), user=user)
    assert not Cart.objects.filter(user=user).exists()
