"""
Files that must be created once and whole: the local settings' secrets and key pairs.

Several processes may start at the same moment on a fresh clone (gunicorn's workers each
import the settings). Each may generate a value, but exactly one file wins and every
process goes on with the winner's bytes, so they all sign and publish the same keys.
"""

import contextlib
import os
import secrets
from collections.abc import Callable
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured


def secret_file_ensure(*, path: Path, make: Callable[[], bytes], mode: int = 0o600) -> bytes:
    """
    Return the contents of ``path``, creating it from ``make()`` if it does not exist.

    The contents are written to a temporary file opened with ``O_EXCL`` and ``mode`` (so
    it is never readable by others, whatever the umask), then hard-linked to ``path``:
    the link fails if another process got there first, and ``path`` is complete the
    moment it is visible. The loser reads the winner's file.
    """
    try:
        return _read_whole(path)
    except FileNotFoundError:
        pass
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
            file.flush()
            os.fsync(file.fileno())
        # Fails if another process created it first: then use theirs.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_whole(path)


def _read_whole(path: Path) -> bytes:
    content = path.read_bytes()
    if not content.strip():
        # Left by an interrupted write of an older version of this code: never sign with it.
        raise ImproperlyConfigured(f"{path} is empty: delete it and a new one is generated.")
    return content
