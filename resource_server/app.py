"""
A resource server that accepts the shop's access tokens knowing nothing but its public key.

It stands for a separate service (say, an invoicing or a media API) in a stateless JWT
deployment: no Django, no database, no Redis, no shared secret. At start it fetches the
shop's JSON Web Key Set from ``JWKS_URL``, or from the ``jwks_uri`` of the shop's RFC 8414
metadata at ``AUTHORIZATION_SERVER_METADATA_URL`` (whose ``issuer`` must be ``JWT_ISSUER``);
afterwards it verifies every token locally:

- the header's ``alg`` must be one of ``JWT_ALGORITHMS`` (asymmetric only: never ``none``,
  never an HMAC algorithm, whose "secret" would be the public key everyone can read), and
  the key named by ``kid`` must be published for exactly that algorithm;
- the signature, ``exp`` (with ``JWT_LEEWAY_SECONDS``), ``iss`` and ``aud`` are checked, and
  ``exp``, ``iat``, ``iss``, ``aud`` and ``jti`` must be present;
- ``aud`` must be ``JWT_AUDIENCE``, this server's own, alone: a token the shop minted for its
  own API (or for several services) is refused, so neither can replay the other's tokens.
  A client asks the shop for a token for this server with ``resource`` (RFC 8707);
- ``token_type`` must be ``access``: a refresh token is signed by the same key but is not a
  credential for anything but the shop's refresh endpoint.

A token signed with a key it does not know makes it fetch the key set again (key
rotation: a new key works here without a restart), at most once per
``JWKS_MIN_REFRESH_SECONDS``, so tokens with made-up ``kid``s cannot turn it into a flood
of requests to the shop. The set is also fetched again once it
is ``JWKS_MAX_AGE_SECONDS`` old (300, the shop's ``Cache-Control: max-age``), so a key the
shop withdraws stops being trusted here within that time. Fetches happen on the request
that finds the set due, under a lock; a failed fetch keeps the keys it had.

What it cannot do, by design: learn that a token was revoked. A signed-out user's access
token keeps working here until its ``exp``; that is the trade-off of stateless tokens, and
why access tokens are short-lived.

Routes: ``GET /healthz`` (no token) and ``GET /whoami`` (the token's claims). Serve it with
``gunicorn 'resource_server.app:create_app()'``.
"""

import json
import logging
import os
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import jwt

logger = logging.getLogger("resource_server")

ASYMMETRIC_ALGORITHMS = frozenset({"RS256", "RS384", "RS512", "ES256", "ES384", "EdDSA", "PS256"})
MAX_TOKEN_BYTES = 4096
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "jti"]
# The claims /whoami answers with; anything else in the token (such as the password-change
# digest the shop uses for revocation) is not this service's business.
SHOWN_CLAIMS = ("user_id", "email", "sid", "iat", "exp", "jti")


class InvalidToken(Exception):
    """The token is refused; the message says why, without echoing the token."""


def fetch_json(url: str, *, timeout: float = 5) -> dict:
    """GET a JSON document over HTTP(S)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"Key sets and metadata are fetched over http(s), not from {url!r}")
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked above.
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above.
        return json.load(response)


def jwks_uri_discover(
    metadata_url: str, *, issuer: str, fetch: Callable[[str], dict] = fetch_json
) -> str:
    """
    Return the ``jwks_uri`` of the authorization-server metadata (RFC 8414) at
    ``metadata_url``, once its ``issuer`` is the one our tokens must come from (§3.3: else
    another server's metadata could hand us its keys).
    """
    document = fetch(metadata_url)
    if document.get("issuer") != issuer:
        raise RuntimeError(
            f"The metadata at {metadata_url} is for issuer {document.get('issuer')!r}, "
            f"not JWT_ISSUER={issuer!r}."
        )
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise RuntimeError(
            f"The metadata at {metadata_url} has no jwks_uri: the shop publishes no public "
            "key (it signs with a shared secret)."
        )
    return jwks_uri


@dataclass
class KeySet:
    """The signing keys published at ``url``, by ``kid``, fetched again when stale or outdone."""

    url: str
    algorithms: frozenset[str]
    min_refresh_seconds: float = 60
    max_age_seconds: float = 300
    fetch: Callable[[str], dict] = fetch_json
    clock: Callable[[], float] = time.monotonic
    keys: dict[str, jwt.PyJWK] = field(default_factory=dict)
    fetched_at: float | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refresh(self) -> None:
        """Fetch the key set now and keep the usable signing keys it holds."""
        document = self.fetch(self.url)
        keys = {}
        for jwk in document.get("keys", []):
            if jwk.get("use", "sig") != "sig" or jwk.get("alg") not in self.algorithms:
                continue
            if not isinstance(jwk.get("kid"), str):
                continue
            try:
                keys[jwk["kid"]] = jwt.PyJWK(jwk)
            except jwt.PyJWTError as exc:
                logger.warning("Ignoring unusable key %s: %s", jwk.get("kid"), exc)
        self.keys = keys
        self.fetched_at = self.clock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        """
        Return the key with this kid. Fetch the set again first if it is older than
        ``max_age_seconds`` (so a key the shop withdraws stops working here), or if the kid
        is new and the last fetch is ``min_refresh_seconds`` old (so a new key starts).
        """
        if self._age() >= self.max_age_seconds:
            self._refetch(min_age=self.max_age_seconds)
        key = self.keys.get(kid)
        if key is None:
            self._refetch(min_age=self.min_refresh_seconds)
            key = self.keys.get(kid)
        return key

    def _age(self) -> float:
        return float("inf") if self.fetched_at is None else self.clock() - self.fetched_at

    def _refetch(self, *, min_age: float) -> None:
        with self._lock:
            # Another request may have fetched while this one waited for the lock.
            if self._age() < min_age:
                return
            try:
                self.refresh()
            except (OSError, ValueError) as exc:
                # Keep the keys we had; try again after min_age rather than on every request.
                logger.warning("Could not fetch the key set from %s: %s", self.url, exc)
                self.fetched_at = self.clock()


@dataclass
class TokenVerifier:
    """Verify the shop's access tokens with the keys of a KeySet."""

    keys: KeySet
    issuer: str
    audience: str
    leeway: float = 0

    def verify(self, token: str) -> dict:
        """Return the claims of a valid access token; raise InvalidToken otherwise."""
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidToken("The token is too large.")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is malformed.") from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in self.keys.algorithms:
            raise InvalidToken("The token's algorithm is not accepted.")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("The token is signed with an unknown key.")
        if key.algorithm_name != algorithm:
            raise InvalidToken("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm_name],
                issuer=self.issuer,
                audience=self.audience,
                leeway=self.leeway,
                options={"require": REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("The token has expired.") from exc
        except jwt.InvalidAudienceError as exc:
            raise InvalidToken("The token is not for this service.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The token is invalid.") from exc
        if claims.get("token_type") != "access":
            raise InvalidToken("Only access tokens are accepted here.")
        return claims


def _json(start_response, status: str, body: dict, headers: Iterable = ()) -> list[bytes]:
    payload = json.dumps(body).encode()
    start_response(
        status,
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(payload))),
            ("Cache-Control", "no-store"),
            *headers,
        ],
    )
    return [payload]


class ResourceServer:
    """The WSGI application: /healthz and /whoami."""

    realm = "resource-server"

    def __init__(self, verifier: TokenVerifier):
        self.verifier = verifier

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if path not in ("/healthz", "/whoami"):
            return _json(start_response, "404 Not Found", {"detail": "Not found."})
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _json(
                start_response,
                "405 Method Not Allowed",
                {"detail": "Method not allowed."},
                [("Allow", "GET, HEAD")],
            )
        if path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        return self.whoami(environ, start_response)

    def whoami(self, environ, start_response):
        """Answer with the verified claims of the bearer token."""
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            # RFC 6750 §3.1: no error code when the request carried no credentials at all.
            return self._unauthorized(start_response, None, "Send a bearer access token.")
        try:
            claims = self.verifier.verify(token.strip())
        except InvalidToken as exc:
            return self._unauthorized(start_response, "invalid_token", str(exc))
        return _json(
            start_response,
            "200 OK",
            {name: claims[name] for name in SHOWN_CLAIMS if name in claims},
        )

    def _unauthorized(self, start_response, error: str | None, detail: str):
        challenge = f'Bearer realm="{self.realm}"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        return _json(
            start_response,
            "401 Unauthorized",
            {"detail": detail, "code": error or "not_authenticated"},
            [("WWW-Authenticate", challenge)],
        )


def create_app(environ: dict | None = None) -> ResourceServer:
    """Build the server from the environment and fetch the key set once (fail if we cannot)."""
    environ = os.environ if environ is None else environ
    url = environ.get("JWKS_URL", "")
    metadata_url = environ.get("AUTHORIZATION_SERVER_METADATA_URL", "")
    if url and metadata_url:
        raise RuntimeError("Set JWKS_URL or AUTHORIZATION_SERVER_METADATA_URL, not both.")
    if not (url or metadata_url):
        raise RuntimeError(
            "Set JWKS_URL (e.g. http://127.0.0.1:8001/.well-known/jwks.json) or "
            "AUTHORIZATION_SERVER_METADATA_URL "
            "(e.g. http://127.0.0.1:8001/.well-known/oauth-authorization-server)."
        )
    issuer = environ.get("JWT_ISSUER", "sessions-vs-jwt-shop")
    algorithms = frozenset(
        name.strip() for name in environ.get("JWT_ALGORITHMS", "RS256,EdDSA").split(",")
    )
    refused = algorithms - ASYMMETRIC_ALGORITHMS
    if refused or not algorithms:
        raise RuntimeError(
            f"JWT_ALGORITHMS may only name public-key algorithms; refusing {sorted(refused)}."
        )
    audience = environ.get("JWT_AUDIENCE", "")
    if not audience:
        raise RuntimeError(
            "Set JWT_AUDIENCE to this server's own audience, one the shop's JWT_AUDIENCES names "
            "(e.g. http://127.0.0.1:8003/)."
        )
    if metadata_url:
        url = jwks_uri_discover(metadata_url, issuer=issuer)
    keys = KeySet(
        url=url,
        algorithms=algorithms,
        min_refresh_seconds=float(environ.get("JWKS_MIN_REFRESH_SECONDS", "60")),
        max_age_seconds=float(environ.get("JWKS_MAX_AGE_SECONDS", "300")),
    )
    keys.refresh()
    verifier = TokenVerifier(
        keys=keys,
        issuer=issuer,
        audience=audience,
        leeway=float(environ.get("JWT_LEEWAY_SECONDS", "0")),
    )
    return ResourceServer(verifier)
