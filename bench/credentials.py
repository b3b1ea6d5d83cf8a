"""
Sign in as a client of each edge would, and check that the credential opens the endpoint.

Every failure raises ``Unavailable`` with a reason a person can act on; the benchmark
reports the mode as "unavailable: <reason>" and carries on with the others.
"""

import base64
import json
import re
from urllib.parse import urlencode

from .modes import LOGIN_PATH, TOKEN_PATH
from .transport import CookieJar, Response

CSRF_FIELD = re.compile(
    r"<input[^>]*name=[\"']csrfmiddlewaretoken[\"'][^>]*value=[\"']([^\"']+)[\"']"
    r"|<input[^>]*value=[\"']([^\"']+)[\"'][^>]*name=[\"']csrfmiddlewaretoken[\"']"
)


class Unavailable(Exception):
    """A mode cannot be measured; the message says why."""


def _missing(method: str, path: str, what: str) -> Unavailable:
    return Unavailable(f"{method} {path} answered 404 ({what} not present)")


def csrf_field(html: str) -> str | None:
    """Return the value of the form's csrfmiddlewaretoken field, or None."""
    match = CSRF_FIELD.search(html)
    return (match.group(1) or match.group(2)) if match else None


def session_sign_in(
    transport, *, email: str, password: str, session_cookie: str = "sessionid"
) -> dict[str, str]:
    """
    Sign in through the storefront's login form; return the headers that carry the session.

    The form is fetched first for its CSRF cookie and field, as a browser does.
    """
    jar = CookieJar()
    form = transport.request("GET", LOGIN_PATH)
    if form.status == 404:
        raise _missing("GET", LOGIN_PATH, "storefront login")
    if form.status != 200:
        raise Unavailable(f"GET {LOGIN_PATH} answered {form.status}")
    jar.update(form)
    token = csrf_field(form.text())
    if token is None:
        raise Unavailable(f"GET {LOGIN_PATH}: no csrfmiddlewaretoken field in the form")
    answer = transport.request(
        "POST",
        LOGIN_PATH,
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": jar.header(),
        },
        body=urlencode(
            {"username": email, "password": password, "csrfmiddlewaretoken": token}
        ).encode(),
    )
    jar.update(answer)
    if answer.status not in (301, 302, 303) or session_cookie not in jar.cookies:
        raise Unavailable(
            f"POST {LOGIN_PATH} did not sign in (status {answer.status}, "
            f"cookies {sorted(jar.cookies)}): wrong demo credentials, lockout or CSRF failure"
        )
    return {"Cookie": jar.header()}


def token_sign_in(transport, *, email: str, password: str) -> tuple[dict[str, str], dict]:
    """Obtain a token pair from the API; return the Bearer header and the pair."""
    answer = transport.request(
        "POST",
        TOKEN_PATH,
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        body=json.dumps({"email": email, "password": password}).encode(),
    )
    if answer.status == 404:
        raise _missing("POST", TOKEN_PATH, "API token endpoint")
    if answer.status != 200:
        raise Unavailable(f"POST {TOKEN_PATH} answered {answer.status}: {answer.text()[:200]}")
    try:
        tokens = answer.json()
        access = tokens["access"]
    except (ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"POST {TOKEN_PATH} gave no access token: {answer.text()[:200]}") from exc
    return {"Authorization": f"Bearer {access}"}, tokens


def token_algorithm(token: str) -> str | None:
    """Return the ``alg`` of a JWT's header, read without verifying anything."""
    try:
        header = token.split(".", 1)[0]
        return json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["alg"]
    except (ValueError, KeyError, IndexError, TypeError):
        return None


def sign_in(transport, mode, *, email: str, password: str, session_cookie: str) -> dict[str, str]:
    """Return the headers that authenticate ``mode``'s requests; check the token's algorithm."""
    if mode.credential == "session":
        return session_sign_in(
            transport, email=email, password=password, session_cookie=session_cookie
        )
    headers, tokens = token_sign_in(transport, email=email, password=password)
    algorithm = token_algorithm(tokens["access"])
    if mode.jwt_algorithm and algorithm != mode.jwt_algorithm:
        # Otherwise an ignored JWT_ALGORITHM would be benchmarked as if it were honoured.
        raise Unavailable(
            f"the server signed with {algorithm}, not {mode.jwt_algorithm} "
            "(JWT_ALGORITHM not honoured by the settings)"
        )
    return headers


def check_endpoint(transport, path: str, headers: dict[str, str] | None = None) -> Response:
    """Request ``path`` once and require a 200, the answer the load generator counts as OK."""
    answer = transport.request("GET", path, headers=headers)
    if answer.status == 404:
        raise _missing("GET", path, "endpoint")
    if answer.status != 200:
        raise Unavailable(f"GET {path} answered {answer.status}, not 200")
    return answer
