"""The set-based tax functions used by batches agree with the per-payment services, payment by payment."""

from __future__ import annotations

import pytest

from tax.bulk import PaymentItem, tax_quote_many, tax_withhold_many
from tax.models import TaxAccount
from tax.services import tax_quote, tax_withhold
from tests.tax.conftest import make_member

pytestmark = pytest.mark.django_db

AMOUNTS = [800_000, 350_000, 1_200_000, 90_000]


@pytest.mark.parametrize("bearer", ["WORKER", "MERCHANT"])
def test_many_equals_one_after_another(merchant, other_merchant, now, bearer):
    one, many = make_member(name="甲"), make_member(name="乙")
    day = now.date()
    key = "gross_fen" if bearer == "WORKER" else "net_fen"
    expected_quotes = [tax_quote(member=one, merchant=merchant, bearer=bearer, liability_date=day, now=now,
                                 **{key: AMOUNTS[0]})]
    singles = [tax_withhold(member=one, merchant=merchant, payment_ref=f"S{i}", bearer=bearer, liability_date=day,
                            now=now, **{key: amount}) for i, amount in enumerate(AMOUNTS)]
    quotes = tax_quote_many(items=[PaymentItem(member=many, **{key: a}) for a in AMOUNTS], bearer=bearer,
                            liability_date=day, now=now)
    rows = tax_withhold_many(merchant=other_merchant, items=[
        PaymentItem(member=many, payment_ref=f"M{i}", **{key: a}) for i, a in enumerate(AMOUNTS)],
        bearer=bearer, liability_date=day, now=now)
    fields = ("gross_fen", "iit_fen", "vat_fen", "urban_fen", "education_fen", "local_education_fen", "net_fen")
    assert [[getattr(r, f) for f in fields] for r in rows] == [[getattr(s, f) for f in fields] for s in singles]
    assert [q.gross_fen for q in quotes] == [s.gross_fen for s in singles]
    assert quotes[0].lines == expected_quotes[0].lines
    a = TaxAccount.objects.get(member=one)
    b = TaxAccount.objects.get(member=many)
    assert (a.income_fen, a.iit_fen, a.vat_fen, a.surcharges_fen, a.last_month, a.consecutive_months) == (
        b.income_fen, b.iit_fen, b.vat_fen, b.surcharges_fen, b.last_month, b.consecutive_months)
    # the same refs again: the recorded rows come back, nothing is added
    again = tax_withhold_many(merchant=other_merchant, items=[
        PaymentItem(member=many, payment_ref=f"M{i}", **{key: a}) for i, a in enumerate(AMOUNTS)],
        bearer=bearer, liability_date=day, now=now)
    assert [r.net_fen for r in again] == [r.net_fen for r in rows]
    assert many.withholdings.count() == len(AMOUNTS)
