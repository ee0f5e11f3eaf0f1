"""Run calls at the same moment on real threads (each with its own database connection) for race tests."""

from __future__ import annotations

import threading
from collections.abc import Callable

from django.db import connection


def race(*calls: Callable) -> list:
    """Start every call together behind a barrier; return each one's result, or the exception it raised (a
    DomainError the race was expected to produce, or anything else, so the test sees it instead of a thread
    dying silently)."""
    barrier = threading.Barrier(len(calls))
    outcomes: list = [None] * len(calls)

    def run(index: int, call: Callable) -> None:
        try:
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
        thread.join()
    return outcomes
