"""
One process guessing passwords through accounts.services.credentials_authenticate, as a
gunicorn worker would serve them; prints what happened as JSON on its last line.

    python -m tests.support.lockout_guesser setup EMAIL PASSWORD
    python -m tests.support.lockout_guesser guess EMAIL PASSWORD COUNT START_AT
    python -m tests.support.lockout_guesser right EMAIL PASSWORD

The environment (DJANGO_SETTINGS_MODULE, DATABASE_URL, REDIS_URL, ...) picks the store.
"""

import json
import os
import sys
import time

import django


def main(argv: list[str]) -> dict:
    django.setup()
    from django.core.exceptions import ValidationError
    from django.test import RequestFactory
    from django.test.utils import override_settings

    from accounts.models import User
    from accounts.services import LoginLocked, credentials_authenticate
    from tests.support.counting_hasher import COUNTING_HASHERS, CountingMD5PasswordHasher

    action, email, password = argv[:3]
    if action == "setup":
        User.objects.create_user(email=email, password=password)
        return {"created": email}
    outcomes = {"checked": 0, "wrong": 0, "locked": 0, "signed_in": 0}
    guesses = [password] if action == "right" else [f"wrong-{n}" for n in range(int(argv[3]))]
    if action == "guess":
        time.sleep(max(0.0, float(argv[4]) - time.time()))
    with override_settings(PASSWORD_HASHERS=COUNTING_HASHERS):
        for n, guess in enumerate(guesses):
            request = RequestFactory().post(
                "/", REMOTE_ADDR=f"198.51.{os.getpid() % 250}.{n % 250}"
            )
            try:
                credentials_authenticate(request=request, email=email, password=guess)
                outcomes["signed_in"] += 1
            except LoginLocked:
                outcomes["locked"] += 1
            except ValidationError:
                outcomes["wrong"] += 1
        outcomes["checked"] = CountingMD5PasswordHasher.checked
    return outcomes


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1:])))
