"""
gunicorn hooks for the benchmark's servers (``--config python:bench.gunicorn_conf``).

- Ready: gunicorn answers as soon as its first worker is up, and a measurement started
  then would run on fewer workers than configured. Each worker leaves a file in
  ``BENCH_READY_DIR`` once it has loaded the site; the benchmark waits for all of them.
- Counts: a request carrying the ``X-Bench-Count`` header has its database queries and
  Redis round trips counted by the worker that serves it (``bench.counting``), appended
  as one JSON line to ``BENCH_COUNT_DIR/<pid>.jsonl``. The count is taken in the real
  server, under the mode's own settings, through every middleware. Other requests pay
  one header lookup (gunicorn calls a request hook on every request anyway).
"""

import json
import os
from pathlib import Path

COUNT_HEADER = "X-BENCH-COUNT"

_counter = None


def post_worker_init(worker):
    ready_dir = os.environ.get("BENCH_READY_DIR")
    if ready_dir:
        (Path(ready_dir) / str(worker.pid)).touch()


def pre_request(worker, req):
    global _counter
    if not any(name == COUNT_HEADER for name, _ in req.headers):
        return
    from bench.counting import CallCounter

    _counter = CallCounter()
    _counter.__enter__()


def post_request(worker, req, environ, resp):
    global _counter
    if _counter is None:
        return
    counter, _counter = _counter, None
    counter.__exit__(None, None, None)
    record = {
        "path": req.path,
        "status": resp.status_code,
        "queries": counter.queries,
        "redis_calls": counter.redis_calls,
    }
    count_dir = Path(os.environ["BENCH_COUNT_DIR"])
    with (count_dir / f"{os.getpid()}.jsonl").open("a") as records:
        records.write(json.dumps(record) + "\n")
