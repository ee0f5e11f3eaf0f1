"""Demo data of funding: 天津快送 is funded by three recognised transfers; one transfer nobody could recognise waits
in the operations queue. ``PROCESSES`` starts the channel sandbox beside the platform (``make run``)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction

from core.money import format_cny
from ledger import selectors as ledger_selectors
from ledger import services as ledger_services
from merchants.models import Merchant
from payouts.models import IncomingTransfer, TopUpAccount
from payouts.services import IncomingTransferData, incoming_transfer_receive, payer_account_register

PROCESSES = [["{python}", "manage.py", "channel_sandbox", "--port", "8765"]]

FUNDED = "天津快送同城配送有限公司"
OTHER = "北京云测数据科技有限公司"
PAYER_ACCOUNT = "6222020200112233445"


@transaction.atomic
def load(*, now) -> list[str]:
    funded = Merchant.objects.filter(name=FUNDED).order_by("id").first()
    if funded is None:
        return []
    ledger_services.merchant_accounts_open(merchant=funded, now=now)
    topup = TopUpAccount.objects.get(merchant=funded)
    payer_account_register(merchant=funded, account_name=FUNDED, account_number=PAYER_ACCOUNT,
                           bank_name="中国工商银行天津河西支行", actor=None, now=now)
    transfers = [
        # (serial, days ago, amount in fen, how it is recognised)
        ("DEMO-KS-0001", 20, 200_000_00, {"virtual_account": topup.account_number}),
        ("DEMO-KS-0002", 9, 150_000_00, {"postscript": f"服务费充值 {topup.reference_code}"}),
        ("DEMO-KS-0003", 2, 80_000_00, {"payer_account_number": PAYER_ACCOUNT, "payer_account_name": FUNDED}),
    ]
    for serial, days_ago, amount_fen, how in transfers:
        at = now - dt.timedelta(days=days_ago)
        data = {"payer_account_name": FUNDED, "payer_account_number": PAYER_ACCOUNT,
                "payer_bank": "中国工商银行天津河西支行", **how}
        incoming_transfer_receive(data=IncomingTransferData(bank_serial=serial, amount_fen=amount_fen,
                                                            value_date=at.date(), transacted_at=at, **data),
                                  source=IncomingTransfer.Source.STATEMENT, now=at)
    incoming_transfer_receive(data=IncomingTransferData(
        bank_serial="DEMO-UNKNOWN-0001", amount_fen=12_345_00, value_date=(now - dt.timedelta(days=1)).date(),
        payer_account_name="天津某某商贸有限公司", payer_account_number="6217000010012345678",
        payer_bank="中国建设银行天津分行", postscript="货款"), source=IncomingTransfer.Source.STATEMENT, now=now)
    other = Merchant.objects.filter(name=OTHER).order_by("id").first()
    other_line = []
    if other is not None:
        ledger_services.merchant_accounts_open(merchant=other, now=now)
        other_account = TopUpAccount.objects.get(merchant=other).account_number
        other_line = [f"  {OTHER}：余额为 0，专属充值账号 {other_account}"]
    balance = ledger_selectors.merchant_available_fen(merchant=funded)
    sandbox = settings.CHANNEL_SANDBOX_URL
    return [
        f"资金：{FUNDED} 可用余额 {format_cny(balance)}，专属充值账号 {topup.account_number}（/enterprise/funds/）",
        *other_line,
        "  运营后台 /ops/payouts/incomingtransfer/?status__exact=UNMATCHED 有 1 笔待认领来账（认领或退回）",
        f"  通道沙箱 {sandbox}（银行/支付宝/微信）；模拟企业转账："
        f"curl -X POST {sandbox}/sandbox/topups -d '{{\"virtual_account\":\"{topup.account_number}\",\"amount\":\"5000.00\","
        f"\"payer_name\":\"{FUNDED}\",\"payer_account\":\"{PAYER_ACCOUNT}\"}}'",
    ]

load = __import__("payouts.demo_orders", fromlist=["wrap"]).wrap(load)  # payout orders and batches demo
