"""
Error answers for both edges: HTML pages for the storefront, JSON bodies for the API.

Django calls the handlers wired in ``config/urls.py`` (``handler400``/``403``/``404``/``500``);
views and middleware answer 429 and 503 the same way through ``too_many_requests()`` and
``service_unavailable()``; CSRF failures come through ``csrf_failure`` (``CSRF_FAILURE_VIEW``).

Pages render without the request: no context processors run, so nothing touches the
session, the user or the database. They keep working when the session store or the
database is what broke, and they cannot show who is signed in, the path, the exception or
any setting.
"""

import logging
import math
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import REASON_NO_CSRF_COOKIE, REASON_NO_REFERER
from django.template import loader
from django.utils.cache import add_never_cache_headers, patch_vary_headers

logger = logging.getLogger(__name__)

API_PATH_PREFIX = "/api/"


@dataclass(frozen=True)
class ErrorKind:
    """One kind of error answer: its status, HTML template, and JSON code and detail."""

    status: int
    template: str
    code: str
    detail: str


BAD_REQUEST = ErrorKind(400, "400.html", "bad_request", "Bad request.")
PERMISSION_DENIED = ErrorKind(
    403, "403.html", "permission_denied", "You do not have permission to perform this action."
)
CSRF_FAILED = ErrorKind(403, "403_csrf.html", "csrf_failed", "CSRF verification failed.")
NOT_FOUND = ErrorKind(404, "404.html", "not_found", "Not found.")
TOO_MANY_REQUESTS = ErrorKind(429, "429.html", "throttled", "Too many requests.")
SERVER_ERROR = ErrorKind(500, "500.html", "server_error", "Server error.")
SERVICE_UNAVAILABLE = ErrorKind(
    503, "503.html", "service_unavailable", "Service temporarily unavailable. Try again later."
)

# Served when an error template itself cannot be rendered (for instance static files were
# never collected, so {% static %} has no manifest entry): an error page must not fail.
FALLBACK_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{status} · Sessions vs JWT</title></head>
<body><h1>{status}</h1><p>{detail}</p></body></html>
"""


def wants_json(request: HttpRequest) -> bool:
    """Return whether to answer with JSON: an API path, or a client that asks for JSON only."""
    if request.path_info.startswith(API_PATH_PREFIX):
        return True
    return (
        "HTTP_ACCEPT" in request.META
        and request.accepts("application/json")
        and not request.accepts("text/html")
    )


def error_response(
    request: HttpRequest,
    kind: ErrorKind,
    *,
    retry_after: int | None = None,
    hints: dict[str, bool] | None = None,
    as_json: bool | None = None,
) -> HttpResponse:
    """
    Answer ``kind`` as JSON (``detail``, ``code``) or as its HTML page; ``hints`` are
    flags the page may use to say what the visitor can do about it. ``as_json`` forces
    the choice (for a JSON view outside /api/); by default ``wants_json`` decides.
    """
    if as_json if as_json is not None else wants_json(request):
        body = {"detail": kind.detail, "code": kind.code}
        if retry_after is not None:
            body["retry_after"] = retry_after
        response = JsonResponse(body, status=kind.status)
    else:
        response = HttpResponse(
            _render_page(kind, retry_after=retry_after, hints=hints or {}), status=kind.status
        )
    if not request.path_info.startswith(API_PATH_PREFIX):
        # The same URL answers HTML or JSON depending on Accept: caches must key on it.
        patch_vary_headers(response, ["Accept"])
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    if kind.status == 429 or kind.status >= 500:
        # A cache in between must not keep serving the outage or the lockout once it is over.
        add_never_cache_headers(response)
    return response


def _render_page(kind: ErrorKind, *, retry_after: int | None, hints: dict[str, bool]) -> str:
    context = {**hints, "retry_after_minutes": _minutes(retry_after)}
    try:
        return loader.render_to_string(kind.template, context)
    except Exception:
        # Broad on purpose: whatever broke the template, the visitor still gets an answer
        # with the right status, and the cause goes to the log instead of the page.
        logger.exception("Could not render the %s error page", kind.status)
        return FALLBACK_PAGE.format(status=kind.status, detail=kind.detail)


def _minutes(seconds: int | None) -> int | None:
    if seconds is None:
        return None
    return max(1, math.ceil(seconds / 60))


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler400: a malformed or suspicious request (including a Host not allowed)."""
    return error_response(request, BAD_REQUEST)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: PermissionDenied raised by a view."""
    return error_response(request, PERMISSION_DENIED)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form posted without a valid token (Django logs the reason)."""
    hints = {
        "no_cookie": reason == REASON_NO_CSRF_COOKIE,
        "no_referer": reason == REASON_NO_REFERER,
    }
    return error_response(request, CSRF_FAILED, hints=hints)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler404: no such page, or Http404 raised by a view."""
    return error_response(request, NOT_FOUND)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: an unhandled exception (already logged by Django)."""
    return error_response(request, SERVER_ERROR)


def too_many_requests(request: HttpRequest, retry_after: int) -> HttpResponse:
    """Answer 429 with a ``Retry-After`` of ``retry_after`` seconds (lockouts, throttles)."""
    return error_response(request, TOO_MANY_REQUESTS, retry_after=retry_after)


def service_unavailable(
    request: HttpRequest, retry_after: int | None = None, *, as_json: bool | None = None
) -> HttpResponse:
    """Answer 503, for a dependency such as the session store that is down right now."""
    return error_response(request, SERVICE_UNAVAILABLE, retry_after=retry_after, as_json=as_json)
