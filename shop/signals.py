"""
Carry a visitor's anonymous cart into their account when they sign in.

The accounts app signs people in and knows nothing of carts. Every storefront sign-in goes
through django.contrib.auth.login() (accounts.sessions.session_sign_in calls it), which
sends ``user_logged_in`` once the session is the user's: the shop joins in there.
ShopConfig.ready connects the receiver.
"""

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from .session_cart import session_cart_adopt


@receiver(user_logged_in, dispatch_uid="shop.adopt_the_anonymous_cart")
def _adopt_the_anonymous_cart(sender, request, user, **kwargs):
    # A login() outside a browser request (a script, a test's force_login without a
    # session) has no visitor's cart to carry.
    if request is None or not hasattr(request, "session"):
        return
    session_cart_adopt(request, user=user)
