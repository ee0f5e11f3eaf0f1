"""The engine's arithmetic, table-driven: the rule book's §5 vectors and cases derived from the rules.

Rule sets come from the data migration (the ``params`` fixture), so these tests also check the loaded data.
"""

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tax import engine
from tax.engine import Options, PriorState

D26 = dt.date(2026, 3, 15)
D25 = dt.date(2025, 11, 15)
D24 = dt.date(2024, 6, 15)


def yuan(text: str) -> int:
    return int(Decimal(text) * 100)


# --- 劳务报酬 per payment (预扣率表二) ------------------------------------------------------------------------

PER_PAYMENT = [
    # (income, expected tax) — rule book §5: 1,000 / 3,000 / 4,000 → 40 / 440 / 640
    ("800.00", "0.00"),
    ("800.01", "0.00"),  # 0.01 × 20% = 0.002 → 0.00
    ("800.03", "0.01"),  # 0.006 → 0.01 (half-up)
    ("1000.00", "40.00"),
    ("3000.00", "440.00"),
    ("4000.00", "640.00"),  # exactly 4,000 still uses the 800 deduction
    ("4000.01", "640.00"),  # 3200.008 × 20% = 640.0016
    ("4100.00", "656.00"),  # 4100 × 0.8 = 3280 × 20%
    ("25000.00", "4000.00"),  # 收入额 exactly 20,000: still 20%
    ("25000.01", "4000.00"),  # 20,000.008 × 30% − 2,000 = 4,000.0024
    ("30000.00", "5200.00"),  # 24,000 × 30% − 2,000
    ("62500.00", "13000.00"),  # 收入额 50,000 × 30% − 2,000
    ("62500.01", "13000.00"),  # 50,000.008 × 40% − 7,000 = 13,000.0032
    ("100000.00", "25000.00"),  # 80,000 × 40% − 7,000
]


@pytest.mark.parametrize(("income", "expected"), PER_PAYMENT)
def test_labor_per_payment(params, income, expected):
    line = engine.iit_per_payment(yuan(income), params["CN-2023.1"], rule_set="CN-2023.1")
    assert line.amount_fen == yuan(expected)
    assert line.rule_set == "CN-2023.1"
    assert line.inputs["income_fen"] == yuan(income)


def test_per_payment_line_explains_itself(params):
    line = engine.iit_per_payment(300000, params["CN-2023.1"])
    assert line.rate == "0.20" and line.quick_deduction_fen == 0
    assert "3000.00 − 800" in line.formula and "440.00" in line.formula


# --- No. 16 cumulative (预扣率表一) -------------------------------------------------------------------------


def run_months(params, monthly: list[tuple[int, int]], options=None) -> list[int]:
    """Withhold month by month: [(month, income_fen)] → tax per payment, feeding the state forward."""
    prior = PriorState()
    options = options or Options()
    taxes = []
    for month, income in monthly:
        line = engine.iit_cumulative(income, month, prior, params, options)
        taxes.append(line.amount_fen)
        prior.iit_income_by_month[month] = prior.iit_income_by_month.get(month, 0) + income
        prior.iit_withheld_by_month[month] = prior.iit_withheld_by_month.get(month, 0) + line.amount_fen
    return taxes


CUMULATIVE = [
    # rule book §5
    ("6,250 × 3 → 0", [(1, 625000), (2, 625000), (3, 625000)], [0, 0, 0]),
    ("10,000 × 3 → 90 each", [(1, 1000000), (2, 1000000), (3, 1000000)], [9000, 9000, 9000]),
    ("7,140 × 5 → 21.36 each", [(m, 714000) for m in range(1, 6)], [2136] * 5),
    # derived: 6,250.01 just above the zero line; 0.008 × 3% rounds to 0.00
    ("6,250.01", [(1, 625001)], [0]),
    ("6,250.42 → 0.01", [(1, 625042)], [1]),
    # cumulative taxable exactly 36,000 (3%) then one fen over into 10%
    ("taxable at the 36,000 edge", [(1, 5125000)], [108000]),  # 51,250×0.8−5,000 = 36,000 × 3%
    ("one yuan over 36,000", [(1, 5125125)], [108010]),  # 36,001 × 10% − 2,520 = 1,080.10
    # a month with two payments: the second tops up to the cumulative figure
    ("two payments in one month", [(1, 500000), (1, 500000)], [0, 9000]),
    # 144,000 edge: 185,000 × 0.8 − 5,000 = 143,000 → 10%; then 2 months
    ("into 20% in month 2", [(1, 18500000), (2, 10000000)], [1178000, 1490000]),
    # a big payment then small ones: nothing more until cumulative tax exceeds what was withheld
    ("front-loaded", [(1, 2000000), (2, 100000), (3, 100000)], [33000, 0, 0]),
]


@pytest.mark.parametrize(("case", "monthly", "expected"), CUMULATIVE, ids=[c[0] for c in CUMULATIVE])
def test_cumulative(params, case, monthly, expected):
    assert run_months(params["CN-2026.1"], monthly) == expected


def test_7140_example_total_and_old_method(params):
    """The 解读 example: 5 months of 7,140 — 106.80 under No. 16, 5,712.00 under the old per-payment method."""
    assert sum(run_months(params["CN-2026.1"], [(m, 714000) for m in range(1, 6)])) == 10680
    old = sum(engine.iit_per_payment(714000, params["CN-2023.1"]).amount_fen for _ in range(5))
    assert old == 571200


def test_cumulative_line_keeps_inputs(params):
    prior = PriorState(iit_income_by_month={1: 1000000}, iit_withheld_by_month={1: 9000})
    line = engine.iit_cumulative(1000000, 2, prior, params["CN-2026.1"], Options())
    assert line.inputs["cumulative_income_fen"] == 2000000
    assert line.inputs["consecutive_months"] == 2
    assert line.inputs["deduction_fen"] == 1000000
    assert line.inputs["cumulative_withheld_fen"] == 9000
    assert line.rate == "0.03" and line.quick_deduction_fen == 0 and line.cumulative_fen == 18000
    assert line.amount_fen == 9000


GAPS = [
    # Jan 10,000; Feb nothing; Mar 10,000.
    # RESET_COUNT: Mar cumulative 20,000 × 0.8 − 5,000 × 1 = 11,000 × 3% = 330 − 90 = 240
    # RESTART_SEGMENT: Mar alone: 8,000 − 5,000 = 3,000 × 3% = 90
    (engine.GAP_RESET_COUNT, [(1, 1000000), (3, 1000000)], [9000, 24000]),
    (engine.GAP_RESTART_SEGMENT, [(1, 1000000), (3, 1000000)], [9000, 9000]),
    # Jan, Feb, gap, Apr, May at 10,000: RESET_COUNT — Apr: 30,000×0.8 − 5,000 = 19,000 × 3% = 570 − 180 = 390;
    # May: 40,000×0.8 − 10,000 = 22,000 → 660 − 570 = 90
    (engine.GAP_RESET_COUNT, [(1, 1000000), (2, 1000000), (4, 1000000), (5, 1000000)], [9000, 9000, 39000, 9000]),
    (engine.GAP_RESTART_SEGMENT, [(1, 1000000), (2, 1000000), (4, 1000000), (5, 1000000)], [9000, 9000, 9000, 9000]),
]


@pytest.mark.parametrize(("rule", "monthly", "expected"), GAPS)
def test_gap_months(params, rule, monthly, expected):
    assert run_months(params["CN-2026.1"], monthly, Options(gap_month_rule=rule)) == expected


def test_gap_month_reset_count_can_withhold_where_each_month_alone_would_not(params):
    """Jan 3,000 and Mar 6,000: under RESET_COUNT March sees 9,000 × 0.8 − 5,000 × 1 = 2,200 → 66.00;
    under RESTART_SEGMENT March alone is 4,800 − 5,000 < 0 → 0."""
    monthly = [(1, 300000), (3, 600000)]
    assert run_months(params["CN-2026.1"], monthly, Options(gap_month_rule=engine.GAP_RESET_COUNT)) == [0, 6600]
    assert run_months(params["CN-2026.1"], monthly, Options(gap_month_rule=engine.GAP_RESTART_SEGMENT)) == [0, 0]


def test_consecutive_months():
    assert engine.consecutive_months({1, 2, 3}, 3) == [1, 2, 3]
    assert engine.consecutive_months({1, 3}, 3) == [3]
    assert engine.consecutive_months({1, 2}, 4) == [4]
    assert engine.consecutive_months(set(), 1) == [1]


def year_formula(p, cumulative_income: int, months: int) -> int:
    """The No. 16 formula applied once: (累计收入 × 80% − 5,000 × 月份数) × 预扣率 − 速算扣除数, at least 0."""
    taxable = Decimal(cumulative_income) * Decimal("0.8") - 500000 * months
    if taxable <= 0:
        return 0
    rate, quick = engine.bracket(p["iit"]["comprehensive_table"], taxable)
    return int((taxable * rate - quick).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=625000, max_value=8_000_000), min_size=12, max_size=12))
def test_property_year_withholding_equals_formula_on_year_total(params, monthly_incomes):
    """Paid every month at least 6,250 (so the cumulative figure never falls): what No. 16 withholds over the year
    equals the formula applied once to the year's total income with 12 months of deduction."""
    p = params["CN-2026.1"]
    taxes = run_months(p, list(enumerate(monthly_incomes, start=1)))
    assert sum(taxes) == year_formula(p, sum(monthly_incomes), 12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=8_000_000), min_size=1, max_size=12))
def test_property_year_withholding_is_the_highest_cumulative_figure(params, monthly_incomes):
    """Any incomes, paid every month: withholding is never negative and, because nothing is refunded mid-year, the
    total withheld is the highest cumulative figure reached in any month (the last one when it never fell)."""
    p = params["CN-2026.1"]
    taxes = run_months(p, list(enumerate(monthly_incomes, start=1)))
    assert all(tax >= 0 for tax in taxes)
    figures = [year_formula(p, sum(monthly_incomes[:k]), k) for k in range(1, len(monthly_incomes) + 1)]
    assert sum(taxes) == max(figures)


# --- VAT and surcharges ---------------------------------------------------------------------------------------

VAT_CASES = [
    # (rule set, month gross, options base, expected month VAT)
    ("CN-2025.4", "101000.00", engine.BASE_VAT_EXCLUSIVE, "0.00"),  # sales exactly 100,000: "≤" → exempt
    ("CN-2026.1", "101000.00", engine.BASE_VAT_EXCLUSIVE, "1000.00"),  # "reaches" the 起征点 → whole amount
    ("CN-2026.1", "100999.99", engine.BASE_VAT_EXCLUSIVE, "0.00"),
    ("CN-2025.4", "101000.01", engine.BASE_VAT_EXCLUSIVE, "1000.00"),  # 1010.0001/1.01 → 1,000.00
    ("CN-2023.1", "101000.00", engine.BASE_VAT_EXCLUSIVE, "0.00"),
    ("CN-2026.1", "100000.00", engine.BASE_GROSS, "990.10"),  # gross compared: reaches; 100,000/1.01 × 1%
    ("CN-2025.4", "100000.00", engine.BASE_GROSS, "0.00"),
    ("CN-2025.4", "100000.01", engine.BASE_GROSS, "990.10"),
    ("CN-2026.1", "120000.00", engine.BASE_VAT_EXCLUSIVE, "1188.12"),  # 120,000/1.01 × 1% = 1,188.1188
    ("CN-2026.1", "50000.00", engine.BASE_VAT_EXCLUSIVE, "0.00"),
]


@pytest.mark.parametrize(("code", "gross", "base", "expected"), VAT_CASES)
def test_vat_month(params, code, gross, base, expected):
    line = engine.vat_month(yuan(gross), PriorState(), params[code], Options(vat_threshold_base=base))
    assert line.amount_fen == yuan(expected)


def test_vat_crossing_the_threshold_taxes_the_whole_month(params):
    """60,000 then 50,000 in one month (2026): the second payment carries the VAT of the whole 110,000."""
    p = params["CN-2026.1"]
    first = engine.vat_month(6000000, PriorState(), p, Options())
    assert first.amount_fen == 0
    second = engine.vat_month(5000000, PriorState(month_gross_fen=6000000), p, Options())
    assert second.amount_fen == 108911  # 110,000 / 1.01 × 1% = 1,089.1089
    third = engine.vat_month(1000000, PriorState(month_gross_fen=11000000, month_vat_fen=108911), p, Options())
    assert third.amount_fen == 118812 - 108911  # month 120,000 → 1,188.12 in all


SURCHARGES = [
    # rule book §5: VAT 1,188.12, 市区, halved → 41.58 + 17.82 + 11.88 = 71.28
    ("URBAN", 118812, (4158, 1782, 1188)),
    ("COUNTY", 118812, (2970, 1782, 1188)),  # 1,188.12 × 2.5% = 29.703
    ("OTHER", 118812, (594, 1782, 1188)),  # × 0.5% = 5.9406
    ("URBAN", 100000, (3500, 1500, 1000)),
]


@pytest.mark.parametrize(("location", "vat", "expected"), SURCHARGES)
def test_surcharges(params, location, vat, expected):
    lines = engine.surcharges(vat, PriorState(), params["CN-2026.1"], Options(location=location))
    assert tuple(line.amount_fen for line in lines) == expected
    assert [line.kind for line in lines] == [engine.URBAN, engine.EDUCATION, engine.LOCAL_EDUCATION]


# --- 经营所得 ----------------------------------------------------------------------------------------------------


def test_business_income_halving_examples(params):
    p = params["CN-2026.1"]
    result = engine.business_income_tax(8000000, p, on=D26)
    assert result["tax_fen"] == 650000 and result["relief_fen"] == 325000 and result["payable_fen"] == 325000
    big = engine.business_income_tax(240000000, p, on=D26, other_relief_fen=600000)
    assert big["relief_fen"] == 31475000  # [(2,000,000 × 35% − 65,500) − 6,000 × 2,000,000 ÷ 2,400,000] × 50%
    assert big["payable_fen"] == 77450000 - 600000 - 31475000
    after = engine.business_income_tax(8000000, p, on=dt.date(2028, 1, 1))
    assert after["relief_fen"] == 0


def test_business_brackets(params):
    p = params["CN-2026.1"]
    assert engine.business_income_tax(3000000, p, on=D26)["tax_fen"] == 150000  # 30,000 × 5%
    assert engine.business_income_tax(9000000, p, on=D26)["tax_fen"] == 750000  # 90,000 × 10% − 1,500
    assert engine.business_income_tax(50000000, p, on=D26)["tax_fen"] == 10950000  # 500,000 × 30% − 40,500


# --- whole payments and gross-up ------------------------------------------------------------------------------


def compute(params, code, gross, route=engine.LABOR_CUMULATIVE, prior=None, options=None, on=D26):
    return engine.compute(params=params[code], rule_set=code, route=route, gross_fen=gross, liability_date=on,
                          prior=prior or PriorState(), options=options or Options())


def test_compute_adds_up(params):
    c = compute(params, "CN-2026.1", 12000000)
    assert c.amount(engine.VAT) == 118812
    assert c.iit_income_fen == 12000000 - 118812  # default: IIT on the VAT-exclusive amount
    assert c.net_fen + c.tax_fen == c.gross_fen
    gross_base = compute(params, "CN-2026.1", 12000000, options=Options(iit_base_when_vat_due=engine.BASE_GROSS))
    assert gross_base.iit_income_fen == 12000000
    assert gross_base.amount(engine.IIT) > c.amount(engine.IIT)


def test_business_route_withholds_nothing(params):
    c = compute(params, "CN-2026.1", 12000000, route=engine.BUSINESS)
    assert c.tax_fen == 0 and c.net_fen == 12000000
    assert "自行申报" in c.lines[0].formula


GROSS_UP = [
    ("CN-2026.1", engine.LABOR_CUMULATIVE, 1000000),
    ("CN-2026.1", engine.LABOR_CUMULATIVE, 500000),  # below the zero line: gross = net
    ("CN-2026.1", engine.LABOR_CUMULATIVE, 9900000),  # near the VAT 起征点
    ("CN-2026.1", engine.LABOR_CUMULATIVE, 10000000),
    ("CN-2026.1", engine.LABOR_CUMULATIVE, 123456789),
    ("CN-2023.1", engine.LABOR_PER_PAYMENT, 320000),  # around the 4,000 edge once grossed up
    ("CN-2023.1", engine.LABOR_PER_PAYMENT, 333333),
    ("CN-2023.1", engine.LABOR_PER_PAYMENT, 5000000),
]


@pytest.mark.parametrize(("code", "route", "net"), GROSS_UP)
def test_gross_up_nets_exactly(params, code, route, net):
    on = D24 if code == "CN-2023.1" else D26

    def for_gross(gross):
        return compute(params, code, gross, route=route, on=on)

    c = engine.solve_gross(net, for_gross)
    assert c.net_fen == net
    assert c.gross_fen >= net
    # minimal: one fen less nets less
    if c.gross_fen > net:
        assert for_gross(c.gross_fen - 1).net_fen < net


def test_gross_up_per_payment_known_value(params):
    """Net 3,360 under 表二: gross G with G − (G − 800) × 20% = 3,360 → G = 4,000 (the 4,000 edge itself)."""
    c = engine.solve_gross(336000, lambda g: compute(params, "CN-2023.1", g, route=engine.LABOR_PER_PAYMENT, on=D24))
    assert c.gross_fen == 400000 and c.amount(engine.IIT) == 64000


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=1, max_value=50_000_000), st.integers(min_value=0, max_value=15_000_000))
def test_property_gross_up_exact(params, net, month_before):
    prior = PriorState(month_gross_fen=month_before, iit_income_by_month={2: month_before},
                       iit_withheld_by_month={2: 0})
    c = engine.solve_gross(net, lambda g: compute(params, "CN-2026.1", g, prior=prior))
    assert c.net_fen == net


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.integers(min_value=1, max_value=4_000_000), min_size=1, max_size=8),
       st.sampled_from(["CN-2025.4", "CN-2026.1"]), st.sampled_from(["URBAN", "COUNTY", "OTHER"]))
def test_property_split_payments_in_a_month_equal_one_payment(params, parts, code, location):
    """Many payments in one month withhold exactly what one payment of the total would: IIT, VAT and each surcharge
    (rounding is applied to the cumulative figure only, so nothing drifts)."""
    options = Options(location=location)
    on = dt.date(2026 if code == "CN-2026.1" else 2025, 11, 20)
    prior = PriorState()
    totals: dict[str, int] = {}
    for gross in parts:
        c = compute(params, code, gross, prior=prior, options=options, on=on)
        for line in c.lines:
            totals[line.kind] = totals.get(line.kind, 0) + line.amount_fen
        prior.month_gross_fen += gross
        prior.month_vat_fen += c.amount(engine.VAT)
        for kind in engine.SURCHARGE_KINDS:
            prior.month_surcharges_fen[kind] = prior.month_surcharges_fen.get(kind, 0) + c.amount(kind)
        prior.iit_income_by_month[11] = prior.iit_income_by_month.get(11, 0) + c.iit_income_fen
        prior.iit_withheld_by_month[11] = prior.iit_withheld_by_month.get(11, 0) + c.amount(engine.IIT)
    single = compute(params, code, sum(parts), options=options, on=on)
    assert totals == {line.kind: line.amount_fen for line in single.lines} | {
        kind: 0 for kind in totals if kind not in {line.kind for line in single.lines}}


MORE_CUMULATIVE = [
    # high brackets: one month of 1,300,000 → 1,040,000 − 5,000 = 1,035,000 × 45% − 181,920 = 283,830
    ("45% bracket", [(1, 130000000)], [28383000]),
    # exactly 960,000 taxable → 35%: 965,000/0.8 = 1,206,250 → 960,000 × 35% − 85,920 = 250,080
    ("960,000 edge", [(1, 120625000)], [25008000]),
    # December after a full year at 10,000: still 90 (12 months of deduction)
    ("December", [(m, 1000000) for m in range(1, 13)], [9000] * 12),
    # starting mid-year: only the months with income count
    ("from July", [(m, 1000000) for m in range(7, 13)], [9000] * 6),
]


@pytest.mark.parametrize(("case", "monthly", "expected"), MORE_CUMULATIVE, ids=[c[0] for c in MORE_CUMULATIVE])
def test_cumulative_more(params, case, monthly, expected):
    assert run_months(params["CN-2026.1"], monthly) == expected


def test_per_payment_route_with_vat_uses_the_vat_exclusive_income(params):
    """CN-2023.1: 120,000 in one payment: VAT 1,188.12; IIT on 118,811.88 × 0.8 = 95,049.504 × 40% − 7,000."""
    c = compute(params, "CN-2023.1", 12000000, route=engine.LABOR_PER_PAYMENT, on=D24)
    assert c.amount(engine.VAT) == 118812
    assert c.iit_income_fen == 11881188
    assert c.amount(engine.IIT) == 3101980  # 95,049.504 × 0.4 − 7,000 = 31,019.8016
    assert c.net_fen == 12000000 - 118812 - 7128 - 3101980
