"""付款与发放 models, one module per area: ``funding`` (来账识别), ``channels`` (channel notifications).

Batches, orders and quotes live in their own modules beside these; import every model here so Django finds it.
"""

from payouts.models.channels import ChannelNotification  # noqa: F401
from payouts.models.funding import IncomingTransfer, PayerAccount, StatementImport, TopUpAccount  # noqa: F401
from payouts.models.orders import FeeStatement, PayoutBatch, PayoutOrder, PayoutReceipt  # noqa: F401
