"""
Checks ``make`` runs before it installs or serves anything, with the machine's own Python
(standard library only: the virtualenv may not exist yet).

    python3 scripts/preflight.py                      # is this Python new enough?
    python3 scripts/preflight.py --port 8000 --host 127.0.0.1   # ... and is the port free?

Each failed check prints what is wrong and what to type instead, and exits with status 1.
"""

# Annotations stay unevaluated so that an old Python gets to print the message below.
from __future__ import annotations

import argparse
import errno
import socket
import sys

# What pyproject.toml's requires-python says; Django 5.2 itself supports 3.10 to 3.14.
MINIMUM_PYTHON = (3, 11)


def python_problem(version: tuple[int, ...] = sys.version_info[:3]) -> str | None:
    """Return why this Python cannot run the project, or None if it can."""
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return None
    found = ".".join(str(part) for part in version)
    needed = ".".join(str(part) for part in MINIMUM_PYTHON)
    return (
        f"This project needs Python {needed} or newer; {sys.executable} is Python {found}.\n"
        f"Install a newer Python and name it, for example: make run PYTHON=python{needed}\n"
        "(if an old .venv exists, remove it first: make clean)"
    )


def port_problem(*, host: str, port: int) -> str | None:
    """Return why the site cannot listen on host:port, or None if it can."""
    family = socket.AF_INET6 if ":" in host.strip("[]") else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The same option the development server sets, so a port in TIME_WAIT counts as free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host.strip("[]"), port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return (
                    f"Port {port} on {host} is already in use (is another `make run` still "
                    "running?).\n"
                    f"Stop it, or choose another port: make run PORT={port + 1}"
                )
            return (
                f"Cannot listen on {host}:{port}: {error.strerror}.\n"
                "Choose another address or port: make run HOST=127.0.0.1 PORT=8001"
            )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args(argv)
    problems = [python_problem()]
    if args.port is not None:
        problems.append(port_problem(host=args.host or "127.0.0.1", port=args.port))
    problems = [problem for problem in problems if problem]
    for problem in problems:
        print(problem, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
