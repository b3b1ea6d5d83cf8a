"""
Run the shop as a small cluster on this machine (``make cluster``).

- HAProxy (Debian's ``haproxy``) in front: the site's URL. It balances round robin over
  the instances with no stickiness, takes an instance out when its health check
  (``/api/healthz/``) fails, names the instance that answered in ``X-Served-By``, and
  passes the client's address to the instances in the PROXY protocol.
- Instances A, B (``--instances N``: two or more): the same site under gunicorn (DEBUG
  off, ``config.settings.cluster``: production's settings with plain HTTP allowed on
  loopback) on ports of their own, sharing one PostgreSQL database and one Redis. Sessions
  live in Redis (``SESSION_BACKEND=cache``), tokens are signed with RS256 by a throwaway
  key pair generated for the run, and the access-token denylist is on
  (``JWT_ACCESS_DENYLIST``), so a sign-out on one instance is seen by the others at once.
- The resource server (``resource_server/app.py``): a separate process that holds only the
  public key, fetched from the ``jwks_uri`` of A's authorization-server metadata
  (``/.well-known/oauth-authorization-server``). No database, no Redis. Its audience is its
  own URL, which the shop's ``JWT_AUDIENCES`` names: a client asks A for a token for it with
  ``resource`` (RFC 8707), and each refuses the other's tokens (audience_checks()).
- Redis with failover: a primary, a replica and three Sentinels (Debian's
  ``redis-sentinel``), started for the run; the instances reach the primary through the
  Sentinels (``REDIS_SENTINELS``), so when it dies a Sentinel promotes the replica and the
  instances follow it without a restart. The Sentinels call the primary down after
  ``--down-after-ms`` (1000 ms: a demo value, quick to watch; deployments use several
  seconds). ``--redis-url`` uses one Redis of yours instead, without failover.

The script creates the database if needed, migrates it, loads the demo data, collects the
static files into a temporary directory, starts the processes, prints their URLs (the
site's first) and keeps them running until Ctrl-C. ``tests/test_cluster.py`` drives the
same functions.

Configuration: ``DATABASE_URL`` (PostgreSQL; default
postgres://postgres@127.0.0.1:5432/cluster_demo), or the command-line options (``--help``).
Needs ``haproxy``, ``redis-server`` and ``redis-sentinel`` on the PATH (``apt-get install
haproxy redis-sentinel``).
"""

import argparse
import csv
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
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
from bench.processes import (  # noqa: E402
    LOOPBACK,
    Gunicorn,
    ManageError,
    Server,
    ServerError,
    manage,
)
from config import keypairs  # noqa: E402
from shop.demo import DEMO_PASSWORD, DEMO_USERS  # noqa: E402

HOST = LOOPBACK
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/cluster_demo"
DEFAULT_FIRST_PORT = 8001
DEFAULT_PROXY_PORT = 8080
# The cluster's own Redis: the primary, the replica, then the three Sentinels.
DEFAULT_REDIS_PORTS = (6390, 6391, 26390, 26391, 26392)
SENTINEL_SERVICE = "mymaster"
INSTANCE_NAMES = "abcdefghij"
# HAProxy connects to the instances from this loopback address, and only it may send them
# a PROXY protocol header: a client on 127.0.0.1 cannot pose as another address.
PROXY_SOURCE = "127.0.0.2"
# Environment variables the processes inherit; everything else is set here, so a
# developer's own settings cannot change what the cluster runs.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


class ClusterError(RuntimeError):
    """A step of starting the cluster failed; the message carries the step's output."""


def default_ports(instances: int, first: int = DEFAULT_FIRST_PORT) -> tuple[int, ...]:
    """The instances' ports from ``first`` on, then the resource server's."""
    return tuple(range(first, first + instances + 1))


@dataclass(frozen=True)
class ClusterConfig:
    database_url: str = DEFAULT_DATABASE_URL
    # One Redis of yours; None: the cluster's own primary, replica and Sentinels.
    redis_url: str | None = None
    instances: int = 2
    # The instances' ports, then the resource server's.
    ports: tuple[int, ...] = default_ports(2)
    redis_ports: tuple[int, ...] = DEFAULT_REDIS_PORTS
    # How long the Sentinels wait before they call a silent primary down.
    down_after_ms: int = 1000
    proxy_port: int = DEFAULT_PROXY_PORT
    workers: int = 2
    algorithm: str = "RS256"
    cache_key_prefix: str = "cluster"
    access_lifetime_seconds: int = 300
    leeway_seconds: int = 10
    # Drop and recreate the database first (tests); otherwise reuse it if it exists.
    fresh_database: bool = False
    # The project's speed work (fastpath/) instead of Django's and simplejwt's own pieces.
    auth_fast_path: bool = False

    def __post_init__(self):
        if not 2 <= self.instances <= len(INSTANCE_NAMES):
            raise ClusterError(
                f"A cluster runs 2 to {len(INSTANCE_NAMES)} instances, not {self.instances}."
            )
        if len(self.ports) != self.instances + 1:
            raise ClusterError(
                f"{self.instances} instances need {self.instances + 1} ports (theirs, then the "
                f"resource server's), not {len(self.ports)}."
            )
        if self.redis_url is None and len(self.redis_ports) != 5:
            raise ClusterError("Redis needs 5 ports: primary, replica and three Sentinels.")


@dataclass
class Cluster:
    """The running cluster: its URLs, and where its keys and logs are."""

    # HAProxy's frontend: the site, as a visitor reaches it.
    site: str
    # Each instance's own URL, by name: "a", "b", ...
    instances: dict[str, str]
    resource_server: str
    # The resource indicator (RFC 8707) that names the resource server, and its tokens' aud.
    resource_server_audience: str
    workdir: Path
    servers: dict[str, Server] = field(default_factory=dict)
    # The cluster's own Redis (None with --redis-url): where the Sentinels listen.
    sentinel_ports: tuple[int, ...] = ()

    @property
    def a(self) -> str:
        return self.instances["a"]

    @property
    def b(self) -> str:
        return self.instances["b"]

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
    return f"http://{HOST}:{config.ports[-1]}/"


def passed_through_env() -> dict[str, str]:
    """Return the few variables of ours that every process of the cluster inherits."""
    return {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}


def site_env(config: ClusterConfig, *, workdir: Path, keys: tuple[Path, Path]) -> dict[str, str]:
    """Return the environment both instances run with: one secret, one database, one Redis."""
    env = passed_through_env()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.cluster",
            # Shared by A and B: each must read the sessions and CSRF tokens of the other.
            "SECRET_KEY": secrets.token_urlsafe(64),
            "ALLOWED_HOSTS": f"{HOST},localhost",
            "DATABASE_URL": config.database_url,
            **redis_env(config),
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
            "AUTH_FAST_PATH": "1" if config.auth_fast_path else "0",
        }
    )
    return env


def redis_env(config: ClusterConfig) -> dict[str, str]:
    """How the instances reach Redis: the one given, or the primary through the Sentinels."""
    if config.redis_url is not None:
        return {"REDIS_URL": config.redis_url}
    sentinels = ",".join(f"{HOST}:{port}" for port in config.redis_ports[2:])
    return {"REDIS_SENTINELS": sentinels, "REDIS_SENTINEL_SERVICE": SENTINEL_SERVICE}


def redis_description(config: ClusterConfig) -> str:
    """Where the cluster's Redis is, for the banner."""
    if config.redis_url is not None:
        return config.redis_url
    primary, replica, *sentinels = config.redis_ports
    return (
        f"Redis primary :{primary}, replica :{replica},"
        f" Sentinels :{', :'.join(map(str, sentinels))} (service {SENTINEL_SERVICE!r})"
    )


def resource_server_env(config: ClusterConfig, *, metadata_url: str) -> dict[str, str]:
    """Return the resource server's environment: where the keys are, and nothing else."""
    env = passed_through_env()
    env.update(
        {
            "AUTHORIZATION_SERVER_METADATA_URL": metadata_url,
            "JWT_AUDIENCE": resource_server_audience(config),
            "JWT_ALGORITHMS": config.algorithm,
            "JWT_LEEWAY_SECONDS": str(config.leeway_seconds),
        }
    )
    return env


# --- The load balancer -------------------------------------------------------------------

HAPROXY_CONFIG = """\
global
    log stdout format raw local0 info
    stats socket {stats_socket} mode 600 level user

defaults
    mode http
    log global
    option httplog
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    timeout http-request 10s
    # A stopped instance refuses the check at once; a busy one (a worker hashing a
    # password) may take a while to answer, and is not down for that.
    timeout check 3s
    # A request sent to an instance that has just gone is retried on the other one.
    retries 2
    option redispatch

frontend site
    bind {host}:{port}
    default_backend instances

backend instances
    # Round robin, no cookie: nothing ties a visitor to an instance.
    balance roundrobin
    option httpchk
    http-check send meth GET uri /api/healthz/ ver HTTP/1.1 hdr Host {host}
    http-check expect status 200
    # The PROXY protocol carries the client's address to gunicorn, which makes it
    # REMOTE_ADDR: the lockout counts visitors, not the proxy (docs/deploying.md).
    default-server check inter 500ms fall 2 rise 2 send-proxy source {source}
    http-response set-header X-Served-By %[srv_name]
{servers}
"""


def haproxy_config(*, port: int, instances: dict[str, int], stats_socket: Path) -> str:
    """Return HAProxy's configuration: ``port`` balanced round robin over the instances."""
    servers = "\n".join(
        f"    server {name} {HOST}:{instance_port}" for name, instance_port in instances.items()
    )
    return HAPROXY_CONFIG.format(
        host=HOST, port=port, source=PROXY_SOURCE, stats_socket=stats_socket, servers=servers
    )


class HAProxy(Server):
    """HAProxy in the foreground (``-db``) with the configuration file ``config_path``."""

    program = "haproxy"

    def __init__(self, *, config_path: Path, **options):
        super().__init__(**options)
        self.config_path = config_path

    def command(self) -> list[str]:
        return [shutil.which("haproxy"), "-db", "-f", str(self.config_path)]


# --- Redis with failover ----------------------------------------------------------------


class RedisServer(Server):
    """A ``redis-server`` of the cluster's own, keeping nothing on disk; ready once it PINGs."""

    program = "redis-server"

    def __init__(self, *, replica_of: int | None = None, **options):
        super().__init__(**options)
        self.replica_of = replica_of

    def command(self) -> list[str]:
        command = [shutil.which(self.program), *self.options()]
        return command

    def options(self) -> list[str]:
        options = [
            f"--port {self.port}",
            f"--bind {HOST}",
            '--save ""',
            "--appendonly no",
            f"--dir {self.log_path.parent}",
        ]
        if self.replica_of is not None:
            options.append(f"--replicaof {HOST} {self.replica_of}")
        # redis-server takes "--name value" pairs; split them for the argument vector.
        return [part.strip('"') for option in options for part in option.split(" ", 1)]

    def client(self):
        import redis

        return redis.Redis(host=HOST, port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def answers(self, path: str, headers: dict[str, str] | None = None) -> bool:
        import redis

        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False


SENTINEL_CONFIG = """\
port {port}
bind {host}
dir {workdir}
sentinel monitor {service} {host} {primary} 2
sentinel down-after-milliseconds {service} {down_after_ms}
sentinel failover-timeout {service} 10000
sentinel parallel-syncs {service} 1
"""


class Sentinel(RedisServer):
    """A Sentinel watching the primary; it rewrites its own configuration file."""

    program = "redis-sentinel"

    def __init__(self, *, config_path: Path, **options):
        super().__init__(**options)
        self.config_path = config_path

    def command(self) -> list[str]:
        return [shutil.which(self.program), str(self.config_path)]


def redis_with_failover(
    config: ClusterConfig, workdir: Path, run
) -> tuple[RedisServer, RedisServer, list[Sentinel]]:
    """
    Start the primary, its replica and three Sentinels; return once the replica has synced
    and every Sentinel knows the replica and the two other Sentinels (a failover needs a
    quorum of two to agree and one to be elected).
    """
    primary_port, replica_port, *sentinel_ports = config.redis_ports

    def redis(name: str, port: int, **options) -> RedisServer:
        server = RedisServer(
            port=port, env=passed_through_env(), log_path=workdir / f"{name}.log", **options
        )
        run(name, server).wait_until_serving()
        return server

    primary = redis("redis-primary", primary_port)
    replica = redis("redis-replica", replica_port, replica_of=primary_port)
    sentinels = []
    for index, port in enumerate(sentinel_ports, start=1):
        config_path = workdir / f"sentinel-{index}.conf"
        config_path.write_text(
            SENTINEL_CONFIG.format(
                port=port,
                host=HOST,
                workdir=workdir,
                service=SENTINEL_SERVICE,
                primary=primary_port,
                down_after_ms=config.down_after_ms,
            )
        )
        sentinel = Sentinel(
            config_path=config_path,
            port=port,
            env=passed_through_env(),
            log_path=workdir / f"sentinel-{index}.log",
        )
        run(f"sentinel-{index}", sentinel).wait_until_serving()
        sentinels.append(sentinel)

    def settled() -> bool:
        if replica.client().info("replication").get("master_link_status") != "up":
            return False
        for sentinel in sentinels:
            client = sentinel.client()
            if len(client.sentinel_slaves(SENTINEL_SERVICE)) != 1:
                return False
            if len(client.sentinel_sentinels(SENTINEL_SERVICE)) != len(sentinels) - 1:
                return False
        return True

    # Sentinels find each other through hello messages sent every 2 s.
    deadline = time.monotonic() + 30
    while not settled():
        if time.monotonic() > deadline:
            raise ClusterError("The replica and the Sentinels did not settle within 30 s.")
        time.sleep(0.2)
    return primary, replica, sentinels


def sentinel_primary_port(running: Cluster) -> int | None:
    """The port of the primary as the Sentinels now name it (None if none answers)."""
    import redis

    for port in running.sentinel_ports:
        client = redis.Redis(host=HOST, port=port, socket_timeout=1, socket_connect_timeout=1)
        try:
            address = client.sentinel_get_master_addr_by_name(SENTINEL_SERVICE)
        except redis.RedisError:
            continue
        if address:
            return int(address[1])
    return None


def proxy_server_states(running: Cluster) -> dict[str, str]:
    """Return each instance's state as HAProxy's health checks see it: UP, DOWN..."""
    with socket.socket(socket.AF_UNIX) as stats:
        stats.settimeout(5)
        stats.connect(str(running.workdir / "haproxy.sock"))
        stats.sendall(b"show stat\n")
        answer = b"".join(iter(lambda: stats.recv(65536), b""))
    rows = csv.DictReader(answer.decode().removeprefix("# ").splitlines())
    return {
        row["svname"]: row["status"]
        for row in rows
        if row["pxname"] == "instances" and row["svname"] not in ("BACKEND", "FRONTEND")
    }


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
    """
    Start Redis with failover (unless ``redis_url`` names one), prepare the database, run
    the instances, the resource server and HAProxy in front of the instances; stop them all
    on exit.
    """
    needed = ["haproxy"] + (["redis-server", "redis-sentinel"] if not config.redis_url else [])
    missing = [program for program in needed if shutil.which(program) is None]
    if missing:
        raise ClusterError(
            f"The cluster needs {', '.join(missing)}: apt-get install haproxy redis-sentinel."
        )
    with tempfile.TemporaryDirectory(prefix="cluster-") as tmp, ExitStack() as running:
        workdir = Path(tmp)
        *instance_ports, port_rs = config.ports
        names = INSTANCE_NAMES[: config.instances]
        state = Cluster(
            site=f"http://{HOST}:{config.proxy_port}",
            instances={
                name: f"http://{HOST}:{port}"
                for name, port in zip(names, instance_ports, strict=True)
            },
            resource_server=f"http://{HOST}:{port_rs}",
            resource_server_audience=resource_server_audience(config),
            workdir=workdir,
            sentinel_ports=() if config.redis_url else tuple(config.redis_ports[2:]),
        )

        def run(name: str, server: Server) -> Server:
            state.servers[name] = server
            running.callback(server.stop)
            server.start()
            return server

        def gunicorn(name: str, app: str, port: int, server_env: dict, **options) -> Gunicorn:
            return Gunicorn(
                app=app,
                port=port,
                env=server_env,
                workers=config.workers,
                log_path=workdir / f"{name}.log",
                start_timeout=60,
                **options,
            )

        # Only HAProxy, connecting from PROXY_SOURCE, may say who the client is.
        behind_proxy = ("--proxy-protocol=v1", f"--proxy-allow-from={PROXY_SOURCE}")
        try:
            if config.redis_url is None:
                redis_with_failover(config, workdir, run)
            keys = key_pair_write(workdir, algorithm=config.algorithm)
            env = site_env(config, workdir=workdir, keys=keys)
            database_create(config.database_url, fresh=config.fresh_database)
            prepare(env)
            site = "config.wsgi:application"
            started = [
                run(name, gunicorn(name, site, port, env, extra_args=behind_proxy))
                for name, port in zip(names, instance_ports, strict=True)
            ]
            for server in started:
                server.wait_until_serving()
            # A is serving, so the resource server can fetch the public key at start.
            rs_env = resource_server_env(
                config, metadata_url=f"{state.a}/.well-known/oauth-authorization-server"
            )
            rs_app = "resource_server.app:create_app()"
            run("resource_server", gunicorn("resource_server", rs_app, port_rs, rs_env))
            state.servers["resource_server"].wait_until_serving()
            config_path = workdir / "haproxy.cfg"
            config_path.write_text(
                haproxy_config(
                    port=config.proxy_port,
                    instances=dict(zip(names, instance_ports, strict=True)),
                    stats_socket=workdir / "haproxy.sock",
                )
            )
            proxy = HAProxy(
                config_path=config_path,
                port=config.proxy_port,
                env=passed_through_env(),
                log_path=workdir / "haproxy.log",
                ready_path="/api/healthz/",
            )
            run("haproxy", proxy).wait_until_serving()
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
    parser.add_argument(
        "--redis-url",
        default=None,
        help="one Redis of yours, without failover (default: the cluster's own primary, "
        "replica and three Sentinels)",
    )
    parser.add_argument(
        "--redis-ports",
        type=int,
        nargs=5,
        default=DEFAULT_REDIS_PORTS,
        metavar=("PRIMARY", "REPLICA", "S1", "S2", "S3"),
    )
    parser.add_argument(
        "--down-after-ms",
        type=int,
        default=1000,
        help="how long the Sentinels wait before they call the primary down (1000: a demo value)",
    )
    parser.add_argument("--instances", type=int, default=2, help="app instances behind HAProxy")
    parser.add_argument(
        "--first-port",
        type=int,
        default=DEFAULT_FIRST_PORT,
        help="the instances listen from this port on, the resource server on the next one",
    )
    parser.add_argument(
        "--proxy-port", type=int, default=DEFAULT_PROXY_PORT, help="HAProxy's port: the site"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per process")
    parser.add_argument("--algorithm", choices=("RS256", "EdDSA"), default="RS256")
    options = parser.parse_args(argv)
    try:
        config = ClusterConfig(
            database_url=options.database_url,
            redis_url=options.redis_url,
            instances=options.instances,
            ports=default_ports(options.instances, options.first_port),
            redis_ports=tuple(options.redis_ports),
            down_after_ms=options.down_after_ms,
            proxy_port=options.proxy_port,
            workers=options.workers,
            algorithm=options.algorithm,
        )
    except ClusterError as exc:
        parser.error(str(exc))
    print(f"Preparing {config.database_url} (migrate, demo data, static files)...", flush=True)
    try:
        with cluster(config) as running:
            print(
                "\nCluster up; Ctrl-C stops everything.\n"
                f"  the site          {running.site}/   (HAProxy: round robin over"
                f" {', '.join(name.upper() for name in running.instances)}, no stickiness;"
                " X-Served-By names the instance)\n"
                + "".join(
                    f"  instance {name.upper()}        {url}/\n"
                    for name, url in running.instances.items()
                )
                + f"  resource server   {running.resource_server}/whoami"
                "   (public key only, found from A's /.well-known/oauth-authorization-server)\n"
                f"  shared            {config.database_url}, {redis_description(config)}"
                f" (key prefix {config.cache_key_prefix!r})\n\n"
                f"Sign in on {running.site}/accounts/login/ and reload {running.site}/accounts/me/:"
                " each request goes to the next instance, and you stay signed in;\n"
                f"get a token from {running.site}/api/auth/token/ and send it to"
                f' {running.site}/api/me/; add "resource": "{running.resource_server_audience}"'
                f" for one that {running.resource_server}/whoami accepts instead.\n"
                "Demo sign-ins: alice@example.com / demo-pass-2026 (see README).",
                flush=True,
            )
            if config.redis_url is None:
                print(
                    f"Watch a failover: redis-cli -p {config.redis_ports[0]} shutdown nosave"
                    " stops the primary; the Sentinels promote the replica within a few"
                    " seconds, and the site answers 503 only meanwhile.",
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
