"""
gunicorn hooks for the benchmark's servers (``--config python:bench.gunicorn_conf``).

gunicorn answers as soon as its first worker is up; a measurement started then would run
on fewer workers than configured. Each worker leaves a file in ``BENCH_READY_DIR`` once
it has loaded the application, and the benchmark waits for all of them. Nothing here runs
per request.
"""

import os
from pathlib import Path


def post_worker_init(worker):
    ready_dir = os.environ.get("BENCH_READY_DIR")
    if ready_dir:
        (Path(ready_dir) / str(worker.pid)).touch()
