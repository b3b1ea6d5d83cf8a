"""
Settings for running the site on a developer's machine (``make run``).

Secrets are generated once into ``var/`` (ignored by git) so nothing secret is committed
and every clone gets its own keys. DEBUG is on: this is the only weakened setting, and it
never applies in production.
"""

import secrets

from config.keypairs import key_pair_write

from .base import *  # noqa: F403
from .base import (
    BASE_DIR,
    JWT_ALGORITHM,
    JWT_PRIVATE_KEY_FILE,
    JWT_PUBLIC_KEY_FILE,
    SIMPLE_JWT,
    env,
    jwt_keys,
)


def _local_secret(name: str) -> str:
    """Return the secret stored in var/<name>, generating 256+ random bits on first use."""
    path = BASE_DIR / "var" / name
    if not path.exists():
        path.parent.mkdir(exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="") or _local_secret("secret_key")


def _local_key_pair(algorithm: str) -> tuple[str, str]:
    """Return the paths of var/jwt_<alg>_{private,public}.pem, generating the pair on first use."""
    private_path = BASE_DIR / "var" / f"jwt_{algorithm.lower()}_private.pem"
    public_path = BASE_DIR / "var" / f"jwt_{algorithm.lower()}_public.pem"
    if not private_path.exists():
        key_pair_write(algorithm=algorithm, private_path=private_path, public_path=public_path)
    return str(private_path), str(public_path)


JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="") or _local_secret("jwt_signing_key")
if JWT_ALGORITHM != "HS256" and not (JWT_PRIVATE_KEY_FILE and JWT_PUBLIC_KEY_FILE):
    JWT_PRIVATE_KEY_FILE, JWT_PUBLIC_KEY_FILE = _local_key_pair(JWT_ALGORITHM)
SIMPLE_JWT["SIGNING_KEY"], SIMPLE_JWT["VERIFYING_KEY"] = jwt_keys(
    algorithm=JWT_ALGORITHM,
    signing_key=JWT_SIGNING_KEY,
    private_key_file=JWT_PRIVATE_KEY_FILE,
    public_key_file=JWT_PUBLIC_KEY_FILE,
)
