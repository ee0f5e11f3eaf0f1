"""退票: a payment the channel reported paid comes back; the success is undone by new entries, never edited."""

from __future__ import annotations

import pytest
from django.db import transaction

from ledger.models import JournalEntry
from ledger.selectors import merchant_available_fen, merchant_frozen_fen
from payouts.documents import payout_receipt_issue
from payouts.exceptions_orders import OrderStateInvalid
from payouts.models import PayoutOrder
from payouts.services.dispatch import payout_orders_dispatch
from payouts.services.orders import payout_order_confirm, payout_order_create
from payouts.services.returns import RETURN_KIND, settle_return
from tasks.models import PayableWork
from tax.models import Withholding

pytestmark = pytest.mark.django_db


def paid_order(merchant, actor, payee, now):
    order = payout_order_create(merchant=merchant, actor=actor, payable_id=payee.payable_id, amount_fen=None,
                                channel="BANK", now=now)
    payout_order_confirm(merchant=merchant, order_id=order.pk, actor=actor, now=now)
    payout_orders_dispatch(order_ids=[order.pk], now=now)
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.SUCCEEDED
    return order


def test_a_returned_payment_gives_everything_back_and_the_work_is_payable_again(funded, payees, enterprise_admin,
                                                                               channel, now):
    before = merchant_available_fen(merchant=funded)
    order = paid_order(funded, enterprise_admin, payees[0], now)
    assert merchant_available_fen(merchant=funded) == before - order.freeze_fen
    assert payout_receipt_issue(order=order, now=now).code  # the receipt of the success
    with transaction.atomic():
        settle_return([PayoutOrder.objects.select_for_update().get(pk=order.pk)], now=now, by="query")
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.RETURNED and order.fail_code == "RETURNED"
    assert merchant_available_fen(merchant=funded) == before and merchant_frozen_fen(merchant=funded) == 0
    entry = JournalEntry.objects.get(kind=RETURN_KIND)
    assert entry.ref == f"payouts.payoutorder:{order.pk}"
    original = Withholding.objects.get(payment_ref=order.order_no, kind=Withholding.Kind.PAYMENT)
    assert Withholding.objects.filter(reverses=original).count() == 1
    work = PayableWork.objects.get(pk=order.payable_id)
    assert work.status == PayableWork.Status.READY and work.paid_at is None
    with pytest.raises(OrderStateInvalid, match="已退票"):  # the receipt issued before is void: not handed out
        payout_receipt_issue(order=order, now=now)
    # reported again (a duplicate notification): nothing more is posted
    with transaction.atomic():
        settle_return([PayoutOrder.objects.select_for_update().get(pk=order.pk)], now=now, by="notify")
    assert JournalEntry.objects.filter(kind=RETURN_KIND).count() == 1
    # the work can be paid again
    again = paid_order(funded, enterprise_admin, payees[0], now)
    assert again.payable_id == order.payable_id


def test_a_channel_answer_of_returned_undoes_a_success_or_fails_an_order_in_flight(funded, payees, enterprise_admin,
                                                                                  channel, now):
    from payouts.channels import Outcome, QueryStatus
    from payouts.services.dispatch import apply_channel_status

    before = merchant_available_fen(merchant=funded)
    order = paid_order(funded, enterprise_admin, payees[0], now)
    with transaction.atomic():
        locked = PayoutOrder.objects.select_for_update().get(pk=order.pk)
        assert apply_channel_status(locked, status=QueryStatus.RETURNED, now=now, by="notification",
                                    fail_message="收款账户已销户")
    order.refresh_from_db()
    assert order.status == PayoutOrder.Status.RETURNED and order.fail_message == "收款账户已销户"
    with transaction.atomic():  # the same answer again changes nothing
        locked = PayoutOrder.objects.select_for_update().get(pk=order.pk)
        assert not apply_channel_status(locked, status=QueryStatus.RETURNED, now=now, by="query")
    channel.default = Outcome.ACCEPTED
    flying = payout_order_create(merchant=funded, actor=enterprise_admin, payable_id=payees[1].payable_id,
                                 amount_fen=None, channel="BANK", now=now)
    payout_order_confirm(merchant=funded, order_id=flying.pk, actor=enterprise_admin, now=now)
    payout_orders_dispatch(order_ids=[flying.pk], now=now)
    with transaction.atomic():
        locked = PayoutOrder.objects.select_for_update().get(pk=flying.pk)
        assert locked.status == PayoutOrder.Status.PROCESSING
        assert apply_channel_status(locked, status=QueryStatus.RETURNED, now=now, by="query")
    flying.refresh_from_db()
    assert flying.status == PayoutOrder.Status.FAILED and flying.fail_code == "RETURNED"
    assert merchant_available_fen(merchant=funded) == before and merchant_frozen_fen(merchant=funded) == 0
