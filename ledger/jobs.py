"""Ledger jobs: thin, one call each."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task(name="ledger.check", queue="reconciliation")
def ledger_check_job(**kwargs) -> dict:
    """Nightly invariant check; a broken invariant is logged as an error (alerting reads the log)."""
    from ledger.invariants import ledger_check

    report = ledger_check()
    for problem in report.problems:
        logger.error("ledger invariant broken: %s", problem)
    return {"ok": report.ok, "entries": report.entries, "accounts": report.accounts, "problems": len(report.problems)}
