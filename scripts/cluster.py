"""
Run the shop as a small cluster on this machine (``make cluster``).

- Instances A and B: the same site under gunicorn (DEBUG off, ``config.settings.cluster``:
  production's settings with plain HTTP allowed on loopback) on two ports, sharing one
  PostgreSQL database and one Redis. Sessions live in Redis (``SESSION_BACKEND=cache``),
  tokens are signed with RS256 by a throwaway key pair generated for the run, and the
  access-token denylist is on (``JWT_ACCESS_DENYLIST``), so a sign-out on one instance is
  seen by the other at once.
- The resource server (``resource_server/app.py``): a separate process that holds only the
  public key, fetched from the ``jwks_uri`` of A's authorization-server metadata
  (``/.well-known/oauth-authorization-server``). No database, no Redis. Its audience is its
  own URL, which the shop's ``JWT_AUDIENCES`` names: a client asks A for a token for it with
  ``resource`` (RFC 8707), and each refuses the other's tokens (audience_checks()).

The script creates the database if needed, migrates it, loads the demo data, collects the
static files into a temporary directory, starts the three processes, prints their URLs and
keeps them running until Ctrl-C. ``tests/test_cluster.py`` drives the same functions.

Configuration: ``DATABASE_URL`` (PostgreSQL; default
postgres://postgres@127.0.0.1:5432/cluster_demo), ``REDIS_URL`` (default
redis://127.0.0.1:6379/8), or the command-line options (``--help``).
"""

import argparse
import http.client
import json
import os
import secrets
import signal
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# These need the repository root on sys.path.
from bench.processes import LOOPBACK, Gunicorn, ManageError, ServerError, manage  # noqa: E402
from config import keypairs  # noqa: E402
from shop.demo import DEMO_PASSWORD, DEMO_USERS  # noqa: E402

HOST = LOOPBACK
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cluster_demo"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/8"
DEFAULT_PORTS = (8001, 8002, 8003)
# Environment variables the processes inherit; everything else is set here, so a
# developer's own settings cannot change what the cluster runs.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


class ClusterError(RuntimeError):
    """A step of starting the cluster failed; the message carries the step's output."""


@dataclass(frozen=True)
class ClusterConfig:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    ports: tuple[int, int, int] = DEFAULT_PORTS
    workers: int = 2
    algorithm: str = "RS256"
    cache_key_prefix: str = "cluster"
    access_lifetime_seconds: int = 300
    leeway_seconds: int = 10
    # Drop and recreate the database first (tests); otherwise reuse it if it exists.
    fresh_database: bool = False


@dataclass
class Cluster:
    """The running cluster: its URLs, and where its keys and logs are."""

    a: str
    b: str
    resource_server: str
    # The resource indicator (RFC 8707) that names the resource server, and its tokens' aud.
    resource_server_audience: str
    workdir: Path
    servers: dict[str, Gunicorn] = field(default_factory=dict)

    def dead(self) -> list[str]:
        """Return the names of the servers that have exited."""
        return [name for name, server in self.servers.items() if server.exited()]

    def log_tail(self, name: str, lines: int = 20) -> str:
        return self.servers[name].log_tail(lines)


# --- Keys, database, environment ---------------------------------------------------------


def key_pair_write(directory: Path, *, algorithm: str) -> tuple[Path, Path]:
    """Generate a throwaway key pair for the algorithm; return (private, public) PEM paths."""
    if algorithm not in keypairs.ALGORITHMS:
        raise ClusterError(f"The cluster signs with RS256 or EdDSA, not {algorithm}.")
    private_path = directory / "jwt_private.pem"
    public_path = directory / "jwt_public.pem"
    keypairs.key_pair_ensure(
        algorithm=algorithm, private_path=private_path, public_path=public_path
    )
    return private_path, public_path


def _database_name_and_server(database_url: str) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(database_url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ClusterError(f"The cluster needs PostgreSQL; {database_url!r} is not.")
    name = parts.path.lstrip("/")
    if not name:
        raise ClusterError(f"{database_url!r} names no database.")
    # Connect to the server's maintenance database to create or drop ours.
    server = urllib.parse.urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    return name, server


def database_create(database_url: str, *, fresh: bool = False) -> None:
    """Create the database if it does not exist (``fresh``: drop it first)."""
    import psycopg
    from psycopg import sql

    name, server = _database_name_and_server(database_url)
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        if fresh:
            connection.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone()
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def database_drop(database_url: str) -> None:
    """Drop the database, closing whatever connections are still open to it."""
    import psycopg
    from psycopg import sql

    name, server = _database_name_and_server(database_url)
    with psycopg.connect(server, autocommit=True, connect_timeout=5) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def resource_server_audience(config: ClusterConfig) -> str:
    """Return the resource server's audience: its own URL, as RFC 9068 §3 advises."""
    return f"http://{HOST}:{config.ports[2]}/"


def site_env(config: ClusterConfig, *, workdir: Path, keys: tuple[Path, Path]) -> dict[str, str]:
    """Return the environment both instances run with: one secret, one database, one Redis."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.cluster",
            # Shared by A and B: each must read the sessions and CSRF tokens of the other.
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "DATABASE_URL": config.database_url,
            "REDIS_URL": config.redis_url,
            "CACHE_KEY_PREFIX": config.cache_key_prefix,
            "SESSION_BACKEND": "cache",
            "JWT_ALGORITHM": config.algorithm,
            "JWT_PRIVATE_KEY_FILE": str(keys[0]),
            "JWT_PUBLIC_KEY_FILE": str(keys[1]),
            "JWT_ACCESS_DENYLIST": "true",
            "JWT_AUDIENCES": resource_server_audience(config),
            "JWT_ACCESS_LIFETIME_SECONDS": str(config.access_lifetime_seconds),
            "JWT_LEEWAY_SECONDS": str(config.leeway_seconds),
            "STATIC_ROOT": str(workdir / "static"),
        }
    )
    return env


def resource_server_env(config: ClusterConfig, *, metadata_url: str) -> dict[str, str]:
    """Return the resource server's environment: where the keys are, and nothing else."""
    env = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    env.update(
        {
            "AUTHORIZATION_SERVER_METADATA_URL": metadata_url,
            "JWT_AUDIENCE": resource_server_audience(config),
            "JWT_ALGORITHMS": config.algorithm,
            "JWT_LEEWAY_SECONDS": str(config.leeway_seconds),
        }
    )
    return env


# --- Processes ---------------------------------------------------------------------------


def prepare(env: dict[str, str]) -> None:
    """Migrate the shared database, load the demo data and collect the static files."""
    try:
        for command in (["migrate", "--noinput"], ["seed_demo"], ["collectstatic", "--noinput"]):
            manage(*command, env=env, timeout=300, check=True)
    except ManageError as exc:
        raise ClusterError(str(exc)) from exc


@contextmanager
def cluster(config: ClusterConfig) -> Iterator[Cluster]:
    """Prepare the shared services, run A, B and the resource server, stop them on exit."""
    with tempfile.TemporaryDirectory(prefix="cluster-") as tmp, ExitStack() as running:
        workdir = Path(tmp)
        keys = key_pair_write(workdir, algorithm=config.algorithm)
        env = site_env(config, workdir=workdir, keys=keys)
        database_create(config.database_url, fresh=config.fresh_database)
        prepare(env)

        port_a, port_b, port_rs = config.ports
        state = Cluster(
            a=f"http://{HOST}:{port_a}",
            b=f"http://{HOST}:{port_b}",
            resource_server=f"http://{HOST}:{port_rs}",
            resource_server_audience=resource_server_audience(config),
            workdir=workdir,
        )

        def start(name: str, app: str, port: int, server_env: dict[str, str]) -> Gunicorn:
            server = Gunicorn(
                app=app,
                port=port,
                env=server_env,
                workers=config.workers,
                log_path=workdir / f"{name}.log",
                start_timeout=60,
            )
            state.servers[name] = server
            running.callback(server.stop)
            server.start()
            return server

        try:
            site = "config.wsgi:application"
            started = [start("a", site, port_a, env), start("b", site, port_b, env)]
            for server in started:
                server.wait_until_serving()
            # A is serving, so the resource server can fetch the public key at start.
            rs_env = resource_server_env(
                config, metadata_url=f"{state.a}/.well-known/oauth-authorization-server"
            )
            start("resource_server", "resource_server.app:create_app()", port_rs, rs_env)
            state.servers["resource_server"].wait_until_serving()
        except ServerError as exc:
            logs = "\n".join(f"--- {name}.log\n{state.log_tail(name)}" for name in state.servers)
            raise ClusterError(f"{exc}\n{logs}") from exc
        yield state


# --- Tokens per audience -----------------------------------------------------------------


@dataclass(frozen=True)
class AudienceCheck:
    """One token sent to one service, and the status it answered."""

    token_for: str
    sent_to: str
    status: int


def _http(method: str, url: str, *, body: dict | None = None, token: str = "") -> tuple[int, dict]:
    parts = urllib.parse.urlsplit(url)
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
    try:
        payload = None if body is None else json.dumps(body).encode()
        connection.request(method, parts.path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read() or b"{}")
    finally:
        connection.close()


def audience_checks(running: Cluster, *, email: str, password: str) -> list[AudienceCheck]:
    """
    Ask A for an access token for the shop's API and one for the resource server (RFC 8707
    ``resource``), send each to B's /api/me/ and to the resource server's /whoami, and
    return what each answered: each service accepts its own tokens and refuses the other's.
    """
    services = {
        "shop API": (None, f"{running.b}/api/me/"),
        "resource server": (running.resource_server_audience, f"{running.resource_server}/whoami"),
    }
    tokens = {}
    for name, (resource, _url) in services.items():
        body = {"email": email, "password": password}
        if resource is not None:
            body["resource"] = resource
        status, answer = _http("POST", f"{running.a}/api/auth/token/", body=body)
        if status != 200:
            raise ClusterError(f"A refused a token for the {name}: {status} {answer}")
        tokens[name] = answer["access"]
    return [
        AudienceCheck(token_for=name, sent_to=target, status=_http("GET", url, token=token)[0])
        for name, token in tokens.items()
        for target, (_resource, url) in services.items()
    ]


# --- make cluster ------------------------------------------------------------------------


def _postgres_url_from_env() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else DEFAULT_DATABASE_URL


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    # Stop the same way on SIGTERM (a process manager, `timeout`) as on Ctrl-C: through the
    # cleanup that stops every server, so none is left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=_postgres_url_from_env())
    parser.add_argument("--redis-url", default=os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL)
    parser.add_argument(
        "--ports",
        type=int,
        nargs=3,
        default=DEFAULT_PORTS,
        metavar=("A", "B", "RESOURCE_SERVER"),
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per process")
    parser.add_argument("--algorithm", choices=("RS256", "EdDSA"), default="RS256")
    options = parser.parse_args(argv)
    config = ClusterConfig(
        database_url=options.database_url,
        redis_url=options.redis_url,
        ports=tuple(options.ports),
        workers=options.workers,
        algorithm=options.algorithm,
    )
    print(f"Preparing {config.database_url} (migrate, demo data, static files)...", flush=True)
    try:
        with cluster(config) as running:
            print(
                "\nCluster up; Ctrl-C stops everything.\n"
                f"  instance A        {running.a}/   (storefront, /api/, /app/)\n"
                f"  instance B        {running.b}/\n"
                f"  resource server   {running.resource_server}/whoami"
                "   (public key only, found from A's /.well-known/oauth-authorization-server)\n"
                f"  shared            {config.database_url}, {config.redis_url}"
                f" (key prefix {config.cache_key_prefix!r})\n\n"
                f"Sign in on {running.a}/accounts/login/ and open {running.b}/accounts/me/;\n"
                f"get a token from {running.a}/api/auth/token/ and send it to"
                f' {running.b}/api/me/; add "resource": "{running.resource_server_audience}"'
                f" for one that {running.resource_server}/whoami accepts instead.\n"
                "Demo sign-ins: alice@example.com / demo-pass-2026 (see README).",
                flush=True,
            )
            print("\nTokens per audience (RFC 8707): each service refuses the other's.")
            for check in audience_checks(
                running, email=DEMO_USERS[0]["email"], password=DEMO_PASSWORD
            ):
                print(
                    f"  a token for the {check.token_for:<16} -> {check.sent_to:<16}"
                    f" {check.status}",
                    flush=True,
                )
            while not (dead := running.dead()):
                time.sleep(0.5)
            for name in dead:
                print(f"{name} exited:\n{running.log_tail(name)}", file=sys.stderr)
            return 1
    except KeyboardInterrupt:
        print("\nStopped.", flush=True)
        return 0
    except ClusterError as exc:
        print(f"cluster: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
