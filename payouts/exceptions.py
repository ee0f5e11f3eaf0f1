"""Errors of payouts, each with a stable code. (Funding and channels first; batches and orders add theirs.)"""

from __future__ import annotations

from core.exceptions import Conflict, InvalidState, PermissionDenied, ValidationFailed


class StatementFileInvalid(ValidationFailed):
    """A bank statement file has bad lines; ``extra["errors"]`` lists ``{"line", "column", "message"}``."""

    code = "statement_file_invalid"


class StatementAlreadyImported(Conflict):
    code = "statement_already_imported"


class IncomingTransferConflict(Conflict):
    """The same bank serial was reported with a different amount: nothing is credited until someone looks."""

    code = "incoming_transfer_conflict"


class TransferNotUnmatched(InvalidState):
    code = "incoming_transfer_not_unmatched"


class InvalidSignature(PermissionDenied):
    """A callback or notification whose signature, timestamp or format does not verify; it is ignored."""

    code = "invalid_signature"
