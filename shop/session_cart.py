"""
Which cart a storefront request is about: the signed-in user's, or an anonymous visitor's
found through a token kept in their session. The carts themselves live in shop.services.
"""

from . import selectors, services
from .models import Cart

CART_SESSION_KEY = "cart_token"


def session_cart_get(request) -> Cart | None:
    """Return the request's cart without creating one."""
    if request.user.is_authenticated:
        return selectors.cart_get_for_user(user=request.user)
    return selectors.cart_get_anonymous(token=request.session.get(CART_SESSION_KEY))


def session_cart_get_or_create(request) -> Cart:
    """Return the request's cart, creating it (and remembering an anonymous one) if needed."""
    if request.user.is_authenticated:
        return services.cart_get_or_create_for_user(user=request.user)
    cart = session_cart_get(request)
    if cart is None:
        cart = services.cart_create_anonymous()
        request.session[CART_SESSION_KEY] = cart.anonymous_token
    return cart


def session_cart_adopt(request, *, user) -> None:
    """Carry the visitor's anonymous cart, if any, into the user's cart after sign-in."""
    token = request.session.pop(CART_SESSION_KEY, None)
    source = selectors.cart_get_anonymous(token=token)
    if source is None:
        return
    target = services.cart_get_or_create_for_user(user=user)
    services.cart_merge(source=source, target=target)
