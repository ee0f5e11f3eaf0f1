"""tax_quote / tax_withhold / tax_reverse: the interface the payouts engineer calls for every payment."""

import datetime as dt

import pytest

from core.models import AuditRecord
from core.testing.concurrency import race, race_each
from core.testing.factories import MerchantFactory
from tax import services
from tax.exceptions import MemberNotVerified, PaymentRefConflict, PeriodLocked, TaxAmountInvalid, WithholdingNotFound
from tax.models import TaxAccount, TaxPeriod, TaxSettings, Withholding
from tests.tax.conftest import ensure_rule_sets, make_member

pytestmark = pytest.mark.django_db


def withhold(member, merchant, ref, on, now, *, gross=None, net=None, bearer="WORKER"):
    return services.tax_withhold(member=member, merchant=merchant, payment_ref=ref, gross_fen=gross, net_fen=net,
                                 bearer=bearer, liability_date=on, now=now)


def test_three_months_of_10000(member, merchant, now):
    rows = [withhold(member, merchant, f"P{m}", dt.date(2026, m, 10), now, gross=1_000_000) for m in (1, 2, 3)]
    assert [r.iit_fen for r in rows] == [9000, 9000, 9000]
    assert all(r.vat_fen == 0 and r.net_fen == 991000 for r in rows)
    assert rows[0].rule_set.code == "CN-2026.1" and rows[0].route == "LABOR_CUMULATIVE"
    account = TaxAccount.objects.get(member=member, year=2026)
    assert (account.income_fen, account.iit_fen, account.consecutive_months, account.last_month) == (
        3_000_000, 27000, 3, 3)
    line = rows[2].lines[0]
    assert line["inputs"]["cumulative_income_fen"] == 3_000_000 and line["inputs"]["consecutive_months"] == 3
    assert line["rule_set"] == "CN-2026.1" and line["rate"] == "0.03" and line["quick_deduction_fen"] == 0
    assert AuditRecord.objects.filter(event="tax.withholding.created").count() == 3


def test_quote_writes_nothing_and_matches_withholding(member, merchant, now):
    withhold(member, merchant, "P1", dt.date(2026, 1, 10), now, gross=1_000_000)
    quote = services.tax_quote(member=member, merchant=merchant, gross_fen=1_000_000, bearer="WORKER",
                               liability_date=dt.date(2026, 2, 10), now=now)
    assert Withholding.objects.count() == 1
    assert quote.iit_fen == 9000 and quote.net_fen == 991000 and quote.rule_set == "CN-2026.1"
    assert quote.as_dict()["tax_fen"] == 9000
    row = withhold(member, merchant, "P2", dt.date(2026, 2, 10), now, gross=1_000_000)
    assert (row.iit_fen, row.net_fen) == (quote.iit_fen, quote.net_fen)


def test_cumulative_is_per_worker_across_enterprises_on_the_platform(member, merchant, other_merchant, now):
    withhold(member, merchant, "A1", dt.date(2026, 1, 5), now, gross=1_000_000)
    second = withhold(member, other_merchant, "B1", dt.date(2026, 1, 20), now, gross=1_000_000)
    # 20,000 × 0.8 − 5,000 (one month) = 11,000 × 3% = 330 − 90 already withheld
    assert second.iit_fen == 24000


def test_vat_on_month_total_across_enterprises(member, merchant, other_merchant, now):
    first = withhold(member, merchant, "A1", dt.date(2026, 3, 1), now, gross=6_000_000)
    second = withhold(member, other_merchant, "B1", dt.date(2026, 3, 20), now, gross=6_000_000)
    assert first.vat_fen == 0
    assert second.vat_fen == 118812  # the whole 120,000 is taxed once the month reaches the 起征点
    assert (second.urban_fen, second.education_fen, second.local_education_fen) == (4158, 1782, 1188)
    assert second.iit_income_fen == 6_000_000 - 118812
    april = withhold(member, merchant, "A2", dt.date(2026, 4, 1), now, gross=6_000_000)
    assert april.vat_fen == 0  # a new month starts under the line again


def test_rule_set_chosen_by_liability_date(member, merchant, now):
    before = withhold(member, merchant, "S30", dt.date(2025, 9, 30), now, gross=300_000)
    after = withhold(member, merchant, "O01", dt.date(2025, 10, 1), now, gross=300_000)
    assert (before.rule_set.code, before.route, before.iit_fen) == ("CN-2023.1", "LABOR_PER_PAYMENT", 44000)
    assert (after.rule_set.code, after.route, after.iit_fen) == ("CN-2025.4", "LABOR_CUMULATIVE", 0)


def test_cumulative_run_starts_with_no16_in_2025(member, merchant, now):
    """Income withheld per payment in September 2025 is not part of the No. 16 run that starts in October."""
    withhold(member, merchant, "S", dt.date(2025, 9, 10), now, gross=1_000_000)
    october = withhold(member, merchant, "O", dt.date(2025, 10, 10), now, gross=1_000_000)
    assert october.iit_fen == 9000
    assert october.lines[0]["inputs"]["consecutive_months"] == 1
    assert october.lines[0]["inputs"]["cumulative_income_fen"] == 1_000_000


def test_vat_boundary_changes_on_2026_01_01(merchant, now):
    december, january = make_member(), make_member()
    old = withhold(december, merchant, "D", dt.date(2025, 12, 31), now, gross=10_100_000)
    new = withhold(january, merchant, "J", dt.date(2026, 1, 1), now, gross=10_100_000)
    assert old.vat_fen == 0 and new.vat_fen == 100_000


def test_year_boundary_restarts_the_cumulative_run(member, merchant, now):
    withhold(member, merchant, "N", dt.date(2025, 11, 10), now, gross=1_000_000)
    withhold(member, merchant, "D", dt.date(2025, 12, 10), now, gross=1_000_000)
    january = withhold(member, merchant, "J", dt.date(2026, 1, 10), now, gross=1_000_000)
    assert january.iit_fen == 9000
    assert january.lines[0]["inputs"]["consecutive_months"] == 1
    assert TaxAccount.objects.filter(member=member).count() == 2


@pytest.mark.parametrize(("rule", "march_tax"), [("RESET_COUNT", 24000), ("RESTART_SEGMENT", 9000)])
def test_gap_month_setting(member, merchant, now, rule, march_tax):
    services.tax_settings_update(now=now, gap_month_rule=rule)
    withhold(member, merchant, "J", dt.date(2026, 1, 10), now, gross=1_000_000)
    march = withhold(member, merchant, "M", dt.date(2026, 3, 10), now, gross=1_000_000)
    assert march.iit_fen == march_tax
    assert march.options["gap_month_rule"] == rule


def test_iit_base_setting(member, merchant, now):
    services.tax_settings_update(now=now, iit_base_when_vat_due="GROSS")
    row = withhold(member, merchant, "G", dt.date(2026, 3, 10), now, gross=12_000_000)
    assert row.iit_income_fen == 12_000_000


def test_surcharge_location_of_the_worker(member, merchant, now):
    from tax.models import WorkerTaxProfile

    services.tax_settings_update(now=now, surcharge_location_basis="WORKER")
    WorkerTaxProfile.objects.create(member=member, location="COUNTY", city="蓟州")
    row = withhold(member, merchant, "L", dt.date(2026, 3, 10), now, gross=12_000_000)
    assert row.urban_fen == 2970


def test_gross_up_when_the_enterprise_bears_the_tax(member, merchant, now):
    withhold(member, merchant, "P1", dt.date(2026, 2, 10), now, gross=2_000_000)
    row = withhold(member, merchant, "P2", dt.date(2026, 3, 10), now, net=11_000_000, bearer="MERCHANT")
    assert row.net_fen == 11_000_000
    assert row.gross_fen == row.net_fen + row.tax_fen
    assert row.vat_fen > 0 and row.iit_fen > 0
    assert row.bearer == "MERCHANT"


def test_individual_business_withholds_nothing(merchant, now):
    business = make_member(business=True)
    row = withhold(business, merchant, "IB", dt.date(2026, 3, 10), now, gross=12_000_000)
    assert row.route == "BUSINESS" and row.tax_fen == 0 and row.net_fen == 12_000_000
    assert "自行申报" in row.lines[0]["formula"]


BAD_INPUTS = [
    ({"gross_fen": 0}, "tax_amount_invalid"),
    ({"gross_fen": -5}, "tax_amount_invalid"),
    ({"gross_fen": 100.0}, "tax_amount_invalid"),
    ({"gross_fen": 1000, "net_fen": 900}, "tax_amount_invalid"),
    ({}, "tax_amount_invalid"),
    ({"gross_fen": 1000, "bearer": "PLATFORM"}, "tax_amount_invalid"),
    ({"gross_fen": 1000, "bearer": "MERCHANT"}, "tax_amount_invalid"),
    ({"gross_fen": 1000, "payment_ref": "  "}, "tax_amount_invalid"),
    ({"gross_fen": 1000, "liability_date": dt.date(2022, 12, 31)}, "tax_no_rule_set"),
]


@pytest.mark.parametrize(("kwargs", "code"), BAD_INPUTS)
def test_bad_inputs_change_nothing(member, merchant, now, kwargs, code):
    from core.exceptions import DomainError

    call = {"member": member, "merchant": merchant, "payment_ref": "X", "bearer": "WORKER",
            "liability_date": dt.date(2026, 3, 1), "now": now} | kwargs
    with pytest.raises(DomainError) as error:
        services.tax_withhold(**call)
    assert error.value.code == code
    assert error.value.message  # a Chinese message saying what to do
    assert Withholding.objects.count() == 0


def test_unverified_member_is_refused(merchant, now):
    stranger = make_member(verified=False)
    with pytest.raises(MemberNotVerified):
        withhold(stranger, merchant, "U", dt.date(2026, 3, 1), now, gross=1000)


def test_same_payment_twice_is_idempotent_and_different_figures_conflict(member, merchant, now):
    first = withhold(member, merchant, "P1", dt.date(2026, 3, 1), now, gross=1_000_000)
    again = withhold(member, merchant, "P1", dt.date(2026, 3, 1), now, gross=1_000_000)
    assert again.pk == first.pk and Withholding.objects.count() == 1
    with pytest.raises(PaymentRefConflict):
        withhold(member, merchant, "P1", dt.date(2026, 3, 1), now, gross=2_000_000)


def test_reversal_restores_the_cumulative_state(member, merchant, now):
    withhold(member, merchant, "P1", dt.date(2026, 1, 10), now, gross=1_000_000)
    failed = withhold(member, merchant, "P2", dt.date(2026, 2, 10), now, gross=1_000_000)
    reversal = services.tax_reverse(payment_ref="P2", merchant=merchant, now=now)
    assert reversal.kind == "REVERSAL" and reversal.reverses_id == failed.pk
    assert reversal.gross_fen == -failed.gross_fen and reversal.iit_fen == -failed.iit_fen
    assert reversal.correction_version is None
    account = TaxAccount.objects.get(member=member, year=2026)
    assert (account.income_fen, account.iit_fen, account.consecutive_months) == (1_000_000, 9000, 1)
    # February now has no income: March is a new run of one month (default RESET_COUNT):
    # 20,000 × 0.8 − 5,000 = 11,000 × 3% = 330 − 90 = 240
    march = withhold(member, merchant, "P3", dt.date(2026, 3, 10), now, gross=1_000_000)
    assert march.iit_fen == 24000
    assert services.tax_reverse(payment_ref="P2", merchant=merchant, now=now).pk == reversal.pk  # idempotent


def test_reversal_of_the_payment_that_crossed_the_vat_line(member, merchant, now):
    withhold(member, merchant, "A", dt.date(2026, 3, 1), now, gross=6_000_000)
    withhold(member, merchant, "B", dt.date(2026, 3, 2), now, gross=6_000_000)
    services.tax_reverse(payment_ref="B", merchant=merchant, now=now)
    again = withhold(member, merchant, "C", dt.date(2026, 3, 3), now, gross=3_000_000)
    assert again.vat_fen == 0  # the month is back to 90,000


def test_reverse_unknown_or_other_tenant(member, merchant, other_merchant, now):
    withhold(member, merchant, "P1", dt.date(2026, 3, 1), now, gross=1000)
    with pytest.raises(WithholdingNotFound):
        services.tax_reverse(payment_ref="P1", merchant=other_merchant, now=now)
    with pytest.raises(WithholdingNotFound):
        services.tax_reverse(payment_ref="nope", now=now)


def test_filed_period_is_locked_and_reversal_becomes_a_correction(member, merchant, now):
    from tax.filing import tax_period_file

    withhold(member, merchant, "P1", dt.date(2026, 1, 10), now, gross=1_000_000)
    period = tax_period_file(year=2026, month=1, now=now)
    assert period.status == TaxPeriod.Status.FILED and period.version == 1
    with pytest.raises(PeriodLocked):
        withhold(member, merchant, "P2", dt.date(2026, 1, 31), now, gross=1000)
    reversal = services.tax_reverse(payment_ref="P1", merchant=merchant, now=now)
    period.refresh_from_db()
    assert period.status == TaxPeriod.Status.CORRECTION_PENDING
    assert reversal.correction_version == 2
    corrected = tax_period_file(year=2026, month=1, now=now)
    assert corrected.status == TaxPeriod.Status.FILED and corrected.version == 2
    assert corrected.returns.filter(version=1).count() == 2  # the original files are kept
    assert corrected.returns.filter(version=2, is_correction=True).count() == 2


def test_settings_are_explicit_with_documented_defaults(db, now):
    row = TaxSettings.load()
    assert (row.gap_month_rule, row.iit_base_when_vat_due, row.vat_threshold_base, row.surcharge_location_basis,
            row.platform_location, row.entity_code) == ("RESET_COUNT", "VAT_EXCLUSIVE", "VAT_EXCLUSIVE", "PLATFORM",
                                                        "URBAN", "main")
    with pytest.raises(TaxAmountInvalid):
        services.tax_settings_update(now=now, nonsense=1)


# --- concurrency (PostgreSQL, real threads, real commits) --------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_payments_for_one_worker_are_serialised(now):
    ensure_rule_sets()
    merchant, other = MerchantFactory(), MerchantFactory()
    member = make_member()
    outcomes = race(lambda: withhold(member, merchant, "T1", dt.date(2026, 3, 10), now, gross=1_000_000),
                    lambda: withhold(member, other, "T2", dt.date(2026, 3, 10), now, gross=1_000_000))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    taxes = sorted(Withholding.objects.filter(member=member).values_list("iit_fen", flat=True))
    # one used the empty state (10,000 → 90), the other saw it (20,000 → 330 − 90 = 240); never 90 twice
    assert taxes == [9000, 24000]
    account = TaxAccount.objects.get(member=member, year=2026)
    assert account.iit_fen == 33000 and account.version == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_many_concurrent_payments_add_up_to_the_single_payment_figure(now):
    ensure_rule_sets()
    merchant = MerchantFactory()
    member = make_member()
    count = 8
    outcomes = race_each(count, lambda i: withhold(member, merchant, f"C{i}", dt.date(2026, 3, 10), now, gross=500_000))
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert Withholding.objects.filter(member=member).count() == count
    # 40,000 in one month: 32,000 − 5,000 = 27,000 × 3% = 810, however it was split
    assert sum(Withholding.objects.filter(member=member).values_list("iit_fen", flat=True)) == 81000


def test_every_withholding_recomputes_from_what_it_kept(member, merchant, other_merchant, now):
    withhold(member, merchant, "R1", dt.date(2026, 1, 10), now, gross=7_000_000)
    withhold(member, other_merchant, "R2", dt.date(2026, 1, 20), now, gross=5_000_000)
    withhold(member, merchant, "R3", dt.date(2026, 2, 10), now, net=3_000_000, bearer="MERCHANT")
    services.tax_reverse(payment_ref="R2", merchant=other_merchant, now=now)
    withhold(member, merchant, "R4", dt.date(2026, 3, 10), now, gross=1_000_000)
    for row in Withholding.objects.order_by("id"):
        assert services.withholding_matches_recomputation(withholding=row), row.payment_ref
    tampered = Withholding.objects.get(payment_ref="R4")
    Withholding.objects.filter(pk=tampered.pk).update(iit_fen=tampered.iit_fen + 1, net_fen=tampered.net_fen - 1)
    tampered.refresh_from_db()
    assert not services.withholding_matches_recomputation(withholding=tampered)


def test_rule_sets_cover_2023_to_2027_without_overlap(db):
    from tax.models import TaxRuleSet

    sets = list(TaxRuleSet.objects.order_by("effective_from"))
    assert [s.code for s in sets] == ["CN-2023.1", "CN-2025.4", "CN-2026.1"]
    assert sets[0].effective_from == dt.date(2023, 1, 1) and sets[-1].effective_to == dt.date(2027, 12, 31)
    for earlier, later in zip(sets, sets[1:], strict=False):
        assert later.effective_from == earlier.effective_to + dt.timedelta(days=1)
    assert all(s.sources for s in sets)


@pytest.mark.parametrize(("on", "code"), [(dt.date(2023, 1, 1), "CN-2023.1"), (dt.date(2025, 9, 30), "CN-2023.1"),
                                          (dt.date(2025, 10, 1), "CN-2025.4"), (dt.date(2025, 12, 31), "CN-2025.4"),
                                          (dt.date(2026, 1, 1), "CN-2026.1"), (dt.date(2027, 12, 31), "CN-2026.1")])
def test_rule_set_selection_edges(db, on, code):
    from tax.selectors import rule_set_for

    assert rule_set_for(on=on).code == code


def test_no_rule_set_after_2027(db):
    from tax.exceptions import NoRuleSet
    from tax.selectors import rule_set_for

    with pytest.raises(NoRuleSet, match="规则集"):
        rule_set_for(on=dt.date(2028, 1, 1))


def test_per_payment_one_enterprise_one_month_is_one_occasion(member, merchant, other_merchant, now):
    """Before No. 16: payments from one enterprise within a month are one 次 — 3,000 + 3,000 is taxed as 6,000
    (6,000 × 0.8 × 20% = 960: 440 then 520); another enterprise's payment is its own 次."""
    first = withhold(member, merchant, "A", dt.date(2025, 8, 3), now, gross=300_000)
    second = withhold(member, merchant, "B", dt.date(2025, 8, 25), now, gross=300_000)
    other = withhold(member, other_merchant, "C", dt.date(2025, 8, 26), now, gross=300_000)
    next_month = withhold(member, merchant, "D", dt.date(2025, 9, 1), now, gross=300_000)
    assert (first.iit_fen, second.iit_fen, other.iit_fen, next_month.iit_fen) == (44000, 52000, 44000, 44000)
    assert second.lines[0]["inputs"]["occasion_income_fen"] == 600_000


def test_notice_above_five_million_in_twelve_months(member, merchant, now):
    for month in range(1, 11):
        withhold(member, merchant, f"BIG{month}", dt.date(2026, month, 5), now, gross=49_000_000)
    quote = services.tax_quote(member=member, merchant=merchant, gross_fen=20_000_000, bearer="WORKER",
                               liability_date=dt.date(2026, 11, 5), now=now)
    assert quote.notices and "500万元" in quote.notices[0]
    small = services.tax_quote(member=member, merchant=merchant, gross_fen=1_000_000, bearer="WORKER",
                               liability_date=dt.date(2026, 11, 5), now=now)
    assert small.notices == []


def test_withholding_get_is_tenant_scoped(member, merchant, other_merchant, now):
    from core.exceptions import NotFound
    from tax.selectors import merchant_withholdings, withholding_get

    row = withhold(member, merchant, "MINE", dt.date(2026, 3, 1), now, gross=1000)
    assert withholding_get(merchant=merchant, payment_ref="MINE").pk == row.pk
    with pytest.raises(NotFound):
        withholding_get(merchant=other_merchant, payment_ref="MINE")
    assert merchant_withholdings(merchant=other_merchant, year=2026) == []
