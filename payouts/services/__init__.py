"""Writes of payouts, one module per area; this package re-exports the public services.

- ``funding``: 来账识别 — top-up accounts, incoming transfers, statement imports, match/return.
- ``channels``: payout-result notifications from the channels (stored once, then handed to the order handler).
"""

from payouts.services.channels import (  # noqa: F401
    channel_notification_receive,
    channel_notifications_receive,
    notification_batch_handler,
    notification_handler,
)
from payouts.services.funding import (  # noqa: F401
    IncomingTransferData,
    incoming_transfer_match,
    incoming_transfer_receive,
    incoming_transfer_return,
    payer_account_register,
    statement_import,
    statement_pull,
    topup_account_open,
)
