"""
How the API identifies the user: a JWT access token in an ``Authorization: Bearer`` header.

Per request, in order (api.token_checks): the token's signature, claims and type (no I/O);
with ``JWT_ACCESS_DENYLIST``, one Redis GET for its sign-in; with ``JWT_USER_LOOKUP=db``,
one query for the user (active, password unchanged). In ``stateless`` mode the user is the
token's claims: no database, no Redis. That is simplejwt's JWTAuthentication with our
token class; with ``AUTH_FAST_PATH`` the same class remembers verified tokens and loads
the user by a compiled query (fastpath.jwt).
"""

from django.conf import settings
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.models import TokenUser

from accounts.models import User

from .keys import MAX_TOKEN_BYTES
from .token_checks import access_token_denied, access_token_user, access_token_verified
from .tokens import AccessToken


class JWTBearerAuthentication(JWTAuthentication):
    """Authenticate with a bearer access token issued by api.token_services."""

    def get_raw_token(self, header: bytes) -> bytes | None:
        raw_token = super().get_raw_token(header)
        if raw_token is not None and len(raw_token) > MAX_TOKEN_BYTES:
            raise InvalidToken("Token is too large")
        return raw_token

    def get_validated_token(self, raw_token: bytes) -> AccessToken:
        try:
            token = access_token_verified(raw_token)
        except TokenError as exc:
            raise InvalidToken(str(exc)) from exc
        if settings.JWT_ACCESS_DENYLIST and access_token_denied(token):
            raise InvalidToken("This sign-in has ended", code="token_revoked")
        return token

    def get_user(self, validated_token: AccessToken) -> User | TokenUser:
        if settings.JWT_USER_LOOKUP == "stateless":
            return TokenUser(validated_token)
        try:
            return access_token_user(validated_token)
        except TokenError as exc:
            raise AuthenticationFailed(str(exc), code="user_not_valid") from exc


def request_account(request) -> User:
    """
    Return the signed-in user as a model instance.

    In stateless mode the authentication step trusted the claims; a view that reads or
    writes the user's data loads the account here, with the same checks as "db" mode.
    """
    user = request.user
    if isinstance(user, TokenUser):
        try:
            user = access_token_user(request.auth)
        except TokenError as exc:
            raise AuthenticationFailed(str(exc), code="user_not_valid") from exc
        request.user = user
    return user
