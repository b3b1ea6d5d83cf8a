"""
API endpoints for browser clients: the refresh token in an HttpOnly cookie, the access
token in the page's memory (the "token-mediating backend" of the IETF's OAuth 2.0 for
Browser-Based Applications draft; docs/jwt.md, "Browser clients").

Set them beside the bearer token endpoints in api/views.py: the same token sign-ins through
the same services (api.token_services), so rotation, reuse detection, the chain's absolute
limit, "your devices", logout everywhere, password change and deactivation treat both
alike. Only where the refresh token travels differs: in a cookie that script cannot read,
limited to these endpoints' path. A cookie rides along with any request the browser
sends, so every endpoint here, sign-in included (login CSRF), requires Django's CSRF token
in the X-CSRFToken header.
"""

from django.conf import settings
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.utils import datetime_to_epoch

from . import serializers as s
from . import token_services
from .schema import error_response
from .tokens import VIA_COOKIE, AccessToken, RefreshToken, TokenPair
from .views import PublicTokenView

# The prefix of the three endpoints' paths (api/urls.py): the browser sends the cookie to
# them and nowhere else, not even to the rest of the API.
COOKIE_PATH = "/api/auth/browser/"
NO_COOKIE_MESSAGE = "No refresh cookie: sign in again."


class BrowserTokenSchema(AutoSchema):
    """Document the refresh cookie by its configured name, read when the schema is built."""

    def get_override_parameters(self):
        cookie = OpenApiParameter(
            settings.BROWSER_REFRESH_COOKIE_NAME,
            str,
            OpenApiParameter.COOKIE,
            description="The refresh token, set by sign-in and refresh; HttpOnly.",
        )
        csrf = OpenApiParameter(
            "X-CSRFToken",
            str,
            OpenApiParameter.HEADER,
            required=True,
            description="Django's CSRF token, read from its CSRF cookie.",
        )
        return [*super().get_override_parameters(), cookie, csrf]


def _refresh_cookie_set(response: Response, refresh: str) -> None:
    expires_at = RefreshToken(refresh)["exp"]
    response.set_cookie(
        settings.BROWSER_REFRESH_COOKIE_NAME,
        refresh,
        # Never longer than the token itself, which never outlives its sign-in.
        max_age=max(0, expires_at - datetime_to_epoch(timezone.now())),
        path=COOKIE_PATH,
        secure=settings.BROWSER_REFRESH_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def _refresh_cookie_delete(response: Response) -> None:
    # Same name and path, or the browser keeps the cookie; Django marks a __Secure- one
    # Secure, as the browser requires.
    response.delete_cookie(
        settings.BROWSER_REFRESH_COOKIE_NAME, path=COOKIE_PATH, samesite="Strict"
    )


def _refresh_cookie(request) -> str:
    raw = request.COOKIES.get(settings.BROWSER_REFRESH_COOKIE_NAME, "")
    if not raw:
        raise InvalidToken(NO_COOKIE_MESSAGE)
    return raw


def _access_answer(pair: TokenPair) -> Response:
    """Answer the access token in the body and the refresh token in the cookie only."""
    body = {"access": pair.access, "access_expires_at": AccessToken(pair.access)["exp"]}
    response = Response(s.BrowserAccessOutput(body).data)
    _refresh_cookie_set(response, pair.refresh)
    return response


# DRF exempts its views from Django's CSRF check; this puts the check back on a handler, so
# that a method the view lacks is still a 405. A failure is config.errors.csrf_failure's 403.
csrf_checked = method_decorator(csrf_protect)


class BrowserTokenView(PublicTokenView):
    """
    A browser token endpoint: its handlers are csrf_checked, and a refused refresh cookie
    is cleared, so that the page stops sending it.
    """

    schema = BrowserTokenSchema()

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if response.status_code == status.HTTP_401_UNAUTHORIZED:
            _refresh_cookie_delete(response)
        return response


class BrowserTokenObtainView(BrowserTokenView):
    """
    Check the email and password as /api/auth/token/ does (the same lockout, the same
    answers) and start a token sign-in whose refresh token is set in the cookie.
    """

    @csrf_checked
    @extend_schema(
        request=s.CredentialsInput,
        responses={200: s.BrowserAccessOutput, 403: error_response(403), 429: error_response(429)},
        tags=["auth-browser"],
        summary="Sign in from a browser: an access token, and the refresh token in a cookie",
    )
    def post(self, request):
        credentials = s.CredentialsInput(data=request.data)
        credentials.is_valid(raise_exception=True)
        data = credentials.validated_data
        pair = token_services.token_obtain(
            request=request, email=data["email"], password=data["password"], via=VIA_COOKIE
        )
        return _access_answer(pair)


class BrowserTokenRefreshView(BrowserTokenView):
    """
    Rotate the cookie's refresh token as /api/auth/token/refresh/ rotates a bearer one: a
    new access token, and the next refresh token in the cookie.
    """

    @csrf_checked
    @extend_schema(
        request=None,
        responses={200: s.BrowserAccessOutput, 401: error_response(401), 403: error_response(403)},
        tags=["auth-browser"],
        summary="Refresh from a browser: a new access token; the cookie's token rotates",
    )
    def post(self, request):
        pair = token_services.token_refresh(raw=_refresh_cookie(request), via=VIA_COOKIE)
        return _access_answer(pair)


class BrowserLogoutView(BrowserTokenView):
    """End the sign-in of the cookie's refresh token and clear the cookie; none is no error."""

    @csrf_checked
    @extend_schema(
        request=None,
        responses={204: None, 401: error_response(401), 403: error_response(403)},
        tags=["auth-browser"],
        summary="Sign out from a browser: the sign-in ends and the cookie is cleared",
    )
    def post(self, request):
        raw = request.COOKIES.get(settings.BROWSER_REFRESH_COOKIE_NAME, "")
        if raw:
            token_services.token_logout(raw=raw)
        response = Response(status=status.HTTP_204_NO_CONTENT)
        _refresh_cookie_delete(response)
        return response
