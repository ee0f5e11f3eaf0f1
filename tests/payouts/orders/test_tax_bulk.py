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


def test_cached_figures_follow_the_rows_across_months_and_a_back_dated_payment(merchant, now):
    """The batch withholding adds to each account's cached figures (one UPDATE) instead of re-reading its rows; the
    cache must still equal what the rows give: same month, next month, a gap, and a payment dated before the last."""
    import datetime as dt

    from tax.services import _refresh_account

    workers = [make_member(name=name) for name in ("丙", "丁", "戊")]
    year = now.year
    for step, month in enumerate((1, 1, 2, 4, 3)):  # 3 after 4: back-dated, recomputed from the rows
        tax_withhold_many(merchant=merchant, items=[
            PaymentItem(member=w, payment_ref=f"C{step}-{i}", gross_fen=400_000 + 100_000 * i)
            for i, w in enumerate(workers) if not (month == 2 and i == 2)],  # the third worker skips February
            bearer="WORKER", liability_date=dt.date(year, month, 10), now=now)
        for account in TaxAccount.objects.filter(member__in=workers):
            cached = (account.income_fen, account.iit_fen, account.vat_fen, account.surcharges_fen,
                      account.last_month, account.consecutive_months)
            _refresh_account(account)
            assert cached == (account.income_fen, account.iit_fen, account.vat_fen, account.surcharges_fen,
                              account.last_month, account.consecutive_months), (month, account.member_id)
    third = TaxAccount.objects.get(member=workers[2])
    assert (third.last_month, third.consecutive_months) == (4, 2)  # March and April (February missing)
