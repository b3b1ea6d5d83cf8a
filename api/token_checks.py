"""
What the API checks of an access token on each request: its signature, claims and expiry;
with ``JWT_ACCESS_DENYLIST``, whether its sign-in has ended; in ``db`` mode (and wherever a
view needs the account), the user it names.

The stock path is simplejwt's: the token is verified on every request and the user loaded
through the ORM, with the checks ``JWTAuthentication.get_user`` makes. With
``settings.AUTH_FAST_PATH`` (read on every call) the verification is remembered and the user
loaded by a compiled query, both from ``fastpath.jwt``, imported only then; the denylist
and the user's checks run either way.
"""

from django.conf import settings
from django.core.cache import cache
from rest_framework_simplejwt.exceptions import TokenError

from accounts.models import User

from .tokens import SID_CLAIM, USER_ID_CLAIM, AccessToken, issued_under_current_password


def access_token_verified(raw_token: bytes) -> AccessToken:
    """
    Return the access token after checking its signature, claims and expiry; raise
    TokenError otherwise.
    """
    if settings.AUTH_FAST_PATH:
        from fastpath import jwt as fast_jwt

        return fast_jwt.verified_once(raw_token, verify=AccessToken)
    return AccessToken(raw_token)


def denylist_key(sign_in_id) -> str:
    """Return the cache key that refuses the access tokens of an ended sign-in."""
    return f"jwt-deny:{sign_in_id}"


def access_token_denied(token: AccessToken) -> bool:
    """Return whether the token's sign-in is on the denylist (one Redis GET)."""
    return cache.get(denylist_key(token[SID_CLAIM])) is not None


def sign_ins_denied(*, sign_in_ids) -> set[str]:
    """Return, as strings, which of these sign-ins are on the access-token denylist now."""
    keys = {denylist_key(sign_in_id): str(sign_in_id) for sign_in_id in sign_in_ids}
    if not keys:
        return set()
    return {keys[key] for key in cache.get_many(list(keys))}


def access_token_user(token: AccessToken) -> User:
    """
    Return the active user the access token names (one query); raise TokenError if the
    user is gone or inactive, or has changed password since the token was issued.
    """
    pk = int(token[USER_ID_CLAIM])
    if settings.AUTH_FAST_PATH:
        from fastpath import jwt as fast_jwt

        user = fast_jwt.user_by_pk(pk)
    else:
        try:
            user = User._default_manager.get(pk=pk)
        except User.DoesNotExist:
            user = None
    if user is None:
        raise TokenError("User does not exist")
    if not user.is_active:
        raise TokenError("User is inactive")
    if not issued_under_current_password(token, user):
        raise TokenError("The user's password has been changed")
    return user
