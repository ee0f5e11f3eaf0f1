"""Demo data of the ledger: the demo enterprises' accounts (available, frozen, worker payable) are open."""

from __future__ import annotations

from django.db import transaction

from ledger import services
from ledger.models import AccountKind, Channel
from merchants.models import Merchant

DEMO_MERCHANT_NAMES = ["天津快送同城配送有限公司", "北京云测数据科技有限公司"]


@transaction.atomic
def load(*, now) -> list[str]:
    for name in DEMO_MERCHANT_NAMES:
        merchant = Merchant.objects.filter(name=name).order_by("id").first()
        if merchant is not None:
            services.merchant_accounts_open(merchant=merchant, now=now)
    for kind in (AccountKind.CUSTODY_BANK, AccountKind.SUSPENSE, AccountKind.PLATFORM_FEE_REVENUE,
                 AccountKind.TAX_PAYABLE_IIT, AccountKind.TAX_PAYABLE_VAT, AccountKind.TAX_PAYABLE_SURCHARGE):
        services.platform_account(kind=kind, now=now)
    for channel in Channel.values:
        services.platform_account(kind=AccountKind.CHANNEL_CLEARING, channel=channel, now=now)
    return ["账务：运行 .venv/bin/python manage.py ledger_check 校验账务平衡（每晚 02:20 自动运行）"]
