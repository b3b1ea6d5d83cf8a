"""``manage.py jwt_key_generate``: a new signing key and the environment lines that rotate to it."""

import io
import stat
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from api.keys import hmac_kid, public_key_jwk
from tests.support.api import make_key_pair, rotation_lines


def generate(*args: str) -> tuple[dict[str, str], dict[str, str], str]:
    """Run the command; return the rotation's lines, the retirement's lines, the output."""
    out = io.StringIO()
    call_command("jwt_key_generate", *args, stdout=out)
    return *rotation_lines(out.getvalue()), out.getvalue()


def test_an_hs256_key_comes_with_the_lines_that_keep_the_current_one_verifying(settings):
    current = settings.SIMPLE_JWT["SIGNING_KEY"]

    rotate, retire, text = generate("--algorithm", "HS256")

    new = rotate["JWT_SIGNING_KEY"]
    assert len(new) >= 43
    assert new != current
    assert rotate["JWT_ALGORITHM"] == "HS256"
    assert rotate["JWT_PREVIOUS_SIGNING_KEYS"] == current
    assert retire == {"JWT_PREVIOUS_SIGNING_KEYS": ""}
    assert hmac_kid(new) in text
    assert hmac_kid(current) in text


def test_each_run_makes_a_different_key():
    first = generate("--algorithm", "HS256")[0]["JWT_SIGNING_KEY"]
    second = generate("--algorithm", "HS256")[0]["JWT_SIGNING_KEY"]
    assert first != second


def test_keys_already_listed_as_previous_stay_listed(settings):
    settings.JWT_PREVIOUS_SIGNING_KEYS = ["an-older-key-still-within-its-overlap-0123456789abc"]

    rotate, retire, _ = generate("--algorithm", "HS256")

    current = settings.SIMPLE_JWT["SIGNING_KEY"]
    assert (
        rotate["JWT_PREVIOUS_SIGNING_KEYS"] == f"{current},{settings.JWT_PREVIOUS_SIGNING_KEYS[0]}"
    )
    assert retire["JWT_PREVIOUS_SIGNING_KEYS"] == settings.JWT_PREVIOUS_SIGNING_KEYS[0]


@pytest.mark.parametrize("algorithm", ["RS256", "EdDSA"])
def test_a_key_pair_is_written_owner_only_with_its_lines(algorithm, settings, tmp_path):
    old_private, old_public = make_key_pair(algorithm, tmp_path)
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": algorithm,
        "SIGNING_KEY": Path(old_private).read_text(),
        "VERIFYING_KEY": Path(old_public).read_text(),
    }
    settings.JWT_PUBLIC_KEY_FILE = old_public
    out = tmp_path / "new"

    rotate, retire, text = generate("--algorithm", algorithm, "--out", str(out))

    private_path, public_path = (
        Path(rotate["JWT_PRIVATE_KEY_FILE"]),
        Path(rotate["JWT_PUBLIC_KEY_FILE"]),
    )
    assert private_path.parent == public_path.parent == out
    assert stat.S_IMODE(private_path.stat().st_mode) == 0o600
    assert rotate["JWT_ALGORITHM"] == algorithm
    assert rotate["JWT_PREVIOUS_PUBLIC_KEY_FILES"] == old_public
    assert retire == {"JWT_PREVIOUS_PUBLIC_KEY_FILES": ""}
    assert public_key_jwk(public_path.read_text())["kid"] in text
    assert "PRIVATE KEY" not in text


def test_moving_from_hs256_to_a_key_pair_keeps_the_shared_secret_verifying(settings, tmp_path):
    rotate, _, _ = generate("--algorithm", "EdDSA", "--out", str(tmp_path))

    assert rotate["JWT_ALGORITHM"] == "EdDSA"
    assert rotate["JWT_PREVIOUS_SIGNING_KEYS"] == settings.SIMPLE_JWT["SIGNING_KEY"]


def test_a_key_pair_needs_a_directory():
    with pytest.raises(CommandError, match="--out"):
        generate("--algorithm", "RS256")


def test_the_output_says_when_the_old_key_may_be_retired(settings):
    settings.SIMPLE_JWT = {
        **settings.SIMPLE_JWT,
        "REFRESH_TOKEN_LIFETIME": timedelta(hours=24),
        "LEEWAY": 10,
    }
    settings.JWT_REFRESH_MAX_AGE_SECONDS = 7 * 24 * 3600

    _, _, text = generate("--algorithm", "HS256")

    assert "86410 seconds" in text
