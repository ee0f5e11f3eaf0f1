"""退票: a payment the channel reported paid comes back (the payee's bank refuses the credit after the channel
said it succeeded — account closed, name mismatch found on posting; Alipay's ``REFUND``). ``channels.md``: it arrives
as a query answer or a notification with the status RETURNED, days later sometimes, and the statement file shows it.

The success is undone, never edited: one ``payout.return`` entry per order reverses the settlement (the channel's
clearing gives back what it paid, the tax payable and the fee revenue are reversed, and everything the enterprise
paid for the order returns to its available balance), the tax withholding is reversed (in its own month; a filed
month opens a 更正), and the accepted work is free to be paid again. The order ends RETURNED (已退票).
"""

from __future__ import annotations

from collections import defaultdict

from django.utils.translation import gettext_noop

from core import audit
from ledger.models import AccountKind
from ledger.services import EntrySpec, entries_post
from payouts.models import PayoutOrder
from payouts.services.settlement import UPDATE_FIELDS, _Accounts, fee_collected_at_settlement, success_lines
from payouts.services.sql import update_rows

RETURN_KIND = "payout.return"
# stored on the order in Chinese, translated when shown (PayoutOrder.fail_message_shown)
RETURNED_MESSAGE = gettext_noop("收款方账户退回（退票），款项已退回企业可用余额")


def return_lines(order: PayoutOrder, accounts: _Accounts) -> list[tuple]:
    """The settlement's lines reversed, the enterprise's side going back to available instead of frozen."""
    frozen = accounts.merchant(order.merchant_id, AccountKind.MERCHANT_FROZEN)
    available = accounts.merchant(order.merchant_id, AccountKind.MERCHANT_AVAILABLE)
    return [(available if account is frozen else account, -amount) for account, amount in success_lines(order, accounts)]


def settle_return(orders: list[PayoutOrder], *, now, by: str, code: str = "RETURNED",
                  message: str = RETURNED_MESSAGE) -> None:
    """SUCCEEDED → RETURNED for ``orders`` (locked by the caller). Orders not SUCCEEDED are left as they are (a
    return reported twice posts once: the order is RETURNED the second time, and the entry's (kind, ref) is unique).
    """
    from tasks.bulk import payable_work_unpay_many
    from tax.services import tax_reverse

    orders = [o for o in orders if o.status == PayoutOrder.Status.SUCCEEDED]
    if not orders:
        return
    accounts = _Accounts(now)
    entries_post(entries=[EntrySpec(kind=RETURN_KIND, ref=order, merchant=order.merchant_id,
                                    memo=f"退票退回 {order.order_no}", lines=return_lines(order, accounts))
                          for order in orders], now=now)
    for order in orders:
        order.returned(at=now, by=by, code=code, message=message)
        order.channel_status = "RETURNED"
        order.next_query_at = None
        order.updated_at = now
        tax_reverse(payment_ref=order.order_no, merchant=order.merchant_id, now=now, reason=f"退票：{message}")
    update_rows(PayoutOrder, orders, UPDATE_FIELDS)
    by_merchant: dict[int, list[PayoutOrder]] = defaultdict(list)
    for order in orders:
        by_merchant[order.merchant_id].append(order)
    for merchant_id, group in by_merchant.items():
        ids = [o.payable_id for o in group if o.payable_id]
        if ids:  # the work is payable again
            payable_work_unpay_many(merchant=merchant_id, payable_ids=ids, ref=group[0].order_no, now=now)
        audit.record(event="payouts.order.returned", now=now, merchant=merchant_id, subject=group[0],
                     after={"count": len(group), "returned_fen": sum(o.freeze_fen + o.fee_frozen_fen for o in group),
                            "by": by, "order_nos": [o.order_no for o in group[:50]],
                            "fee_reversed_fen": sum(fee_collected_at_settlement(o) for o in group)})
