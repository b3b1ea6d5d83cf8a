"""
The work of authenticating one request, measured while the comparison page is served:
the session the browser sent, resolved into ``request.user`` exactly as every storefront
page does it, and an access token checked by the API's own authentication class.
"""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from rest_framework.exceptions import AuthenticationFailed

from api.authentication import JWTBearerAuthentication

from .instrument import Measurement, measure


@dataclass(frozen=True)
class AuthCost:
    """One measured authentication: what it concluded and what it took."""

    outcome: str
    authenticated: bool
    measurement: Measurement
    note: str = ""


def session_authentication_cost(request) -> AuthCost | None:
    """
    Resolve ``request.user`` for this request, measuring it: the session load from its store
    and the user it names (the row on the stock path, the snapshot on the fast path), through
    the storefront's middleware.

    Return None if something already resolved the user or read the session earlier in the
    request: there would be nothing left to measure. Call it before anything reads either.
    """
    if "_cached_user" in request.__dict__ or request.session.accessed:
        return None
    discard_prefetch = getattr(request.session, "discard_prefetch", None)
    if discard_prefetch is not None:
        # The middleware sent the session's GET ahead (SessionStore.prefetch). Drop that
        # answer, so that the block below makes and measures the whole round trip.
        discard_prefetch()
    with measure() as measurement:
        user = request.user
        authenticated = user.is_authenticated
    note = ""
    if authenticated and request.session.modified:
        note = (
            "This request fell due for the storefront's activity check (at most once per "
            f"{settings.SESSION_ACTIVITY_THROTTLE_SECONDS} s): it re-read your user row and "
            "recorded the activity. Reload within the minute to see the usual cost."
        )
    elif not authenticated and request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        note = "Your browser sent a session cookie, but it names no signed-in session."
    outcome = f"signed in as {user.email}" if authenticated else "anonymous"
    return AuthCost(
        outcome=outcome, authenticated=authenticated, measurement=measurement, note=note
    )


def bearer_request(access: str) -> HttpRequest:
    """Return an in-process request that carries the access token as an API client sends it."""
    request = HttpRequest()
    request.method = "GET"
    request.META["HTTP_AUTHORIZATION"] = f"Bearer {access}"
    return request


def _authenticate(authenticator: JWTBearerAuthentication, request) -> tuple[bool, str]:
    try:
        result = authenticator.authenticate(request)
    except AuthenticationFailed as exc:
        detail = exc.detail
        if isinstance(detail, dict):
            detail = detail.get("detail", detail)
        return False, f"refused: {detail}"
    if result is None:
        return False, "refused: no token"
    user, _ = result
    return True, f"accepted as user {user.id}"


def token_check(access: str) -> tuple[bool, str]:
    """
    Check an access token with the API's authentication class, as ``/api/`` would for a
    request bearing it; return (accepted, what it concluded).
    """
    return _authenticate(JWTBearerAuthentication(), bearer_request(access))


def token_authentication_cost(*, access: str) -> AuthCost:
    """Authenticate an in-process request bearing ``access`` as the API does, measuring it."""
    authenticator, request = JWTBearerAuthentication(), bearer_request(access)
    with measure() as measurement:
        accepted, outcome = _authenticate(authenticator, request)
    return AuthCost(outcome=outcome, authenticated=accepted, measurement=measurement)
