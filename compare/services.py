"""
The comparison page's writes: the token pair it shows beside the session, and the
revocation experiment. Both go through the same services as the two edges
(``accounts.sessions``, ``api.token_services``, ``accounts.services``), so what the page
shows is what the storefront and the API do, not a re-enactment.
"""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import import_module

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from rest_framework_simplejwt.exceptions import TokenError

from accounts import services as account_services
from accounts import sessions
from accounts.models import SignIn, User
from accounts.sessions import SIGN_IN_STATE_KEY
from api import token_services
from api.tokens import SID_CLAIM, AccessToken

from .costs import token_check
from .selectors import duration_text

# The session remembers the demo sign-in's id (never a token), so that the page shows the
# same sign-in on every visit instead of starting a new one each time.
DEMO_SIGN_IN_SESSION_KEY = "_compare_demo_signin"
# Parsed by "Your devices" as the browser "comparison-demo-bot", so these sign-ins are
# recognisable there as the page's own and not a client of the visitor's.
DEMO_USER_AGENT = "comparison-demo-bot/1.0 (token pair shown on the comparison page)"
EXPERIMENT_SESSION_USER_AGENT = "comparison-demo-bot/1.0 (revocation experiment: session)"
EXPERIMENT_PAIR_USER_AGENT = "comparison-demo-bot/1.0 (revocation experiment: token pair)"


def _client_request(*, request, user_agent: str) -> HttpRequest:
    # A stand-in for a second client of the same visitor: same address, its own user agent.
    client = HttpRequest()
    client.META = {
        "REMOTE_ADDR": request.META.get("REMOTE_ADDR", ""),
        "HTTP_USER_AGENT": user_agent,
    }
    return client


def _user_row(user) -> User:
    # request.user is built from the session's snapshot; issuing tokens reads the password
    # hash, so load the whole row once.
    return User._default_manager.get(pk=user.pk)


@dataclass(frozen=True)
class DemoCredentials:
    """The token sign-in shown on the page and a fresh access token of it."""

    sign_in: SignIn
    access: str
    started_now: bool


def _demo_candidates(*, request, user) -> list[SignIn]:
    # This session's demo sign-in first, then any other live one of the user's (opened from
    # another browser), so that the user has one demo sign-in however many sessions visit.
    live = SignIn.objects.filter(
        user=user, kind=SignIn.Kind.TOKEN, ended_at__isnull=True, expires_at__gt=timezone.now()
    )
    candidates = []
    sign_in_id = request.session.get(DEMO_SIGN_IN_SESSION_KEY)
    if sign_in_id:
        candidates += list(live.filter(pk=sign_in_id))
    others = live.filter(user_agent=DEMO_USER_AGENT).exclude(pk__in=[c.pk for c in candidates])
    candidates += list(others)
    return candidates


def demo_credentials_get(*, request, user) -> DemoCredentials:
    """
    Return the page's token sign-in for this user with a new access token of it, starting
    the sign-in (a real one, listed in "Your devices") when the user has no live one.
    The session keeps only the sign-in's id, never a token.
    """
    for sign_in in _demo_candidates(request=request, user=user):
        try:
            access = token_services.token_access_issue(sign_in=sign_in)
        except TokenError:  # Ended between the query and now.
            continue
        if request.session.get(DEMO_SIGN_IN_SESSION_KEY) != str(sign_in.pk):
            request.session[DEMO_SIGN_IN_SESSION_KEY] = str(sign_in.pk)
        return DemoCredentials(sign_in=sign_in, access=access, started_now=False)
    pair = token_services.token_sign_in_start(
        user=_user_row(user), request=_client_request(request=request, user_agent=DEMO_USER_AGENT)
    )
    sign_in = SignIn.objects.get(pk=AccessToken(pair.access)[SID_CLAIM])
    request.session[DEMO_SIGN_IN_SESSION_KEY] = str(sign_in.pk)
    return DemoCredentials(sign_in=sign_in, access=pair.access, started_now=True)


# --- The revocation experiment -------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One credential, tried before and after its sign-in was revoked."""

    credential: str
    works_before: bool
    works_after: bool
    answer_after: str
    checked_after_ms: float
    check_microseconds: float
    usable_until: datetime | None
    why: str

    @property
    def usable_for_seconds(self) -> int:
        """How much longer the credential keeps working after the revocation (0: dead)."""
        if not self.works_after or self.usable_until is None:
            return 0
        return max(0, int((self.usable_until - timezone.now()).total_seconds()))

    @property
    def usable_for_text(self) -> str:
        return duration_text(self.usable_for_seconds) if self.usable_for_seconds else "0 s: dead"


@dataclass(frozen=True)
class ExperimentResult:
    """What the revocation experiment did and what each credential answered."""

    session_backend: str
    jwt_mode: str
    revoked_at: datetime
    revoke_microseconds: float
    probes: list[Probe]


def _session_store():
    return import_module(settings.SESSION_ENGINE).SessionStore


def _session_works(session_key: str) -> bool:
    # The storefront's own path: load the session the cookie names and resolve its user.
    browser = HttpRequest()
    browser.session = _session_store()(session_key=session_key)
    return sessions.session_user(browser).is_authenticated


def _second_session_start(*, request, user: User) -> tuple[str, SignIn]:
    browser = _client_request(request=request, user_agent=EXPERIMENT_SESSION_USER_AGENT)
    browser.session = _session_store()()
    sign_in = sessions.session_sign_in(request=browser, user=user)
    browser.session.save()
    return browser.session.session_key, sign_in


def _timed(check, *args) -> tuple[float, object]:
    started = time.perf_counter_ns()
    result = check(*args)
    return (time.perf_counter_ns() - started) / 1000, result


def _refresh_accepted(raw: str) -> tuple[bool, str]:
    try:
        token_services.token_refresh(raw=raw)
    except TokenError as exc:
        return False, f"refused: {exc}"
    return True, "accepted: a new pair was issued"


def _refresh_valid(raw: str) -> bool:
    # Before the revocation: ask without rotating, as POST /api/auth/token/verify/ does.
    try:
        token_services.token_verify(raw=raw)
    except TokenError:
        return False
    return True


def jwt_mode_label() -> str:
    """Describe the API's access-token checks under the current settings."""
    denylist = "on" if settings.JWT_ACCESS_DENYLIST else "off"
    return (
        f"{settings.SIMPLE_JWT['ALGORITHM']}, user lookup {settings.JWT_USER_LOOKUP}, "
        f"denylist {denylist}"
    )


def revocation_experiment_run(*, request, user) -> ExperimentResult:
    """
    Sign the visitor in a second time by session and once more by token pair, revoke both
    as "Your devices" does, and try every credential again at once.

    The credentials never leave the server: they are made, revoked and probed here.
    """
    user = _user_row(user)
    session_key, session_sign_in = _second_session_start(request=request, user=user)
    pair = token_services.token_sign_in_start(
        user=user,
        request=_client_request(request=request, user_agent=EXPERIMENT_PAIR_USER_AGENT),
    )
    access_claims = AccessToken(pair.access).payload
    token_sign_in_id = access_claims[SID_CLAIM]

    session_before = _session_works(session_key)
    access_before, _ = token_check(pair.access)
    refresh_before = _refresh_valid(pair.refresh)

    started = time.perf_counter_ns()
    account_services.sign_in_revoke(user=user, sign_in_id=session_sign_in.pk)
    account_services.sign_in_revoke(user=user, sign_in_id=token_sign_in_id)
    revoke_microseconds = (time.perf_counter_ns() - started) / 1000
    revoked_at = timezone.now()
    revoked_clock = time.perf_counter_ns()

    def since_revocation_ms() -> float:
        return (time.perf_counter_ns() - revoked_clock) / 1_000_000

    probes = []

    checked_after = since_revocation_ms()
    spent, session_after = _timed(_session_works, session_key)
    probes.append(
        _session_probe(
            works_before=session_before,
            works_after=session_after,
            checked_after_ms=checked_after,
            check_microseconds=spent,
            session_key=session_key,
        )
    )

    checked_after = since_revocation_ms()
    spent, (refresh_after, refresh_answer) = _timed(_refresh_accepted, pair.refresh)
    probes.append(
        Probe(
            credential="refresh token",
            works_before=refresh_before,
            works_after=refresh_after,
            answer_after=refresh_answer,
            checked_after_ms=checked_after,
            check_microseconds=spent,
            usable_until=None,
            why=(
                "Refreshing reads the sign-in's row and the token's blacklist row: revoking "
                "ended one and filled the other, so the chain is dead at once, in every mode."
            ),
        )
    )

    checked_after = since_revocation_ms()
    spent, (access_after, access_answer) = _timed(token_check, pair.access)
    access_expiry = datetime.fromtimestamp(access_claims["exp"], tz=UTC)
    probes.append(
        Probe(
            credential="access token",
            works_before=access_before,
            works_after=access_after,
            answer_after=access_answer,
            checked_after_ms=checked_after,
            check_microseconds=spent,
            usable_until=access_expiry if access_after else None,
            why=_access_why(access_after),
        )
    )
    return ExperimentResult(
        session_backend=settings.SESSION_ENGINE.rsplit(".", 1)[-1],
        jwt_mode=jwt_mode_label(),
        revoked_at=revoked_at,
        revoke_microseconds=revoke_microseconds,
        probes=probes,
    )


def _session_probe(
    *,
    works_before: bool,
    works_after: bool,
    checked_after_ms: float,
    check_microseconds: float,
    session_key: str,
) -> Probe:
    if settings.SESSION_ENGINE.endswith("signed_cookies"):
        # The cookie still verifies; the storefront learns of the revocation at the
        # session's next activity check, when it finds the SignIn ended.
        state = _session_store()(session_key=session_key).get(SIGN_IN_STATE_KEY) or {}
        seen = state.get("seen", int(time.time()))
        check_at = datetime.fromtimestamp(seen, tz=UTC) + timedelta(
            seconds=settings.SESSION_ACTIVITY_THROTTLE_SECONDS
        )
        why = (
            "A signed-cookie session lives in the browser: the server has nothing to delete. "
            "The cookie keeps working until its next activity check finds the sign-in ended "
            f"(at most {settings.SESSION_ACTIVITY_THROTTLE_SECONDS} s)."
        )
        usable_until = check_at if works_after else None
        answer = "accepted: the cookie still verifies" if works_after else "refused"
    else:
        why = (
            "Revoking deleted the session from its store. The next request bearing the cookie "
            "finds nothing under its key: dead at once."
        )
        usable_until = None
        answer = "accepted" if works_after else "refused: no session under that key (signed out)"
    return Probe(
        credential="session cookie",
        works_before=works_before,
        works_after=works_after,
        answer_after=answer,
        checked_after_ms=checked_after_ms,
        check_microseconds=check_microseconds,
        usable_until=usable_until,
        why=why,
    )


def _access_why(works_after: bool) -> str:
    if not works_after:
        return (
            "The denylist is on: revoking wrote the sign-in's id to Redis, and every API request "
            "looks it up (one GET), so its access tokens are refused at once."
        )
    checks = "its signature and expiry"
    if settings.JWT_USER_LOOKUP == "db":
        checks += ", and that your account is active with an unchanged password"
    return (
        f"The API checks {checks}. None of that changed: nothing on the server records "
        "access tokens, so this one works until it expires (or turn on JWT_ACCESS_DENYLIST)."
    )
