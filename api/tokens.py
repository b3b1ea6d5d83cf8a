"""
The API's tokens: simplejwt 5.5.1's access and refresh tokens, signed with our keys
(api.keys), each naming its user and its sign-in, and never outliving the sign-in.

A token sign-in is a ``SignIn(kind=token)``. Its refresh tokens carry its id (claim
``sid``) from one rotation to the next, and their ``jti`` starts with it, so that ending
the sign-in can find every refresh token of its chain (api.token_services). Both kinds
carry simplejwt's revoke claim, a digest of the password hash: a token issued before a
password change never works after it. An access token is for one audience (``aud``): this
API's own, or the service named by the RFC 8707 ``resource`` its sign-in asked for.

Settings are read when a token is made or checked, never at import time.
"""

import base64
import hmac
import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken
from rest_framework_simplejwt.utils import datetime_to_epoch, get_md5_hash_password

from accounts.models import SignIn, User

from .keys import KeyedTokenBackend, token_backend

USER_ID_CLAIM = "user_id"
SID_CLAIM = "sid"
EMAIL_CLAIM = "email"
REVOKE_CLAIM = "hash_password"
# On a refresh token: the RFC 8707 resource its sign-in's access tokens are for (absent: this
# API's own). Refreshing never changes it.
RESOURCE_CLAIM = "resource"
# On a refresh token: how its client holds it, "cookie" for the browser endpoints (absent: a
# bearer client's). Each refresh endpoint takes only its own kind, and rotation keeps it.
VIA_CLAIM = "via"
VIA_COOKIE = "cookie"
UNKNOWN_RESOURCE_MESSAGE = "No access tokens are issued for this resource."

_USER_ID_RE = re.compile(r"[0-9]{1,18}")


class RefreshTokenReused(TokenError):
    """A refresh token that was already rotated came back: treated as theft."""


class SignInEnded(TokenError):
    """The token belongs to a sign-in that has ended or passed its absolute lifetime."""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def _identity_claims_check(payload: dict) -> None:
    user_id = payload.get(USER_ID_CLAIM)
    if not isinstance(user_id, str) or not _USER_ID_RE.fullmatch(user_id):
        raise TokenError("Token contained no recognizable user identification")
    try:
        uuid.UUID(payload.get(SID_CLAIM))
    except (TypeError, ValueError, AttributeError) as exc:
        raise TokenError("Token belongs to no sign-in") from exc


class AccessToken(simplejwt_tokens.AccessToken):
    """An access token signed with our keys; it names its user and its sign-in."""

    @property
    def lifetime(self) -> timedelta:
        return settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]

    @property
    def token_backend(self) -> KeyedTokenBackend:
        return token_backend()

    def verify(self) -> None:
        super().verify()
        _identity_claims_check(self.payload)


class RefreshToken(simplejwt_tokens.RefreshToken):
    """A refresh token of a sign-in's chain; its ``jti`` starts with the sign-in id."""

    @property
    def lifetime(self) -> timedelta:
        return settings.SIMPLE_JWT["REFRESH_TOKEN_LIFETIME"]

    @property
    def token_backend(self) -> KeyedTokenBackend:
        return token_backend()

    def verify(self) -> None:
        # Skip simplejwt's blacklist lookup here: the chain check in api.token_services reads
        # the blacklist itself, because a rotated token (theft) and a revoked chain (logout)
        # need different answers.
        simplejwt_tokens.Token.verify(self)
        _identity_claims_check(self.payload)


def issued_under_current_password(token, user: User) -> bool:
    """Return whether the token was issued under the user's current password."""
    return hmac.compare_digest(
        str(token.get(REVOKE_CLAIM, "")).encode(), get_md5_hash_password(user.password).encode()
    )


def resource_audience(resource: str | None) -> str:
    """
    Return the audience of access tokens for this resource indicator (None: this API's own);
    raise a ValidationError with code ``invalid_target`` for one that JWT_AUDIENCES does not
    name (RFC 8707 §2).
    """
    if resource is None:
        return settings.SIMPLE_JWT["AUDIENCE"]
    try:
        return settings.JWT_AUDIENCES[resource]
    except KeyError:
        raise ValidationError(
            {"resource": ValidationError(UNKNOWN_RESOURCE_MESSAGE, code="invalid_target")}
        ) from None


def _expiry(token, *, lifetime: timedelta, cap: datetime) -> datetime:
    expires_at = min(token.current_time + lifetime, cap)
    token["exp"] = datetime_to_epoch(expires_at)
    return expires_at


def access_token_for(*, user: User, sign_in: SignIn, resource: str | None = None) -> AccessToken:
    """
    Return a new access token of the sign-in, for the resource's audience only (see
    resource_audience), expiring no later than the sign-in.
    """
    token = AccessToken()
    token["aud"] = resource_audience(resource)
    token[USER_ID_CLAIM] = str(user.pk)
    token[SID_CLAIM] = str(sign_in.pk)
    token[EMAIL_CLAIM] = user.email
    token[REVOKE_CLAIM] = get_md5_hash_password(user.password)
    _expiry(token, lifetime=token.lifetime, cap=sign_in.expires_at)
    return token


def _refresh_token_for(
    *, user: User, sign_in: SignIn, resource: str | None, via: str | None = None
) -> str:
    token = RefreshToken()
    token["jti"] = sign_in.pk.hex + uuid.uuid4().hex
    token[USER_ID_CLAIM] = str(user.pk)
    token[SID_CLAIM] = str(sign_in.pk)
    if resource is not None:
        token[RESOURCE_CLAIM] = resource
    if via is not None:
        token[VIA_CLAIM] = via
    # simplejwt's revoke claim, on the refresh token too (5.5.1 puts it on access tokens
    # only): a refresh token issued before a password change can never mint again.
    token[REVOKE_CLAIM] = get_md5_hash_password(user.password)
    expires_at = _expiry(token, lifetime=token.lifetime, cap=sign_in.expires_at)
    encoded = str(token)
    OutstandingToken.objects.create(
        user=user,
        jti=token["jti"],
        # The header and claims, without the signature: the table says what was issued, and
        # a copy of the database yields no refresh token that works.
        token=encoded.rsplit(".", 1)[0],
        created_at=token.current_time,
        expires_at=expires_at,
    )
    return encoded


def refresh_token_current(*, sign_in: SignIn) -> str | None:
    """
    Return the sign-in's newest refresh token that is not used up (the end of its chain),
    signed again from its record; None if there is none.

    The record keeps the header and claims, not the signature (see _refresh_token_for), so
    the token is rebuilt from them: the same ``jti`` and claims, the same chain link, and
    with HS256, RS256 and EdDSA, whose signatures are deterministic, the very same string.
    """
    record = (
        OutstandingToken.objects.filter(
            user_id=sign_in.user_id, jti__startswith=sign_in.pk.hex, blacklistedtoken__isnull=True
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    if record is None:
        return None
    encoded_claims = record.token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(encoded_claims + "=" * (-len(encoded_claims) % 4)))
    if claims.get("jti") != record.jti:
        raise TokenError("The refresh token on record does not match its row")
    return token_backend().encode(claims)


def token_pair_for(
    *, user: User, sign_in: SignIn, resource: str | None = None, via: str | None = None
) -> TokenPair:
    """
    Issue a new access and refresh token of the sign-in (the refresh one is recorded); the
    access token is for the resource (None: this API), and so are those its refreshes give;
    the refresh token says how its client holds it (``via``, see VIA_CLAIM).
    """
    return TokenPair(
        access=str(access_token_for(user=user, sign_in=sign_in, resource=resource)),
        refresh=_refresh_token_for(user=user, sign_in=sign_in, resource=resource, via=via),
    )
