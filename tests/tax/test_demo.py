import datetime as dt

import pytest

from tax import demo
from tax.models import PlatformReport, TaxPeriod, TaxReceipt, TaxReturn, TaxStatement, Withholding

pytestmark = pytest.mark.django_db
SH = dt.timezone(dt.timedelta(hours=8))


def test_demo_loads_every_capability_and_is_idempotent():
    from members import demo as members_demo
    from merchants import demo as merchants_demo

    now = dt.datetime(2026, 11, 26, 10, 0, tzinfo=SH)
    merchants_demo.load(now=now)
    members_demo.load(now=now)
    lines = demo.load(now=now)
    assert any("/verify/tax/" in line for line in lines)
    counts = (Withholding.objects.count(), TaxReturn.objects.count(), TaxReceipt.objects.count())
    assert Withholding.objects.filter(kind="REVERSAL").count() == 1
    assert Withholding.objects.filter(route="BUSINESS").exists()
    assert Withholding.objects.filter(vat_fen__gt=0).exists()
    assert TaxPeriod.objects.filter(status="FILED").count() == 4
    assert TaxPeriod.objects.get(year=2026, month=11).status == "OPEN"
    assert TaxReturn.objects.filter(is_correction=True).count() == 2
    assert TaxStatement.objects.count() == 1 and PlatformReport.objects.count() == 1
    demo.load(now=now)
    assert (Withholding.objects.count(), TaxReturn.objects.count(), TaxReceipt.objects.count()) == counts
