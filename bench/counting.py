"""
Count database queries and Redis round trips made inside a ``with`` block (the
benchmark's gunicorn workers wrap a counted request in one: see ``bench.gunicorn_conf``).

Queries are counted with ``connection.execute_wrapper`` on every configured database
rather than ``CaptureQueriesContext``: Django clears the query log at the start of each
request (``request_started`` → ``reset_queries``), which would lose counts spanning a
request, while an execute wrapper sees every statement and survives reconnections.

Redis round trips are counted where redis-py writes a command to the socket
(``AbstractConnection.send_packed_command``): one call per command, one per pipeline or
MULTI block, whatever the caller (django-redis, the session backend, a denylist), on the
thread that entered the block: the process's other threads (the client-side caching's
tracking connection, which PINGs every half second) are not the block's. A new
connection's handshake commands count too, which is why callers warm up first.
"""

import threading
from contextlib import ExitStack

from django.db import connections
from redis.connection import AbstractConnection


class CallCounter:
    """Count queries (all databases) and Redis round trips while active."""

    def __init__(self):
        self.queries = 0
        self.redis_calls = 0
        self._stack: ExitStack | None = None
        self._original_send = None

    def _count_query(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)

    def __enter__(self) -> "CallCounter":
        self._stack = ExitStack()
        for alias in connections:
            self._stack.enter_context(connections[alias].execute_wrapper(self._count_query))
        original = AbstractConnection.send_packed_command
        counter = self
        thread = threading.get_ident()

        def counting_send(connection, command, check_health=True):
            if threading.get_ident() == thread:
                counter.redis_calls += 1
            return original(connection, command, check_health=check_health)

        self._original_send = original
        AbstractConnection.send_packed_command = counting_send
        return self

    def __exit__(self, *exc_info) -> None:
        AbstractConnection.send_packed_command = self._original_send
        self._stack.close()
