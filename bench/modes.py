"""
What the benchmark measures: two edges, each with an unauthenticated floor, and the
authentication modes of each edge as environment settings of the same site.

A mode is only a set of environment variables (the contract the settings read) plus the
credential a client presents; the benchmark starts the same gunicorn command for every
mode, so nothing but those variables differs between them.

Every mode comes twice, measured in the same run: ``<family>-stock`` with
``AUTH_FAST_PATH=0`` (Django's and simplejwt's own pieces) and ``<family>-fast`` with
``AUTH_FAST_PATH=1`` (the project's speed work, the ``fastpath`` package). The issue's
targets and the fast path's claims about calls per request belong to the fast variant;
the stock one is measured against the same floor, to show what the speed work buys.
"""

from dataclasses import dataclass, field, replace

from shop.demo import DEMO_PASSWORD, DEMO_USERS

# Every mode signs in as the first demo customer (alice@example.com).
DEMO_EMAIL = DEMO_USERS[0]["email"]
DEMO_CREDENTIALS = {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}

LOGIN_PATH = "/accounts/login/"
TOKEN_PATH = "/api/auth/token/"  # noqa: S105 - a URL path, not a secret
TOKEN_REFRESH_PATH = "/api/auth/token/refresh/"  # noqa: S105 - a URL path

# Targets from issue 5, part 3, as ratios to the edge's floor measured in the same run.
TARGET_JWT_STATELESS = 0.85
# Issue 17: the session served from the process's copies (SESSION_CLIENT_CACHE=1).
TARGET_SESSION_CLIENT_CACHE = 0.9
TARGET_SESSION_REDIS = 0.75
TARGET_JWT_DB = 0.6

ASYMMETRIC_ALGORITHMS = ("RS256", "EdDSA")
# The variants of every mode, and the AUTH_FAST_PATH value of each (the settings' contract).
VARIANTS = {"stock": "0", "fast": "1"}


@dataclass(frozen=True)
class Edge:
    """
    One way into the site, with its floor: the same kind of view without authentication,
    on one server: gunicorn's sync workers (WSGI) or uvicorn's (ASGI).
    """

    name: str
    floor_path: str
    floor_label: str
    server: str = "gunicorn"


EDGES = {
    "storefront": Edge("storefront", "/healthz", "floor: storefront /healthz"),
    "api": Edge("api", "/api/healthz/", "floor: API /api/healthz/"),
    "storefront-asgi": Edge(
        "storefront-asgi", "/healthz", "floor: storefront /healthz, uvicorn", server="uvicorn"
    ),
    "api-asgi": Edge("api-asgi", "/api/healthz/", "floor: API /api/healthz/, uvicorn", "uvicorn"),
}
# The families also measured under uvicorn (ASGI), each beside its own uvicorn floor and,
# through ``vs_wsgi``, beside the same mode under gunicorn in the same run.
ASGI_FAMILIES = ("session-cache", "jwt-db-hs256", "jwt-stateless-hs256")


@dataclass(frozen=True)
class Mode:
    """One authenticated configuration, driven at ``path`` with a ``credential``."""

    name: str
    label: str
    edge: str
    path: str
    credential: str  # "session" (cookie from /accounts/login/) or "token" (Bearer access)
    env: dict[str, str] = field(default_factory=dict)
    needs_redis: bool = False
    # Measured to explain another mode, not compared on its own: left out of quick runs.
    diagnostic: bool = False
    jwt_algorithm: str | None = None
    target: float | None = None
    # The fast-path claims of issue 5: queries and Redis round trips per request. A
    # measurement that contradicts them is reported as a note beside the numbers.
    expect_queries: int | None = None
    expect_redis_calls: int | None = None
    # The mode's name without its variant, and the variant: "stock" or "fast".
    family: str = ""
    variant: str = ""

    @property
    def floor(self) -> Edge:
        return EDGES[self.edge]

    @property
    def server(self) -> str:
        return EDGES[self.edge].server


def variants(mode: Mode) -> list[Mode]:
    """Return ``mode`` on the stock path and on the fast path, in that order."""
    fast = replace(
        mode,
        name=f"{mode.name}-fast",
        label=f"{mode.label}, fast path",
        env={**mode.env, "AUTH_FAST_PATH": VARIANTS["fast"]},
        family=mode.name,
        variant="fast",
    )
    stock = replace(
        fast,
        name=f"{mode.name}-stock",
        label=f"{mode.label}, stock",
        env={**mode.env, "AUTH_FAST_PATH": VARIANTS["stock"]},
        variant="stock",
        target=None,
        expect_queries=None,
        expect_redis_calls=None,
    )
    return [stock, fast]


def asgi_variant(mode: Mode) -> Mode:
    """Return ``mode`` served by uvicorn instead of gunicorn: ``<family>-asgi-<variant>``."""
    return replace(
        mode,
        name=f"{mode.family}-asgi-{mode.variant}",
        label=f"{mode.label}, uvicorn",
        edge=f"{mode.edge}-asgi",
        family=f"{mode.family}-asgi",
        # The targets and the call counts are gunicorn's: the counts are taken by its
        # request hooks, which uvicorn has not.
        target=None,
        expect_queries=None,
        expect_redis_calls=None,
    )


def _session_modes() -> list[Mode]:
    def session(name, label, backend, path="/accounts/me/", **kwargs):
        return Mode(
            name=name,
            label=label,
            edge="storefront",
            path=path,
            credential="session",
            env={"SESSION_BACKEND": backend},
            **kwargs,
        )

    return [
        session("session-db", "session, database store", "db"),
        session(
            "session-cache",
            "session, Redis store",
            "cache",
            needs_redis=True,
            target=TARGET_SESSION_REDIS,
            expect_queries=0,
            expect_redis_calls=1,
        ),
        # The floor view with the Redis session's cookie. On the fast path the middleware
        # fetches the session (for every request with a well-formed cookie) but nothing reads
        # it: what this costs beyond the floor is the round trip alone, and session-cache costs
        # this plus the session's decoding and the user. Django's own middleware reads a
        # session only when something uses it, so the -stock row sends Redis nothing.
        session(
            "session-cache-round-trip",
            "session in Redis, round trip only (/healthz with the cookie)",
            "cache",
            path="/healthz",
            needs_redis=True,
            diagnostic=True,
            expect_queries=0,
            expect_redis_calls=1,
        ),
        session("session-cached-db", "session, Redis + database", "cached_db", needs_redis=True),
        session("session-signed-cookies", "session, signed cookies", "signed_cookies"),
    ]


def client_cache_mode() -> Mode:
    """
    Sessions in Redis served from each process's copies (SESSION_CLIENT_CACHE=1,
    fastpath/client_cache.py): an option of the fast path, so it has no stock variant.
    """
    return Mode(
        name="session-client-cache-fast",
        label="session, Redis store + per-process copies (client-side caching), fast path",
        edge="storefront",
        path="/accounts/me/",
        credential="session",
        env={"SESSION_BACKEND": "cache", "AUTH_FAST_PATH": "1", "SESSION_CLIENT_CACHE": "1"},
        needs_redis=True,
        target=TARGET_SESSION_CLIENT_CACHE,
        expect_queries=0,
        expect_redis_calls=0,
        family="session-client-cache",
        variant="fast",
    )


def _jwt_modes(algorithm: str) -> list[Mode]:
    def jwt(kind, label, env, **kwargs):
        return Mode(
            name=f"jwt-{kind}-{algorithm.lower()}",
            label=f"{label} ({algorithm})",
            edge="api",
            path="/api/me/",
            credential="token",
            env={**env, "JWT_ALGORITHM": algorithm},
            jwt_algorithm=algorithm,
            **kwargs,
        )

    return [
        jwt("db", "JWT, database user lookup", {"JWT_USER_LOOKUP": "db"}, target=TARGET_JWT_DB),
        jwt(
            "stateless",
            "JWT, stateless",
            {"JWT_USER_LOOKUP": "stateless"},
            target=TARGET_JWT_STATELESS,
            expect_queries=0,
            expect_redis_calls=0,
        ),
        # The denylist is the revocation check a stateless token otherwise lacks, so it is
        # measured on top of the stateless lookup: one Redis round trip, no query.
        jwt(
            "denylist",
            "JWT, stateless + Redis denylist",
            {"JWT_USER_LOOKUP": "stateless", "JWT_ACCESS_DENYLIST": "1"},
            needs_redis=True,
            expect_queries=0,
            expect_redis_calls=1,
        ),
    ]


def all_modes(*, asymmetric_algorithm: str = "RS256") -> list[Mode]:
    """
    Return every mode, the storefront's first, JWT with HS256 and one asymmetric algorithm;
    each as its stock variant followed by its fast one (the client-cache mode only fast);
    then the ASGI_FAMILIES again, served by uvicorn.
    """
    if asymmetric_algorithm not in ASYMMETRIC_ALGORITHMS:
        raise ValueError(
            f"asymmetric algorithm must be one of {', '.join(ASYMMETRIC_ALGORITHMS)}, "
            f"not {asymmetric_algorithm!r}"
        )
    sessions = [mode for family in _session_modes() for mode in variants(family)]
    jwts = [*_jwt_modes("HS256"), *_jwt_modes(asymmetric_algorithm)]
    modes = [
        *sessions,
        client_cache_mode(),
        *(mode for family in jwts for mode in variants(family)),
    ]
    return modes + [asgi_variant(mode) for mode in modes if mode.family in ASGI_FAMILIES]


def select_modes(modes: list[Mode], names: list[str] | None) -> list[Mode]:
    """
    Keep the modes named (all when ``names`` is empty), in the order given; a family's name
    keeps both its variants. Reject unknown names.
    """
    if not names:
        return modes
    known = {mode.name: [mode] for mode in modes}
    for mode in modes:
        known.setdefault(mode.family, []).append(mode)
    unknown = [name for name in names if name not in known]
    if unknown:
        listed = ", ".join(mode.name for mode in modes)
        raise ValueError(f"unknown mode(s): {', '.join(unknown)}; known: {listed}")
    chosen = {mode.name: mode for name in names for mode in known[name]}
    return list(chosen.values())
