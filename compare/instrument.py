"""
Measure one piece of work inside a request: SQL statements, Redis round trips, wall time.

The counting follows the benchmark's approach (``bench/counting.py``): queries through
``connection.execute_wrapper`` on every database, Redis round trips where redis-py writes a
command to the socket (``AbstractConnection.send_packed_command``: one per command, one per
pipeline, whoever the caller). Two differences, because this runs inside a live, possibly
threaded server rather than a probe process of its own:

- the Redis hook counts only for the thread (context) that opened the ``measure()`` block,
  so a request measured here never counts another request's commands;
- the hook is installed only while at least one block is open, and removed after the last
  one closes, so no other page ever runs through it.
"""

import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.db import connections
from redis.connection import AbstractConnection


@dataclass
class Measurement:
    """What the measured block did: statements, Redis commands and its duration."""

    statements: list[str] = field(default_factory=list)
    redis_commands: list[str] = field(default_factory=list)
    microseconds: float = 0.0

    @property
    def queries(self) -> int:
        return len(self.statements)

    @property
    def redis_round_trips(self) -> int:
        return len(self.redis_commands)


# The blocks open in this context, innermost last: a command counts in each of them, as a
# query does through each execute_wrapper.
_open_here: ContextVar[tuple[Measurement, ...]] = ContextVar("compare_measurements", default=())
_install_lock = threading.Lock()
_open_blocks = 0
_original_send = None


def _command_name(packed) -> str:
    # A packed command is RESP: b"*2\r\n$3\r\nGET\r\n$..." (or a list of such chunks, or a
    # whole pipeline); the third line is the first command's name.
    first = packed[0] if isinstance(packed, list | tuple) else packed
    if isinstance(first, memoryview):
        first = first.tobytes()
    parts = bytes(first).split(b"\r\n", 3)
    return parts[2].decode("ascii", "replace").upper() if len(parts) > 2 else "?"


def _counting_send(connection, command, check_health=True):
    measurements = _open_here.get()
    if measurements:
        name = _command_name(command)
        for measurement in measurements:
            measurement.redis_commands.append(name)
    return _original_send(connection, command, check_health=check_health)


def _install() -> None:
    global _open_blocks, _original_send
    with _install_lock:
        if _open_blocks == 0:
            _original_send = AbstractConnection.send_packed_command
            AbstractConnection.send_packed_command = _counting_send
        _open_blocks += 1


def _uninstall() -> None:
    global _open_blocks
    with _install_lock:
        _open_blocks -= 1
        if _open_blocks == 0:
            AbstractConnection.send_packed_command = _original_send


@contextmanager
def measure() -> Iterator[Measurement]:
    """Count the queries and Redis round trips made by this thread inside the block, and time it."""
    measurement = Measurement()

    def count_query(execute, sql, params, many, context):
        measurement.statements.append(sql)
        return execute(sql, params, many, context)

    _install()
    token = _open_here.set((*_open_here.get(), measurement))
    try:
        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(count_query))
            started = time.perf_counter_ns()
            try:
                yield measurement
            finally:
                measurement.microseconds = (time.perf_counter_ns() - started) / 1000
    finally:
        _open_here.reset(token)
        _uninstall()
