"""Payouts jobs: thin, ids in, one service call each."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone


@shared_task(name="payouts.statement_pull", queue="reconciliation")
def statement_pull_job(*, days_back: int = 1, **kwargs) -> list:
    """Pull the bank's incoming-transfer statements of today and the previous ``days_back`` days and import them."""
    from payouts.services import statement_pull

    now = timezone.now()
    today = timezone.localdate(now)
    imported = []
    for offset in range(days_back, -1, -1):
        record = statement_pull(date=today - dt.timedelta(days=offset), now=now)
        if record is not None:
            imported.append(record.pk)
    return imported
from payouts.jobs_orders import *  # noqa: E402,F401,F403  (batch and order jobs)
