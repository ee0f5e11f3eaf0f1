"""Demo data of payout orders and batches for 天津快送 (funded by ``payouts.demo``): twelve verified workers signed
with it, each with accepted work ready to pay; one batch of six already confirmed and paid (settled here by a
stand-in channel, since the sandbox process may not be running while the demo loads); and a ready-made file
paying the other six, to upload at /enterprise/payouts/batches/ and watch it settle through the channel sandbox.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings

from payouts.channels import Outcome, SubmitResult

PAID_TITLE = "演示批次：3月上旬配送劳务费（已发放）"


class _DemoChannel:
    def submit(self, request, key):
        return SubmitResult(Outcome.SUCCEEDED, channel_order_id=f"DEMO{key[:12].upper()}")

    def query(self, key):  # pragma: no cover - never in flight
        raise NotImplementedError


def load(*, now) -> list[str]:
    from ledger import selectors as ledger_selectors
    from ledger import services as ledger_services
    from ledger.models import AccountKind
    from merchants.models import Merchant
    from payouts.demo import FUNDED
    from payouts.models import PayoutBatch
    from payouts.services import dispatch
    from payouts.services.batches import payout_batch_check, payout_batch_confirm_verified, payout_batch_upload
    from payouts.testing_orders import batch_csv, make_payees

    merchant = Merchant.objects.filter(name=FUNDED).order_by("id").first()
    if merchant is None:
        return []
    demo_file = Path(settings.VAR_DIR) / "demo" / "demo-batch-kuaisong.csv"
    paid = PayoutBatch.objects.filter(merchant=merchant, title=PAID_TITLE).first()
    if paid is None:
        from accounts.models import User

        actor = User.objects.filter(merchant=merchant, username="kuaisong_finance").first()
        amounts = [320_00, 450_00, 380_00, 520_00, 275_50, 610_00, 300_00, 420_00, 365_00, 480_00, 510_00, 290_00]
        payees = make_payees(merchant=merchant, count=12, now=now, seed=9, amount_fen=lambda i: amounts[i],
                             actor=actor)
        batch = payout_batch_upload(merchant=merchant, actor=actor, content=batch_csv(payees[:6]),
                                    filename="3月上旬配送劳务费.csv", channel="BANK", title=PAID_TITLE, now=now)
        batch = payout_batch_check(batch_id=batch.pk, now=now)
        # the enterprise set aside exactly what this batch costs (a custody-bank credit), so the demo balance stays
        # what the funding demo prints
        custody = ledger_services.platform_account(kind=AccountKind.CUSTODY_BANK, now=now)
        available = ledger_selectors.merchant_account(merchant=merchant, kind=AccountKind.MERCHANT_AVAILABLE)
        ledger_services.entry_post(kind="demo.funding", ref=f"demo-batch-{batch.batch_no}", merchant=merchant,
                                   memo="演示：劳务费批次备款", lines=[(custody, batch.freeze_fen),
                                                              (available, -batch.freeze_fen)], now=now)
        batch = payout_batch_confirm_verified(merchant=merchant, batch_id=batch.pk, actor=actor, now=now)
        real = dispatch.adapter_for
        dispatch.adapter_for = lambda channel: _DemoChannel()
        try:
            dispatch.payout_orders_dispatch(order_ids=list(batch.orders.values_list("id", flat=True)), now=now)
            _returned_and_paid_again(batch=batch, merchant=merchant, actor=actor, now=now)
        finally:
            dispatch.adapter_for = real
        demo_file.parent.mkdir(parents=True, exist_ok=True)
        demo_file.write_bytes(batch_csv(payees[6:]))
        paid = batch
    return [
        f"付款：{FUNDED} 已完成批次 {paid.batch_no}（6 笔，/enterprise/payouts/batches/；其中一笔被银行退票，"
        f"已原路退回并重新付款，见付款订单）；另有 6 笔已验收待付款的工作",
        f"  用 kuaisong_finance 登录，上传 {demo_file} 到 /enterprise/payouts/batches/，"
        "获取短信验证码（开发环境验证码显示在短信发件箱）后确认，批次页面实时显示发放进度",
    ]


def _returned_and_paid_again(*, batch, merchant, actor, now) -> None:
    """退票 in the demo: the bank takes the batch's last payment back (the payee's account was closed after the
    credit); the money returns to the enterprise and the work is paid again by a single order."""
    from django.db import transaction

    from payouts.channels import QueryStatus
    from payouts.models import PayoutOrder
    from payouts.services import dispatch
    from payouts.services.orders import payout_order_confirm, payout_order_create

    returned = batch.orders.order_by("line_no").last()
    with transaction.atomic():
        locked = PayoutOrder.objects.select_for_update().get(pk=returned.pk)
        dispatch.apply_channel_status(locked, status=QueryStatus.RETURNED, now=now, by="notification",
                                      fail_message="收款账户已销户，银行退回（演示）")
    again = payout_order_create(merchant=merchant, actor=actor, payable_id=returned.payable_id,
                                amount_fen=returned.amount_fen, channel="BANK", remark="退票后重新付款", now=now)
    payout_order_confirm(merchant=merchant, order_id=again.pk, actor=actor, now=now)
    dispatch.payout_orders_dispatch(order_ids=[again.pk], now=now)


def wrap(funding_load):
    """``payouts.demo.load`` followed by this module's ``load`` (one line in payouts/demo.py hooks it in)."""

    def load_both(*, now) -> list[str]:
        return [*(funding_load(now=now) or []), *load(now=now)]

    return load_both
