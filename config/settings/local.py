"""
Settings for running the site on a developer's machine (``make run``).

Secrets are generated once into ``var/`` (ignored by git) so nothing secret is committed
and every clone gets its own keys. DEBUG is on: this is the only weakened setting, and it
never applies in production.
"""

import secrets

from .base import *  # noqa: F403
from .base import BASE_DIR, SIMPLE_JWT, env


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
JWT_SIGNING_KEY = env("JWT_SIGNING_KEY", default="") or _local_secret("jwt_signing_key")
SIMPLE_JWT["SIGNING_KEY"] = JWT_SIGNING_KEY
