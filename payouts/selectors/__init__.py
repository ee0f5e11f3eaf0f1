"""Reads of payouts, one module per area; this package re-exports them."""

from payouts.selectors.funding import (  # noqa: F401
    funds_overview,
    incoming_transfer_list,
    payer_account_list,
    topup_account_get,
    unmatched_transfer_queue,
)
from payouts.selectors.orders import (  # noqa: F401
    payout_batch_get,
    payout_batch_list,
    payout_batch_progress,
    payout_month_summary,
    payout_order_get,
    payout_order_list,
)
