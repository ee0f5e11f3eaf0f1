import pytest

from ledger import selectors as ledger_selectors
from merchants import demo as merchants_demo
from payouts import demo
from payouts.models import IncomingTransfer

pytestmark = pytest.mark.django_db


def test_demo_funds_one_enterprise_and_leaves_one_transfer_unmatched_idempotently(now):
    from accounts import demo as accounts_demo
    from ledger import demo as ledger_demo

    accounts_demo.load(now=now)
    merchants_demo.load(now=now)
    for _ in range(2):
        ledger_demo.load(now=now)
        lines = demo.load(now=now)
    funded = IncomingTransfer.objects.filter(status=IncomingTransfer.Status.MATCHED)
    assert funded.count() == 3
    assert set(funded.values_list("match_method", flat=True)) == {"VIRTUAL_ACCOUNT", "REFERENCE", "PAYER"}
    assert IncomingTransfer.objects.filter(status=IncomingTransfer.Status.UNMATCHED).count() == 1
    merchant = funded.first().merchant
    assert merchant.name == "天津快送同城配送有限公司"
    assert ledger_selectors.merchant_available_fen(merchant=merchant) == 430_000_00
    assert "¥430,000.00" in lines[0]
    assert demo.PROCESSES == [["{python}", "manage.py", "channel_sandbox", "--port", "8765"]]
