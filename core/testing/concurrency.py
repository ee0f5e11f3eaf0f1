"""Run calls at the same moment on real threads (each with its own database connection) for race tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import OperationalError, close_old_connections, connection


def race(*calls: Callable, timeout: float = 120) -> list:
    """Start every call together behind a barrier; return each one's result, or the exception it raised (a
    DomainError the race was expected to produce, or anything else, so the test sees it instead of a thread
    dying silently). Each thread connects before the barrier (waiting for a connection if other test runs hold
    them for a moment), so the calls really start together."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call: Callable) -> None:
        try:
            for _ in range(100):
                try:
                    connection.ensure_connection()
                    break
                except OperationalError:
                    time.sleep(0.1)
            barrier.wait()
            outcomes[index] = call()
        except Exception as error:  # noqa: BLE001 - handed to the test, which asserts on outcomes
            outcomes[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    close_old_connections()
    return outcomes


def race_each(count: int, target: Callable[[int], object], *, timeout: float = 120) -> list:
    """``race`` of ``target(0)`` … ``target(count - 1)``."""
    return race(*[lambda i=i: target(i) for i in range(count)], timeout=timeout)
