"""Kernel jobs and the helper every app uses to enqueue on commit.

Jobs are thin: ids in, one service call. They are idempotent, ``acks_late`` with ``task_reject_on_worker_lost``
(set globally in settings), and never take personal data in their arguments.
"""

from __future__ import annotations

import logging
import time

from celery import shared_task
from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
HEARTBEAT_CACHE_KEY = "linggong:worker-heartbeat"


def enqueue_on_commit(job, **kwargs) -> None:
    """Enqueue ``job`` with keyword arguments once the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: job.apply_async(kwargs=kwargs))


@shared_task(name="core.heartbeat", queue="default")
def heartbeat(**kwargs) -> float:
    now = time.time()
    cache.set(HEARTBEAT_CACHE_KEY, now, timeout=3600)
    return now


@shared_task(name="core.audit_verify", queue="default")
def audit_verify(**kwargs) -> dict:
    from core.audit import verify_chain

    report = verify_chain()
    if not report.ok:
        logger.error("audit chain broken at record %s: %s", report.broken_at, report.reason)
    return {"checked": report.checked, "ok": report.ok, "broken_at": report.broken_at}
