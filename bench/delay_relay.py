"""
A TCP relay that holds every chunk of bytes for a set time in each direction: the delay of
the benchmark's network-hop rows (``bench.network``) on a kernel without ``tc netem``.

Why hand-written: the issue asked for ``tc netem``, but the kernel of these machines has no
netem qdisc (``tc qdisc add ... netem`` answers "Specified qdisc kind is unknown"; of the
qdiscs only pfifo, tbf, htb, ingress and clsact load, so no EDT-based delay either), and
neither Debian nor PyPI has a delaying proxy (Toxiproxy is not packaged). So the link is a
real veth pair into a namespace, and the delay is this relay inside the namespace, between
the veth address and the servers on the namespace's loopback.

How: one thread per direction reads and stamps each chunk with its due time (now + the
one-way delay, never earlier than the chunk before it, so bytes keep their order when the
delay changes), and one thread per direction sends each chunk at its due time, sleeping
with ``clock_nanosleep`` and a 1 µs timer slack. With no delay the reading thread sends
at once. Its CPU is the benchmark's to report: ``python -m bench.delay_relay`` is one
process, and the rows say what it cost per request.

    python -m bench.delay_relay --delay-file F --forward 10.0.0.2:6379=127.0.0.1:16379 ...

``F`` holds the one-way delay in milliseconds; the relay reads it every 50 ms, so the
benchmark changes the delay without dropping a connection.
"""

import argparse
import contextlib
import ctypes
import socket
import sys
import threading
import time
from collections import deque
from pathlib import Path

PR_SET_TIMERSLACK = 29
CHUNK = 65536


class Delay:
    """The one-way delay in seconds, re-read from a file every 50 ms."""

    def __init__(self, path: Path):
        self.path = path
        self.seconds = 0.0
        self.read()
        threading.Thread(target=self._watch, daemon=True).start()

    def read(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.seconds = max(0.0, float(self.path.read_text().strip() or 0) / 1000)

    def _watch(self) -> None:
        while True:
            time.sleep(0.05)
            self.read()


def _tight_timers() -> None:
    # Linux lets a sleeping thread wake up to 50 µs late by default: too coarse for a
    # 125 µs one-way delay.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_TIMERSLACK, 1000, 0, 0, 0)


class Direction:
    """Bytes from ``source`` to ``sink``, each chunk sent at its due time."""

    def __init__(self, source: socket.socket, sink: socket.socket, delay: Delay):
        self.source, self.sink, self.delay = source, sink, delay
        self.queue: deque[tuple[float, bytes | None]] = deque()
        self.ready = threading.Condition()
        self.last_due = 0.0

    def start(self) -> None:
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._send, daemon=True).start()

    def _read(self) -> None:
        while True:
            try:
                data = self.source.recv(CHUNK)
            except OSError:
                data = b""
            delay = self.delay.seconds
            with self.ready:
                if data and delay == 0 and not self.queue:
                    try:
                        self.sink.sendall(data)
                    except OSError:
                        data = b""
                    else:
                        continue
                due = max(time.perf_counter() + delay, self.last_due)
                self.last_due = due
                self.queue.append((due, data or None))
                self.ready.notify()
            if not data:
                return

    def _send(self) -> None:
        _tight_timers()
        while True:
            with self.ready:
                while not self.queue:
                    self.ready.wait()
                due, data = self.queue.popleft()
            wait = due - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if data is None:  # the source closed: pass the end on
                with contextlib.suppress(OSError):
                    self.sink.shutdown(socket.SHUT_WR)
                return
            try:
                self.sink.sendall(data)
            except OSError:
                with contextlib.suppress(OSError):
                    self.source.shutdown(socket.SHUT_RD)
                return


def _address(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host, int(port)


def serve(listen: tuple[str, int], upstream: tuple[str, int], delay: Delay) -> None:
    server = socket.create_server(listen, backlog=128)
    while True:
        client, _ = server.accept()
        try:
            peer = socket.create_connection(upstream, timeout=5)
        except OSError:
            client.close()
            continue
        peer.settimeout(None)
        for sock in (client, peer):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        Direction(client, peer, delay).start()
        Direction(peer, client, delay).start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--delay-file", type=Path, required=True)
    parser.add_argument("--forward", action="append", required=True, metavar="LISTEN=UPSTREAM")
    args = parser.parse_args(argv)
    delay = Delay(args.delay_file)
    for forward in args.forward:
        listen, _, upstream = forward.partition("=")
        threading.Thread(
            target=serve, args=(_address(listen), _address(upstream), delay), daemon=True
        ).start()
    print("relaying", flush=True)
    threading.Event().wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
