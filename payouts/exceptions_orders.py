"""Errors of payout batches and orders, each with a stable code."""

from __future__ import annotations

from core.exceptions import Conflict, InvalidState, NotFound, PermissionDenied, ValidationFailed


class OrderNotFound(NotFound):
    code = "payout_order_not_found"


class BatchNotFound(NotFound):
    code = "payout_batch_not_found"


class OrderInvalid(ValidationFailed):
    """A single order cannot be made: the worker, account, work or amount is wrong (``extra`` says which)."""

    code = "payout_order_invalid"


class MerchantOrderNoTaken(Conflict):
    code = "merchant_order_no_taken"


class RiskRejected(ValidationFailed):
    """A risk rule refused the payment; ``extra["reasons"]`` lists them."""

    code = "payout_risk_rejected"


class BatchHasErrors(InvalidState):
    """The batch still has bad lines: fix the file and upload again, or remove them before confirming."""

    code = "payout_batch_has_errors"


class BatchStateInvalid(InvalidState):
    code = "payout_batch_state_invalid"


class OrderStateInvalid(InvalidState):
    code = "payout_order_state_invalid"


class ChannelNotEnabled(ValidationFailed):
    code = "payout_channel_not_enabled"


class SecondApprovalRequired(PermissionDenied):
    """The batch is above the second-approval threshold and must be approved by another authorised user."""

    code = "payout_second_approval_required"


class QuoteChanged(Conflict):
    """The balance or the quote changed since it was shown: quote again and confirm the new figures."""

    code = "payout_quote_changed"
