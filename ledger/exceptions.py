"""Errors of the ledger, each with a stable code."""

from __future__ import annotations

from core.exceptions import Conflict, NotFound, ValidationFailed


class InsufficientBalance(Conflict):
    """A posting would take an account that may not overdraw below zero. Nothing was written."""

    code = "insufficient_balance"


class UnbalancedEntry(ValidationFailed):
    """The lines of an entry do not sum to zero, have a zero amount, or are fewer than two."""

    code = "ledger_unbalanced_entry"


class EntryConflict(Conflict):
    """An entry with the same (kind, ref) exists with different lines: the same event cannot mean two things."""

    code = "ledger_entry_conflict"


class AccountNotOpen(NotFound):
    """The merchant has no ledger accounts yet (``merchant_accounts_open`` was never called)."""

    code = "ledger_account_not_open"
