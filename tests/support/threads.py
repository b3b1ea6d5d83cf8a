"""Run callables at the same moment in real threads, for tests of concurrent requests."""

import functools
import threading

from django.db import connection


def run_in_threads(targets, *, timeout: float = 60) -> list:
    """
    Start one thread per callable, release them together, and return what each returned or
    raised (an exception is returned, not raised: the test asserts which errors happened).
    Each thread closes its own database connection when it ends.
    """
    barrier = threading.Barrier(len(targets))
    outcomes = []
    lock = threading.Lock()

    def worker(target):
        try:
            barrier.wait()
            result = target()
        except Exception as exc:  # Recorded: the test asserts which errors happened.
            result = exc
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    assert len(outcomes) == len(targets), "a thread did not finish: a deadlock?"
    return outcomes


def repeat(rounds: int):
    """
    Run the decorated test's body ``rounds`` times in one test (one database set-up): a
    race that one round can win by luck is caught over many.
    """

    def decorate(test):
        @functools.wraps(test)
        def repeated(*args, **kwargs):
            for _ in range(rounds):
                test(*args, **kwargs)

        return repeated

    return decorate
