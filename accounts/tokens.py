"""
JWT sign-ins for the API: token classes and keys, refresh-token chains, revocation.

A token sign-in is a ``SignIn(kind=token)``. Its refresh tokens carry its id (claim ``sid``)
from one rotation to the next, and the SignIn is the authority over the chain: once it has
ended (logout, revocation from either edge, password change, deactivation, theft) or passed
its absolute lifetime (``JWT_REFRESH_MAX_AGE_SECONDS``), no refresh token of the chain works,
whatever its own ``exp`` says. On top of simplejwt 5.5.1 this module adds:

- reuse detection: a rotated refresh token presented again ends every token sign-in of the
  user (the thief and the victim hold the same chain; neither can be told apart);
- the end of a sign-in blacklists its outstanding refresh tokens (found by the ``jti``
  prefix, which is the sign-in id) and, with ``JWT_ACCESS_DENYLIST``, refuses its access
  tokens at once through a Redis entry keyed by the sign-in id;
- asymmetric keys with a ``kid`` (RFC 7638 thumbprint) and a JWKS document;
- ``iss``/``aud`` required and checked, and a size limit before any decoding.

Settings are read when a token is made or checked, never at import time.
"""

import base64
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
import weakref
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from django.conf import settings
from django.core.cache import cache as django_cache
from django.core.exceptions import ValidationError
from django.db import connections, router, transaction
from django.test.signals import setting_changed
from django.utils import timezone
from jwt.algorithms import OKPAlgorithm, RSAAlgorithm
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import (
    TokenBackendError,
    TokenBackendExpiredToken,
    TokenError,
)
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import (
    datetime_to_epoch,
    get_md5_hash_password,
)

from .models import SignIn, User
from .services import (
    credentials_authenticate,
    request_client_ip,
    signin_end,
    signin_end_by_id,
    signin_start,
    user_password_change,
)

# A token of ours is a few hundred bytes (under 1 KiB with an RSA signature); anything much
# larger is refused before it is parsed.
MAX_TOKEN_BYTES = 4096

USER_ID_CLAIM = "user_id"
SID_CLAIM = "sid"
EMAIL_CLAIM = "email"
REVOKE_CLAIM = "hash_password"
ASYMMETRIC_ALGORITHMS = {"RS256", "EdDSA"}

_USER_ID_RE = re.compile(r"[0-9]{1,18}")
WRONG_PASSWORD_MESSAGE = "Your current password is not correct."  # noqa: S105 - a message.


class RefreshTokenReused(TokenError):
    """A refresh token that was already rotated came back: treated as theft."""


class SignInEnded(TokenError):
    """The token belongs to a sign-in that has ended or passed its absolute lifetime."""


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


# --- Keys -------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@cache
def public_jwk() -> dict | None:
    """
    Return the public key as a JWK with its ``kid`` (RFC 7638 thumbprint), or None when
    tokens are signed with a shared secret (HS256).
    """
    jwt_settings = settings.SIMPLE_JWT
    algorithm = jwt_settings["ALGORITHM"]
    if algorithm not in ASYMMETRIC_ALGORITHMS:
        return None
    key = serialization.load_pem_public_key(jwt_settings["VERIFYING_KEY"].encode())
    if isinstance(key, RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(key, as_dict=True)
        members = {name: jwk[name] for name in ("e", "kty", "n")}
    elif isinstance(key, Ed25519PublicKey):
        jwk = OKPAlgorithm.to_jwk(key, as_dict=True)
        members = {name: jwk[name] for name in ("crv", "kty", "x")}
    else:
        raise TypeError(f"{type(key).__name__} keys are not supported for {algorithm}.")
    # RFC 7638: the required members only, sorted, no whitespace, hashed with SHA-256.
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return {**members, "kid": _b64url(hashlib.sha256(canonical).digest()), "alg": algorithm}


def jwks_document() -> dict | None:
    """Return the JSON Web Key Set that verifies our tokens, or None under HS256."""
    jwk = public_jwk()
    if jwk is None:
        return None
    return {"keys": [{**jwk, "use": "sig"}]}


class KeyedTokenBackend(TokenBackend):
    """
    simplejwt's token backend with stricter decoding: a size limit, a ``kid`` that must name
    our key (and none under HS256), and ``exp``, ``iat``, ``jti``, ``iss`` and ``aud``
    required, not merely checked when present.
    """

    def __init__(self, *, kid: str | None, **kwargs):
        super().__init__(**kwargs)
        self.kid = kid

    def encode(self, payload: dict) -> str:
        claims = {**payload, "iss": self.issuer, "aud": self.audience}
        return jwt.encode(
            claims,
            self.prepared_signing_key,
            algorithm=self.algorithm,
            headers={"kid": self.kid} if self.kid else None,
        )

    def decode(self, token, verify: bool = True) -> dict:
        if not verify:
            raise TokenBackendError("Tokens are always verified.")
        if len(token) > MAX_TOKEN_BYTES:
            raise TokenBackendError("Token is too large")
        try:
            # One pass over the token (PyJWT parses it again for every call made on it).
            decoded = jwt.decode_complete(
                token,
                self.prepared_verifying_key
                if self.algorithm in ASYMMETRIC_ALGORITHMS
                else self.prepared_signing_key,
                algorithms=[self.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                options={"require": ["exp", "iat", "jti", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken("Token is expired") from exc
        except jwt.InvalidTokenError as exc:
            raise TokenBackendError("Token is invalid") from exc
        if decoded["header"].get("kid") != self.kid:
            raise TokenBackendError("Token names a key we do not sign with")
        return decoded["payload"]


@cache
def token_backend() -> KeyedTokenBackend:
    """Return the backend built from the current settings (built once, keys parsed once)."""
    jwt_settings = settings.SIMPLE_JWT
    jwk = public_jwk()
    return KeyedTokenBackend(
        kid=jwk["kid"] if jwk else None,
        algorithm=jwt_settings["ALGORITHM"],
        signing_key=jwt_settings["SIGNING_KEY"],
        verifying_key=jwt_settings.get("VERIFYING_KEY", ""),
        audience=jwt_settings["AUDIENCE"],
        issuer=jwt_settings["ISSUER"],
        leeway=jwt_settings["LEEWAY"],
    )


def _forget_keys_on_settings_change(*, setting, **kwargs):
    if setting == "SIMPLE_JWT":
        public_jwk.cache_clear()
        token_backend.cache_clear()
    if setting in ("SIMPLE_JWT", "JWT_VERIFIED_TOKEN_CACHE_SIZE"):
        verified_access_tokens.clear()


setting_changed.connect(_forget_keys_on_settings_change)


# --- Token classes ----------------------------------------------------------------------


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
        # Skip simplejwt's blacklist lookup here: _chain_link() reads the blacklist itself,
        # because a rotated token (theft) and a revoked chain (logout) need different answers.
        simplejwt_tokens.Token.verify(self)
        _identity_claims_check(self.payload)


def _expiry(token, *, lifetime: timedelta, cap: datetime) -> datetime:
    expires_at = min(token.current_time + lifetime, cap)
    token["exp"] = datetime_to_epoch(expires_at)
    return expires_at


def _access_token_for(*, user: User, sign_in: SignIn) -> AccessToken:
    token = AccessToken()
    token[USER_ID_CLAIM] = str(user.pk)
    token[SID_CLAIM] = str(sign_in.pk)
    token[EMAIL_CLAIM] = user.email
    token[REVOKE_CLAIM] = get_md5_hash_password(user.password)
    _expiry(token, lifetime=token.lifetime, cap=sign_in.expires_at)
    return token


def _refresh_token_for(*, user: User, sign_in: SignIn) -> str:
    token = RefreshToken()
    token["jti"] = sign_in.pk.hex + uuid.uuid4().hex
    token[USER_ID_CLAIM] = str(user.pk)
    token[SID_CLAIM] = str(sign_in.pk)
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


def _token_pair_for(*, user: User, sign_in: SignIn) -> TokenPair:
    return TokenPair(
        access=str(_access_token_for(user=user, sign_in=sign_in)),
        refresh=_refresh_token_for(user=user, sign_in=sign_in),
    )


# --- Access tokens on each request ------------------------------------------------------


class VerifiedTokenCache:
    """
    Access tokens this process has verified, by their exact text, until they expire.

    Whether a token's signature and claims are valid is a function of its bytes, the key
    and the clock, and only the clock moves: once verified, the same text stays valid until
    its ``exp`` (plus leeway), which is checked again on every use. A client sends the same
    access token with every request of its lifetime, so each process verifies it once
    instead of on every request. This is what "stateless" buys, and only tokens can have
    it: a session must be read from its store on every request, or its revocation would
    not be instant. The checks that can change their answer (the denylist, the user's row
    in "db" mode) are not cached. At most ``settings.JWT_VERIFIED_TOKEN_CACHE_SIZE``
    entries are kept (oldest out first); 0 verifies every request.
    """

    def __init__(self):
        self._tokens: dict[bytes, tuple[AccessToken, float]] = {}
        self._lock = threading.Lock()

    def get(self, raw_token: bytes) -> AccessToken | None:
        """Return the verified token for this text, or None if unknown or now expired."""
        entry = self._tokens.get(raw_token)
        if entry is None:
            return None
        token, valid_until = entry
        if time.time() < valid_until:
            return token
        with self._lock:
            self._tokens.pop(raw_token, None)
        return None

    def add(self, raw_token: bytes, token: AccessToken) -> None:
        """Remember a token that has just passed every check."""
        size = settings.JWT_VERIFIED_TOKEN_CACHE_SIZE
        if size <= 0:
            return
        leeway = token.token_backend.get_leeway().total_seconds()
        with self._lock:
            while len(self._tokens) >= size:
                del self._tokens[next(iter(self._tokens))]
            self._tokens[raw_token] = (token, token["exp"] + leeway)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


verified_access_tokens = VerifiedTokenCache()


def access_token_verified(raw_token: bytes) -> AccessToken:
    """
    Return the access token after checking its signature, claims and expiry (raise
    TokenError otherwise); a token this process verified before costs a dictionary lookup.
    """
    token = verified_access_tokens.get(raw_token)
    if token is None:
        token = AccessToken(raw_token)
        verified_access_tokens.add(raw_token, token)
    return token


def _denylist_key(sid: str) -> str:
    return f"jwt-deny:{sid}"


def access_token_denied(token: AccessToken) -> bool:
    """Return whether the token's sign-in is on the denylist (one Redis GET)."""
    return django_cache.get(_denylist_key(token[SID_CLAIM])) is not None


def signins_denied(*, sign_in_ids) -> set[str]:
    """Return, as strings, which of these sign-ins are on the access-token denylist now."""
    keys = {_denylist_key(str(sign_in_id)): str(sign_in_id) for sign_in_id in sign_in_ids}
    if not keys:
        return set()
    return {keys[key] for key in django_cache.get_many(list(keys))}


class _UserLookup:
    """
    ``User.objects.filter(pk=...)`` compiled once for one database connection: the ORM's
    own SQL, the fields in column order and the backend's converters for those columns.

    Building the queryset, compiling it and working out the converters cost several times
    what running the query does (see docs/comparison.md, "The fast paths"); a JWT request
    in ``db`` mode runs it on every request. Kept per connection object (connections are
    per thread), and forgotten with it.
    """

    def __init__(self, db_connection):
        compiler = User._default_manager.filter(pk=0).query.get_compiler(connection=db_connection)
        self.sql, _params = compiler.as_sql()
        columns = [column for column, _sql, _alias in compiler.select]
        self.field_names = [column.target.attname for column in columns]
        self.converters = list(compiler.get_converters(columns).items())

    def get(self, db_connection, pk: int) -> User | None:
        with db_connection.cursor() as cursor:
            cursor.execute(self.sql, [pk])
            row = cursor.fetchone()
        if row is None:
            return None
        # What the compiler's apply_converters() does to each row.
        values = list(row)
        for position, (converters, expression) in self.converters:
            value = values[position]
            for converter in converters:
                value = converter(value, expression, db_connection)
            values[position] = value
        return User.from_db(db_connection.alias, self.field_names, values)


_user_lookups = weakref.WeakKeyDictionary()  # database connection -> _UserLookup


def _user_by_pk(using: str, pk: int) -> User | None:
    db_connection = connections[using]
    lookup = _user_lookups.get(db_connection)
    if lookup is None:
        lookup = _user_lookups[db_connection] = _UserLookup(db_connection)
    return lookup.get(db_connection, pk)


def access_token_user(token: AccessToken) -> User:
    """
    Return the active user the access token names (one query); raise TokenError if the
    user is gone or inactive, or has changed password since the token was issued.
    """
    user = _user_by_pk(router.db_for_read(User), int(token[USER_ID_CLAIM]))
    if user is None:
        raise TokenError("User does not exist")
    if not user.is_active:
        raise TokenError("User is inactive")
    if not _password_unchanged(token, user):
        raise TokenError("The user's password has been changed")
    return user


# --- Sign-in, refresh, logout -----------------------------------------------------------


def token_signin_start(*, user: User, request) -> TokenPair:
    """Start a token sign-in of the user and return its first access and refresh tokens."""
    with transaction.atomic():
        sign_in = signin_start(
            user=user,
            kind=SignIn.Kind.TOKEN,
            lifetime=timedelta(seconds=settings.JWT_REFRESH_MAX_AGE_SECONDS),
            ip_address=request_client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        return _token_pair_for(user=user, sign_in=sign_in)


def token_access_issue(*, sign_in: SignIn) -> str:
    """
    Return a new access token of a live token sign-in, as a refresh would give, without
    rotating its refresh token or writing anything. Raise SignInEnded once it has ended.
    """
    current = SignIn.objects.select_related("user").filter(pk=sign_in.pk, kind=SignIn.Kind.TOKEN)
    sign_in = current.first()
    if sign_in is None or not _sign_in_live(sign_in):
        raise SignInEnded("This sign-in has ended")
    return str(_access_token_for(user=sign_in.user, sign_in=sign_in))


def token_obtain(*, request, email: str, password: str) -> TokenPair:
    """
    Check the credentials (with the storefront's lockout) and start a token sign-in.

    Raise LoginLocked while locked out, and one generic ValidationError for an unknown
    email, a wrong password and an inactive account alike.
    """
    user = credentials_authenticate(request=request, email=email, password=password)
    return token_signin_start(user=user, request=request)


@dataclass
class _ChainLink:
    sign_in: SignIn
    outstanding: OutstandingToken
    rotated: bool


def _chain_link(refresh: RefreshToken) -> _ChainLink:
    """
    Lock and return the sign-in and the outstanding row of a verified refresh token; raise
    TokenError for a token we never issued. Call inside a transaction.
    """
    # Lock the sign-in before the token row, the order signin_end() takes them in too.
    sign_in = (
        SignIn.objects.select_for_update()
        .select_related("user")
        .filter(pk=refresh[SID_CLAIM], kind=SignIn.Kind.TOKEN, user_id=refresh[USER_ID_CLAIM])
        .first()
    )
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",))
        .select_related("blacklistedtoken")
        .filter(jti=refresh["jti"])
        .first()
    )
    if sign_in is None or outstanding is None or outstanding.user_id != sign_in.user_id:
        raise TokenError("Token is invalid")
    rotated = hasattr(outstanding, "blacklistedtoken")
    return _ChainLink(sign_in=sign_in, outstanding=outstanding, rotated=rotated)


def _sign_in_live(sign_in: SignIn) -> bool:
    return sign_in.is_live and sign_in.user.is_active


def _password_unchanged(token, user: User) -> bool:
    """Whether the token was issued under the user's current password."""
    return hmac.compare_digest(
        str(token.get(REVOKE_CLAIM, "")).encode(), get_md5_hash_password(user.password).encode()
    )


def token_refresh(*, raw: str) -> TokenPair:
    """
    Rotate a refresh token: blacklist it and return a new pair in the same sign-in.

    Raise TokenError when the token is invalid or its sign-in has ended, and
    RefreshTokenReused, after ending every token sign-in of the user, when the token was
    already rotated.
    """
    refresh = RefreshToken(raw)
    with transaction.atomic():
        link = _chain_link(refresh)
        sign_in = link.sign_in
        if not _sign_in_live(sign_in):
            raise SignInEnded("This sign-in has ended; sign in again")
        password_changed = not _password_unchanged(refresh, sign_in.user)
        if not password_changed and not link.rotated:
            BlacklistedToken.objects.create(token=link.outstanding)
            SignIn.objects.filter(pk=sign_in.pk).update(last_seen_at=timezone.now())
            return _token_pair_for(user=sign_in.user, sign_in=sign_in)
    if password_changed:
        # Changed where no save() signal saw it (QuerySet.update(), raw SQL): the chain
        # ends here, after the transaction, so that the ending is not rolled back.
        signin_end_by_id(sign_in_id=sign_in.pk, reason=SignIn.EndReason.PASSWORD_CHANGED)
        raise SignInEnded("The password has changed since this sign-in; sign in again")
    raise _token_reuse_end_all(user=sign_in.user)


def _token_reuse_end_all(*, user: User) -> RefreshTokenReused:
    """End every token sign-in of the user; return the error to raise."""
    # Called after the refresh transaction has closed: raising inside it would roll back
    # the very sign-outs that answer the theft.
    user_token_signins_end(user=user, reason=SignIn.EndReason.TOKEN_REUSE)
    return RefreshTokenReused("Refresh token was already used; every API sign-in has ended")


def token_logout(*, raw: str) -> None:
    """
    End the sign-in of a refresh token. Logging out of an ended sign-in is not an error; a
    rotated token is treated as theft, as in token_refresh().
    """
    refresh = RefreshToken(raw)
    with transaction.atomic():
        link = _chain_link(refresh)
        if link.sign_in.ended_at is not None:
            return
        if not link.rotated:
            signin_end(sign_in=link.sign_in, reason=SignIn.EndReason.SIGNED_OUT)
            return
    raise _token_reuse_end_all(user=link.sign_in.user)


def token_verify(*, raw: str) -> None:
    """
    Raise TokenError unless the token would be accepted now: an access token by the API's
    authentication, a refresh token by token_refresh(). Never ends anything.
    """
    try:
        access = AccessToken(raw)
    except TokenError:
        refresh = RefreshToken(raw)
        with transaction.atomic():
            link = _chain_link(refresh)
        if (
            link.rotated
            or not _sign_in_live(link.sign_in)
            or not _password_unchanged(refresh, link.sign_in.user)
        ):
            raise SignInEnded("This refresh token can no longer be used") from None
        return
    if settings.JWT_ACCESS_DENYLIST and access_token_denied(access):
        raise SignInEnded("This sign-in has ended")
    if settings.JWT_USER_LOOKUP == "db":
        access_token_user(access)


def user_token_signins_end(*, user: User, reason: str) -> int:
    """End every live token sign-in of the user (browser sessions carry on)."""
    live = SignIn.objects.filter(user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True)
    ended = 0
    for sign_in in live:
        signin_end(sign_in=sign_in, reason=reason)
        ended += 1
    return ended


def token_signin_revoke(*, sign_in: SignIn) -> None:
    """
    Make a token sign-in's chain unusable: blacklist its outstanding refresh tokens and,
    with JWT_ACCESS_DENYLIST, refuse its access tokens until the last one would expire.
    accounts.services.signin_end() calls it for token sign-ins (registered in api/apps.py).
    """
    # Lock the sign-in's row before its tokens' rows, in the order _chain_link() takes them,
    # so that a refresh racing this sign-out waits instead of deadlocking.
    SignIn.objects.select_for_update().filter(pk=sign_in.pk).first()
    unused = OutstandingToken.objects.filter(
        user_id=sign_in.user_id,
        jti__startswith=sign_in.pk.hex,
        blacklistedtoken__isnull=True,
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in unused], ignore_conflicts=True
    )
    if settings.JWT_ACCESS_DENYLIST:
        jwt_settings = settings.SIMPLE_JWT
        ttl = jwt_settings["ACCESS_TOKEN_LIFETIME"].total_seconds() + jwt_settings["LEEWAY"]
        key = _denylist_key(str(sign_in.pk))
        # After the commit only: a rolled-back sign-out must not lock a live sign-in out.
        transaction.on_commit(lambda: django_cache.set(key, 1, timeout=int(ttl) + 1))


def token_password_change(
    *, request, user: User, sid: str, old_password: str, new_password: str
) -> TokenPair:
    """
    Change the password from a token sign-in: check the old one (with the lockout), end
    every other sign-in of the user, and return a new token pair for this one, as Django's
    update_session_auth_hash() keeps the session the change was made from. Every earlier
    token, this sign-in's too, carries the old password's digest and stops working.
    """
    keep = SignIn.objects.filter(
        pk=sid, user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True
    ).first()
    if keep is None:
        raise SignInEnded("This sign-in has ended")
    try:
        credentials_authenticate(request=request, email=user.email, password=old_password)
    except ValidationError as exc:
        raise ValidationError(
            {"old_password": ValidationError(WRONG_PASSWORD_MESSAGE, code="invalid_password")}
        ) from exc
    try:
        user_password_change(user=user, new_password=new_password, keep=keep)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.error_list}) from exc
    return _token_pair_for(user=user, sign_in=keep)
