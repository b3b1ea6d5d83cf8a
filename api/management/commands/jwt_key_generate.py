"""
``manage.py jwt_key_generate --algorithm HS256|RS256|EdDSA [--out DIR]``: make a new signing
key and print the environment lines of the rotation to it (docs/jwt.md, "Rotating the
signing key"). Nothing is changed in the running site: the lines are for the next deploy.
"""

import secrets
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from api.keys import hmac_kid, longest_token_lifetime, public_key_jwk, verifying_keys
from config.keypairs import key_pair_ensure


class Command(BaseCommand):
    help = (
        "Generate a new JWT signing key (an HS256 secret, or an RS256/EdDSA key pair written "
        "owner-only to --out) and print the environment lines that make it current, with "
        "the current key kept as a previous one, and the lines that later retire it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--algorithm", choices=("HS256", "RS256", "EdDSA"), required=True)
        parser.add_argument("--out", type=Path, help="where to write a key pair (RS256, EdDSA)")

    def handle(self, *args, algorithm: str, out: Path | None, **options):
        new_lines, new_kid = self._new_key(algorithm, out)
        old_kid = verifying_keys()[0].kid
        # The current key joins the previous keys of its kind, ahead of any still listed.
        previous = {
            "JWT_PREVIOUS_SIGNING_KEYS": list(settings.JWT_PREVIOUS_SIGNING_KEYS),
            "JWT_PREVIOUS_PUBLIC_KEY_FILES": list(settings.JWT_PREVIOUS_PUBLIC_KEY_FILES),
        }
        if settings.SIMPLE_JWT["ALGORITHM"] == "HS256":
            retiring = ("JWT_PREVIOUS_SIGNING_KEYS", settings.SIMPLE_JWT["SIGNING_KEY"])
        elif settings.JWT_PUBLIC_KEY_FILE:
            retiring = ("JWT_PREVIOUS_PUBLIC_KEY_FILES", settings.JWT_PUBLIC_KEY_FILE)
        else:
            raise CommandError("The current public key has no file (JWT_PUBLIC_KEY_FILE).")
        name, old_key = retiring
        changed = [name, *(other for other, keys in previous.items() if keys and other != name)]
        lifetime = longest_token_lifetime()
        seconds = int(lifetime.total_seconds())

        write = self.stdout.write
        write(f"# A new {algorithm} key, kid {new_kid}; the current key is kid {old_kid}.")
        write(
            "# Rotate: deploy with these lines. The new key signs; the current one only verifies."
        )
        for line in new_lines:
            write(line)
        for variable in changed:
            keys = [old_key, *previous[variable]] if variable == name else previous[variable]
            write(f"{variable}={','.join(keys)}")
        write(f"# Retire kid {old_kid} once the rotation has been live everywhere")
        write(f"# for {seconds} seconds ({lifetime}): the longest a token it signed is accepted")
        write("# (the refresh lifetime, capped by JWT_REFRESH_MAX_AGE_SECONDS, plus the leeway).")
        write("# Then deploy with:")
        for variable in changed:
            write(f"{variable}={','.join(previous[variable])}")

    def _new_key(self, algorithm: str, out: Path | None) -> tuple[list[str], str]:
        """Make the key; return its environment lines and its kid."""
        if algorithm == "HS256":
            secret = secrets.token_urlsafe(48)
            return ["JWT_ALGORITHM=HS256", f"JWT_SIGNING_KEY={secret}"], hmac_kid(secret)
        if out is None:
            raise CommandError(f"{algorithm} needs --out DIR: where to write the key pair.")
        # A name of its own for each key, so a new pair never reuses an existing file.
        stem = f"jwt_{algorithm.lower()}_{datetime.now(UTC):%Y%m%dT%H%M%SZ}_{secrets.token_hex(3)}"
        private_path = out.resolve() / f"{stem}_private.pem"
        public_path = out.resolve() / f"{stem}_public.pem"
        key_pair_ensure(algorithm=algorithm, private_path=private_path, public_path=public_path)
        lines = [
            f"JWT_ALGORITHM={algorithm}",
            f"JWT_PRIVATE_KEY_FILE={private_path}",
            f"JWT_PUBLIC_KEY_FILE={public_path}",
        ]
        return lines, public_key_jwk(public_path.read_text())["kid"]
