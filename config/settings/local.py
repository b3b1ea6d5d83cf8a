"""
Settings for running the site on a developer's machine (``make run``).

Secrets are generated once into ``var/`` (ignored by git; ``LOCAL_STATE_DIR`` moves it) so
nothing secret is committed and every clone gets its own keys. They are created exclusively
and owner-only (config/secret_files.py): workers starting together on a fresh clone all
end up with the same keys. DEBUG is on: this is the only weakened setting, and it
never applies in production.
"""

import secrets
from pathlib import Path

from config.keypairs import key_pair_ensure
from config.secret_files import secret_file_ensure

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

LOCAL_STATE_DIR = Path(env("LOCAL_STATE_DIR", default=str(BASE_DIR / "var")))


def _local_secret(name: str) -> str:
    """Return the secret stored in var/<name>, generating 256+ random bits on first use."""
    path = LOCAL_STATE_DIR / name
    return (
        secret_file_ensure(path=path, make=lambda: secrets.token_urlsafe(48).encode())
        .decode()
        .strip()
    )


DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env("SECRET_KEY", default="") or _local_secret("secret_key")


def _local_key_pair(algorithm: str) -> tuple[str, str]:
    """Return the paths of var/jwt_<alg>_{private,public}.pem, generating the pair on first use."""
    private_path = LOCAL_STATE_DIR / f"jwt_{algorithm.lower()}_private.pem"
    public_path = LOCAL_STATE_DIR / f"jwt_{algorithm.lower()}_public.pem"
    key_pair_ensure(algorithm=algorithm, private_path=private_path, public_path=public_path)
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

# Served straight from the source tree, with DEBUG on or off and no collectstatic step:
# plain (unhashed) names and whitenoise looking files up through the finders. Production
# keeps hashed names from the manifest written by collectstatic (base.py).
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
# No STATIC_ROOT unless one is given: nothing is collected here, and WhiteNoise would warn
# at every start that the directory is missing.
STATIC_ROOT = env("STATIC_ROOT", default=None)
# The browser client may show the pattern to avoid (tokens in localStorage): a demo.
WEBCLIENT_LOCALSTORAGE_DEMO = True
