"""
The local settings' secrets and key pairs (``var/`` or ``LOCAL_STATE_DIR``): created once,
whole and owner-only, however many processes start at the same moment on a fresh clone.
"""

import json
import multiprocessing
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from config.secret_files import secret_file_ensure

ROOT = Path(__file__).resolve().parent.parent.parent
PROCESSES = 6
OWNER_ONLY = 0o600

# Import the local settings once the clock reaches START_AT (everything slow already
# imported), so that every process looks for the files at the same moment; print what
# each one ended up with.
_SETTINGS_PROBE = """
import json, os, sys, time
import django, cryptography.hazmat.primitives.asymmetric.rsa, environ, rest_framework
time.sleep(max(0.0, float(os.environ["START_AT"]) - time.time()))
from config.settings import local
print(json.dumps({
    "secret_key": local.SECRET_KEY,
    "jwt_signing_key": local.JWT_SIGNING_KEY,
    "signing_key": local.SIMPLE_JWT["SIGNING_KEY"],
    "verifying_key": local.SIMPLE_JWT["VERIFYING_KEY"],
}))
"""


def _local_settings_env(state_dir: Path, **overrides) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"SECRET_KEY", "JWT_SIGNING_KEY", "JWT_PRIVATE_KEY_FILE"}
        and name not in {"JWT_PUBLIC_KEY_FILE", "DJANGO_SETTINGS_MODULE"}
    }
    return {**env, "LOCAL_STATE_DIR": str(state_dir), **overrides}


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_processes_started_at_once_on_a_fresh_clone_share_one_secret_and_key_pair(tmp_path):
    state_dir = tmp_path / "var"
    env = _local_settings_env(state_dir, JWT_ALGORITHM="RS256", START_AT=str(time.time() + 3))
    probes = [
        subprocess.Popen(  # noqa: S603 - our own interpreter and fixed code.
            [sys.executable, "-c", _SETTINGS_PROBE],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    results = []
    for probe in probes:
        out, err = probe.communicate(timeout=60)
        assert probe.returncode == 0, err
        results.append(json.loads(out))

    first = results[0]
    assert all(result == first for result in results)
    assert first["secret_key"]
    assert first["jwt_signing_key"]
    assert first["signing_key"].startswith("-----BEGIN PRIVATE KEY-----")
    assert first["verifying_key"].startswith("-----BEGIN PUBLIC KEY-----")
    # The key it signs with is the one it publishes.
    private_key = serialization.load_pem_private_key(first["signing_key"].encode(), None)
    assert (
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        == first["verifying_key"].encode()
    )
    assert (state_dir / "jwt_rs256_private.pem").read_text() == first["signing_key"]
    assert (state_dir / "jwt_rs256_public.pem").read_text() == first["verifying_key"]
    for secret in ["secret_key", "jwt_signing_key", "jwt_rs256_private.pem"]:
        assert _mode(state_dir / secret) == OWNER_ONLY, secret
    assert _mode(state_dir) == 0o700
    # No temporary file is left behind next to the real ones.
    assert sorted(path.name for path in state_dir.iterdir()) == [
        "jwt_rs256_private.pem",
        "jwt_rs256_public.pem",
        "jwt_signing_key",
        "secret_key",
    ]


# Large enough that writing it takes a while, so that a reader could catch it half-written.
LARGE = 32_000_000


def _create_large_secret(path: str, fill: int, start, results) -> None:
    os.umask(0)  # The most permissive umask: the file must still be owner-only.
    content = bytes([fill]) * LARGE
    start.wait()
    returned = secret_file_ensure(path=Path(path), make=lambda: content)
    results.put((len(returned), set(returned)))


def test_a_secret_file_is_never_seen_empty_partly_written_or_readable_by_others(tmp_path):
    path = tmp_path / "state" / "secret"
    context = multiprocessing.get_context("fork")
    start, results = context.Barrier(PROCESSES + 1), context.Queue()
    writers = [
        context.Process(target=_create_large_secret, args=(str(path), 65 + n, start, results))
        for n in range(PROCESSES)
    ]
    for writer in writers:
        writer.start()
    start.wait()
    # Meanwhile, look at every file that appears in the directory, temporary ones too.
    modes_seen, sizes_seen, returned = set(), set(), []
    while len(returned) < len(writers):
        while not results.empty():
            returned.append(results.get())
        for entry in os.scandir(path.parent) if path.parent.exists() else []:
            try:
                modes_seen.add(stat.S_IMODE(entry.stat().st_mode))
                if entry.name == path.name:
                    sizes_seen.add(entry.stat().st_size)
            except FileNotFoundError:
                pass  # A temporary file gone between listing and looking.
    for writer in writers:
        writer.join(timeout=30)
        assert writer.exitcode == 0

    on_disk = path.read_bytes()
    assert len(on_disk) == LARGE
    assert len(set(on_disk)) == 1
    assert returned == [(LARGE, set(on_disk))] * PROCESSES
    assert sizes_seen == {LARGE}
    assert modes_seen == {OWNER_ONLY}


def test_an_empty_secret_file_is_refused_with_its_name_not_used(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    path = tmp_path / "secret_key"
    path.write_text("")
    with pytest.raises(ImproperlyConfigured, match="secret_key"):
        secret_file_ensure(path=path, make=lambda: b"never used")
