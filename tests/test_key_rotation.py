"""
The key rotation of docs/jwt.md ("Rotating the signing key"), done as a deployment does it:
the shop under gunicorn with production's settings (``config.settings.cluster``, on
SQLite), restarted with the lines ``manage.py jwt_key_generate`` prints, and, for public-key
algorithms, the resource server as a separate process that finds the key set from the
shop's authorization-server metadata and is never restarted.

A token signed before the change keeps working on both until its key is retired; after
that it is refused by both.
"""

import os
import secrets
import time

import pytest

from bench.processes import Gunicorn
from config.keypairs import key_pair_ensure
from tests.support.api import header_of, json_request, rotation_lines
from tests.support.processes import manage

# own_config: the shop it deploys runs on a SQLite file of its own, with no Redis.
pytestmark = [pytest.mark.slow, pytest.mark.own_config]

EMAIL = "kim@example.com"
PASSWORD = "rotation-test-pass-2026"
RESOURCE_SERVER_AUDIENCE = "https://resource-server.example/"
# The resource server looks at the key set again this often, so a retired key stops there.
JWKS_MAX_AGE_SECONDS = 2


def call(method: str, url: str, *, json_body=None, token=None) -> tuple[int, dict]:
    return json_request(method, url, json_body, token=token, timeout=15)


class Shop:
    """The shop under gunicorn, restarted with new environment lines as a deploy would be."""

    def __init__(self, tmp_path, algorithm: str):
        self.tmp_path = tmp_path
        self.env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("JWT_", "DJANGO_", "SECRET_KEY", "REDIS_URL", "AUTH_"))
            and name not in ("SESSION_BACKEND", "DATABASE_URL")
        }
        self.env.update(
            DJANGO_SETTINGS_MODULE="config.settings.cluster",
            SECRET_KEY=secrets.token_urlsafe(64),
            ALLOWED_HOSTS="127.0.0.1",
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
            JWT_ALGORITHM=algorithm,
            # The resource server's audience: it accepts only tokens asked for it (RFC 8707).
            JWT_AUDIENCES=RESOURCE_SERVER_AUDIENCE,
        )
        if algorithm == "HS256":
            self.env["JWT_SIGNING_KEY"] = secrets.token_urlsafe(48)
        else:
            private, public = tmp_path / "first_private.pem", tmp_path / "first_public.pem"
            key_pair_ensure(algorithm=algorithm, private_path=private, public_path=public)
            self.env.update(JWT_PRIVATE_KEY_FILE=str(private), JWT_PUBLIC_KEY_FILE=str(public))
        manage("migrate", "--verbosity", "0", env=self.env, check=True)
        create = (
            "from accounts.models import User; "
            f"User.objects.create_user(email={EMAIL!r}, password={PASSWORD!r})"
        )
        manage("shell", "-c", create, env=self.env, check=True)
        self.server = Gunicorn(
            env=self.env,
            log_path=tmp_path / "shop.log",
            workers=1,
            ready_path="/api/healthz/",
            start_timeout=60,
        )

    @property
    def url(self) -> str:
        return self.server.url

    def deploy(self, lines: dict[str, str] | None = None) -> None:
        """(Re)start the shop with these environment lines applied."""
        self.server.stop()
        self.env.update(lines or {})
        self.server.env = self.env
        self.server.start()
        self.server.wait_until_serving()

    def key_generate(self, algorithm: str) -> tuple[dict[str, str], dict[str, str]]:
        """Run jwt_key_generate as an operator would, in the shop's environment."""
        done = manage(
            "jwt_key_generate",
            "--algorithm",
            algorithm,
            "--out",
            str(self.tmp_path / "keys"),
            env=self.env,
            check=True,
        )
        return rotation_lines(done.stdout)

    def sign_in(self, resource: str | None = None) -> dict:
        body = {"email": EMAIL, "password": PASSWORD}
        if resource:
            body["resource"] = resource
        status, pair = call("POST", f"{self.url}/api/auth/token/", json_body=body)
        assert status == 200, pair
        return pair

    def me(self, access: str) -> tuple[int, str | None]:
        status, body = call("GET", f"{self.url}/api/me/", token=access)
        return status, body.get("code")

    def refresh(self, refresh: str) -> tuple[int, dict]:
        return call("POST", f"{self.url}/api/auth/token/refresh/", json_body={"refresh": refresh})


def resource_server(shop: Shop, tmp_path) -> Gunicorn:
    env = {name: os.environ[name] for name in ("PATH", "HOME", "LANG") if name in os.environ}
    env.update(
        AUTHORIZATION_SERVER_METADATA_URL=f"{shop.url}/.well-known/oauth-authorization-server",
        JWT_ALGORITHMS="RS256,EdDSA",
        JWT_AUDIENCE=RESOURCE_SERVER_AUDIENCE,
        JWT_LEEWAY_SECONDS="0",
        JWKS_MIN_REFRESH_SECONDS="0",
        JWKS_MAX_AGE_SECONDS=str(JWKS_MAX_AGE_SECONDS),
    )
    return Gunicorn(
        app="resource_server.app:create_app()",
        env=env,
        log_path=tmp_path / "resource_server.log",
        workers=1,
        start_timeout=30,
    )


def whoami(server: Gunicorn, access: str) -> int:
    return call("GET", f"{server.url}/whoami", token=access)[0]


def whoami_until(server: Gunicorn, access: str, status: int, *, timeout: float = 15) -> int:
    """Ask until the answer is ``status`` (the key set is fetched again when stale)."""
    deadline = time.monotonic() + timeout
    while (answer := whoami(server, access)) != status and time.monotonic() < deadline:
        time.sleep(0.2)
    return answer


@pytest.mark.parametrize("algorithm", ["HS256", "RS256", "EdDSA"])
def test_a_token_signed_before_a_key_change_works_until_its_key_is_retired(algorithm, tmp_path):
    shop = Shop(tmp_path, algorithm)
    public_keys = algorithm != "HS256"
    try:
        shop.deploy()
        refreshed_during_the_overlap = shop.sign_in()
        refreshed_after_retirement = shop.sign_in()
        old_access = refreshed_during_the_overlap["access"]
        old_kid = header_of(old_access)["kid"]
        assert shop.me(old_access) == (200, None)
        rs = resource_server(shop, tmp_path) if public_keys else None
        if rs:
            rs.start()
            rs.wait_until_serving()
            rs_pair = shop.sign_in(resource=RESOURCE_SERVER_AUDIENCE)
            old_rs_access = rs_pair["access"]
            assert whoami(rs, old_rs_access) == 200

        # Generate, then make the new key current with the old one listed as previous.
        rotate, retire = shop.key_generate(algorithm)
        shop.deploy(rotate)
        status, new_pair = shop.refresh(refreshed_during_the_overlap["refresh"])
        assert status == 200, new_pair
        new_access = new_pair["access"]
        assert header_of(new_access)["kid"] != old_kid
        assert shop.me(old_access) == (200, None)
        assert shop.me(new_access) == (200, None)
        if rs:
            # A key it has never seen: fetched on first use, no restart.
            status, new_rs_pair = shop.refresh(rs_pair["refresh"])
            assert status == 200, new_rs_pair
            new_rs_access = new_rs_pair["access"]
            assert header_of(new_rs_access)["kid"] == header_of(new_access)["kid"]
            assert whoami(rs, new_rs_access) == 200
            assert whoami(rs, old_rs_access) == 200
            published = call("GET", f"{shop.url}/.well-known/jwks.json")[1]["keys"]
            assert [key["kid"] for key in published] == [header_of(new_access)["kid"], old_kid]

        # Retire the old key.
        shop.deploy(retire)
        assert shop.me(old_access) == (401, "token_not_valid")
        status, body = shop.refresh(refreshed_after_retirement["refresh"])
        assert (status, body["code"]) == (401, "token_not_valid")
        assert shop.me(new_access) == (200, None)
        if rs:
            assert whoami_until(rs, old_rs_access, 401) == 401
            assert whoami(rs, new_rs_access) == 200
    finally:
        shop.server.stop()
        if public_keys and rs:
            rs.stop()
