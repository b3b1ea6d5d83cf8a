"""
Micro-costs, in process and timeit-style: what one operation costs without a server.

JWT sign and verify go through simplejwt's ``TokenBackend`` (what the API uses, keys
prepared once), session loads through Django's session stores, password checks through
the configured hashers. Each figure is the median over repeats of a calibrated loop. The
thread hop runs in child processes, one held to a single CPU and one free to use them all.
"""

import json
import os
import secrets
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from importlib import import_module

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .stats import median

JWT_ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")


def time_call(func, *, budget_s: float = 0.2, repeats: int = 5, loops: int | None = None) -> dict:
    """
    Return the median and minimum time of one call of ``func``, in microseconds.

    Without ``loops``, the loop count is calibrated (after a warm-up call) so that each of
    ``repeats`` runs lasts about ``budget_s / repeats``; a slow call such as a password
    hash passes ``loops=1`` and runs exactly ``repeats`` times.
    """
    if loops is None:
        func()  # warm-up: imports, prepared keys, connections
        started = time.perf_counter()
        func()
        once = max(time.perf_counter() - started, 1e-7)
        loops = max(1, int(budget_s / repeats / once))
    per_call = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(loops):
            func()
        per_call.append((time.perf_counter() - started) / loops * 1e6)
    return {"median_us": median(per_call), "min_us": min(per_call), "loops": loops}


def _pem_private(key) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def _pem_public(key) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def generate_key_pair(algorithm: str) -> tuple[str, str]:
    """Return a throwaway (private PEM, public PEM) pair for an asymmetric JWT algorithm."""
    if algorithm.startswith(("RS", "PS")):
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        key = ec.generate_private_key(ec.SECP256R1())
    elif algorithm == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
    else:
        raise ValueError(f"no key pair for {algorithm}")
    return _pem_private(key), _pem_public(key)


def jwt_costs(*, budget_s: float) -> dict:
    """Return sign and verify times of an access-token-shaped JWT for each algorithm."""
    from rest_framework_simplejwt.backends import TokenBackend

    now = datetime.now(tz=UTC)
    payload = {
        "token_type": "access",
        "exp": int((now + timedelta(minutes=5)).timestamp()),
        "iat": int(now.timestamp()),
        "jti": uuid.uuid4().hex,
        "user_id": "1",
    }
    results = {}
    for algorithm in JWT_ALGORITHMS:
        if algorithm == "HS256":
            backend = TokenBackend(algorithm, secrets.token_urlsafe(64))
        else:
            private, public = generate_key_pair(algorithm)
            backend = TokenBackend(algorithm, private, public)
        token = backend.encode(payload)
        results[algorithm] = {
            "sign": time_call(lambda b=backend: b.encode(payload), budget_s=budget_s),
            "verify": time_call(lambda b=backend, t=token: b.decode(t), budget_s=budget_s),
            "token_bytes": len(token),
        }
    return results


def session_load_costs(*, session_data: dict, budget_s: float, redis_available: bool) -> dict:
    """Return the time to load one stored session from each store, by engine."""
    engines = {
        "db": "django.contrib.sessions.backends.db",
        "signed_cookies": "django.contrib.sessions.backends.signed_cookies",
    }
    if redis_available:
        engines["cache (Redis)"] = "django.contrib.sessions.backends.cache"
    results = {}
    for name, engine in engines.items():
        store_class = import_module(engine).SessionStore
        store = store_class()
        store.update(session_data)
        store.save()
        key = store.session_key

        def load(store_class=store_class, key=key):
            if not store_class(session_key=key).load():
                raise RuntimeError("the stored session came back empty")

        results[name] = time_call(load, budget_s=budget_s)
        store_class(session_key=key).delete()
    if not redis_available:
        results["cache (Redis)"] = "n/a (needs REDIS_URL)"
    return results


def password_costs(*, repeats: int) -> dict:
    """Return the time to check one password with Argon2 (as configured) and PBKDF2."""
    from django.contrib.auth.hashers import get_hasher

    results = {}
    for algorithm in ("argon2", "pbkdf2_sha256"):
        hasher = get_hasher(algorithm)
        encoded = hasher.encode("correct horse battery staple", hasher.salt())
        timing = time_call(
            lambda h=hasher, e=encoded: h.verify("correct horse battery staple", e),
            repeats=repeats,
            loops=1,
        )
        parameters = {
            str(name): str(value)
            for name, value in hasher.safe_summary(encoded).items()
            if str(name) not in ("salt", "hash")
        }
        results[algorithm] = {**timing, "parameters": parameters}
    return results


# One hand-off from an event loop to a thread and back, as asgiref's sync_to_async makes
# one (uvloop, a one-thread executor), in a child process of its own.
THREAD_HOP_PROGRAM = """
import asyncio, json, sys, time
from concurrent.futures import ThreadPoolExecutor
import uvloop
hops = int(sys.argv[1])
async def main():
    loop, executor = asyncio.get_running_loop(), ThreadPoolExecutor(max_workers=1)
    call = int
    for _ in range(hops // 10):
        await loop.run_in_executor(executor, call)
    rounds = []
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(hops):
            await loop.run_in_executor(executor, call)
        rounds.append((time.perf_counter() - started) / hops * 1e6)
    print(json.dumps(sorted(rounds)))
uvloop.run(main())
"""


def thread_hop_costs(*, hops: int) -> dict:
    """
    Return the time of one event-loop-to-thread hop with the process on one CPU and with
    it free to use every CPU: what each ``sync_to_async`` costs a uvicorn worker, pinned
    or not (bench.server.UvicornServer's ``pin_workers``).
    """
    cpus = sorted(os.sched_getaffinity(0))
    results = {}
    for name, allowed in (("one CPU", cpus[:1]), ("any CPU", cpus)):
        done = subprocess.run(
            [sys.executable, "-c", THREAD_HOP_PROGRAM, str(hops)],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
            preexec_fn=lambda allowed=allowed: os.sched_setaffinity(0, allowed),  # noqa: PLW1509
        )
        rounds = json.loads(done.stdout)
        results[name] = {"median_us": median(rounds), "min_us": min(rounds), "loops": hops}
    results["cpus"] = len(cpus)
    return results
