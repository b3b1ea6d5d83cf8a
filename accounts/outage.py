"""
What the site does while Redis or the database is down: a 503, never a 500 or a guess.

``accounts.middleware.SessionOutageMiddleware`` sits around Django's ``SessionMiddleware``
(and ``accounts/session_store.py`` keeps the cache engine from mistaking an unreachable Redis
for "no session"). While the session store cannot be reached:

- pages marked ``@serve_signed_out_during_outage`` (the catalog and product pages, on GET)
  render signed out, from an empty session that is never saved; the session cookie is kept;
- every other page that reads the session (sign-in, sign-up, cart, checkout, orders,
  account pages, sign-out) answers the site's 503 page with ``Retry-After``, before the
  view has written anything: a form post is refused up front if the store does not
  answer, so a sign-up never creates an account it then cannot sign in;
- nobody is ever treated as signed in from a session that could not be read.

Any view that fails because Redis (the sign-in lockout, the API's access-token denylist)
or the database is unreachable answers 503 too: the site's page, or JSON under ``/api/``
and for views marked ``@answers_json``. The API reads no session, so in stateless token
mode it keeps serving without Redis.

The fail-closed choices (the lockout and the denylist cannot be checked, so sign-in and
denylisted tokens answer 503) are deliberate: failing open would let a brute force or a
revoked token through for as long as the outage lasts.
"""

import logging
from collections.abc import Callable

import redis
from django.db import InterfaceError, OperationalError
from django_redis.exceptions import ConnectionInterrupted

from config.errors import service_unavailable

logger = logging.getLogger(__name__)


class SessionStoreUnavailable(Exception):
    """The session store could not be reached; the session is neither known nor empty."""


# How long clients are told to wait: a restarted Redis or a failed-over database is
# usually back within this.
RETRY_AFTER_SECONDS = 30

# What django-redis lets through when Redis cannot serve: the server is unreachable, slow,
# read-only (a replica after a failover) or out of memory. Other Redis errors are bugs.
REDIS_DOWN_ERRORS = (
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    redis.exceptions.ReadOnlyError,
    redis.exceptions.OutOfMemoryError,
    ConnectionInterrupted,
    TimeoutError,
)
DATABASE_DOWN_ERRORS = (OperationalError, InterfaceError)
SERVICE_DOWN_ERRORS = (SessionStoreUnavailable, *REDIS_DOWN_ERRORS, *DATABASE_DOWN_ERRORS)

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def serve_signed_out_during_outage(view: Callable) -> Callable:
    """
    Mark a public view that, while the session store is down, may render for a signed-out
    visitor (GET and HEAD only) instead of answering 503.
    """
    view.serve_signed_out_during_outage = True
    return view


def answers_json(view: Callable) -> Callable:
    """Mark a view outside /api/ that answers JSON, so that its 503 is JSON too."""
    view.answers_json = True
    return view


def outage_response(request, exc: Exception):
    """Log which service is down and answer the site's 503 (JSON for JSON views)."""
    logger.warning(
        "%s is unavailable (%s: %s); answering 503", _service(exc), type(exc).__name__, exc
    )
    return service_unavailable(
        request,
        retry_after=RETRY_AFTER_SECONDS,
        as_json=getattr(request, "outage_answers_json", False) or None,
    )


def _service(exc: Exception) -> str:
    if isinstance(exc, DATABASE_DOWN_ERRORS):
        return "The database"
    if isinstance(exc, SessionStoreUnavailable):
        return "The session store"
    return "Redis"
