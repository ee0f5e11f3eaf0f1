"""Row locks of the ledger, in the one documented order: ledger accounts by ascending primary key, in one statement.

On PostgreSQL ``SELECT … ORDER BY id FOR UPDATE`` locks rows in the order the sort returns them (the LockRows
step runs above the Sort), so every transaction that locks a set of accounts takes them lowest id first and two
postings between the same accounts in opposite directions wait for each other instead of deadlocking.
Callers lock their own rows (merchant → batch → order) before calling the ledger, never after.
"""

from __future__ import annotations

from django.db import transaction

from ledger.models import LedgerAccount


def accounts_for_update(account_ids) -> dict[int, LedgerAccount]:
    """Lock the accounts (ascending pk) and return them by pk. Must run inside a transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("ledger accounts can only be locked inside a transaction")
    ids = sorted(set(account_ids))
    rows = LedgerAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")
    return {account.pk: account for account in rows}
