"""The tax engine's arithmetic: pure functions, no database, integer fen in and out, Decimal rates.

Everything here takes a rule set's ``parameters`` (the JSON stored on ``TaxRuleSet``) and the open-question settings
(``Options``), and returns ``Line``s that carry their own inputs, rate, quick deduction, formula and result, so any
figure can be explained and re-computed. Rounding is ROUND_HALF_UP to the fen, once per tax line, on the *cumulative*
figure (the month's VAT, the year's IIT); what this payment withholds is that figure minus what was already withheld,
so many small payments never drift from one big one.

Amounts in the parameters are fen; rates are decimal strings; bracket tables are ``[[upper_fen | null, rate, quick_fen]]``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from functools import cached_property

from django.utils.translation import gettext_noop

from core.money import format_yuan, round_fen

# Routes (计税路径)
LABOR_PER_PAYMENT = "LABOR_PER_PAYMENT"  # 劳务报酬按次预扣（预扣率表二）, before STA 2025 No. 16
LABOR_CUMULATIVE = "LABOR_CUMULATIVE"  # 劳务报酬累计预扣法（STA 2025 No. 16）
BUSINESS = "BUSINESS"  # 个体工商户经营所得：平台不预扣，本人开票、自行申报
# Labels stay Chinese here (tax documents and filings are Chinese); gettext_noop only puts them in the catalogue so
# that pages can show them with gettext() in the reader's language.
ROUTES = {LABOR_PER_PAYMENT: gettext_noop("劳务报酬（按次预扣）"), LABOR_CUMULATIVE: gettext_noop("劳务报酬（累计预扣法）"),
          BUSINESS: gettext_noop("经营所得（个体工商户自行申报）")}

# Line kinds, in the order they are shown
IIT = "IIT"
VAT = "VAT"
URBAN = "URBAN_MAINTENANCE"
EDUCATION = "EDUCATION"
LOCAL_EDUCATION = "LOCAL_EDUCATION"
SURCHARGE_KINDS = (URBAN, EDUCATION, LOCAL_EDUCATION)
LABELS = {IIT: gettext_noop("个人所得税"), VAT: gettext_noop("增值税"), URBAN: gettext_noop("城市维护建设税"),
          EDUCATION: gettext_noop("教育费附加"), LOCAL_EDUCATION: gettext_noop("地方教育附加")}

# Open questions of the rule book §8, as settings (defaults documented in docs/tax-engine.md)
GAP_RESET_COUNT = "RESET_COUNT"  # a gap month resets only the 5,000 × months count (literal reading)
GAP_RESTART_SEGMENT = "RESTART_SEGMENT"  # a gap restarts 累计收入 and 累计已预扣 too
BASE_GROSS = "GROSS"
BASE_VAT_EXCLUSIVE = "VAT_EXCLUSIVE"
LOCATIONS = {"URBAN": gettext_noop("市区"), "COUNTY": gettext_noop("县城、镇"), "OTHER": gettext_noop("其他地区")}


@dataclass(frozen=True)
class Options:
    gap_month_rule: str = GAP_RESET_COUNT
    iit_base_when_vat_due: str = BASE_VAT_EXCLUSIVE
    vat_threshold_base: str = BASE_VAT_EXCLUSIVE
    location: str = "URBAN"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Line:
    kind: str
    label: str
    amount_fen: int  # what this payment withholds (negative on a reversal)
    formula: str
    inputs: dict = field(default_factory=dict)
    rate: str | None = None
    quick_deduction_fen: int | None = None
    base_fen: int | None = None
    cumulative_fen: int | None = None  # the cumulative figure the line was derived from, if any
    rule_set: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class PriorState:
    """What the worker already has before this payment.

    ``month_*``: this calendar month, across every enterprise on the platform (VAT is the worker's month total).
    ``iit_income_by_month`` / ``iit_withheld_by_month``: this year, this operating entity, month → fen.
    """

    month_gross_fen: int = 0
    occasion_income_fen: int = 0  # per-payment route: this enterprise's IIT income this month (一次)
    occasion_withheld_fen: int = 0
    month_vat_fen: int = 0
    month_surcharges_fen: dict = field(default_factory=dict)
    iit_income_by_month: dict = field(default_factory=dict)
    iit_withheld_by_month: dict = field(default_factory=dict)


@dataclass
class Computation:
    rule_set: str
    route: str
    gross_fen: int
    iit_income_fen: int
    lines: list[Line]

    @property
    def tax_fen(self) -> int:
        return sum(self._amounts.values())

    @property
    def net_fen(self) -> int:
        return self.gross_fen - self.tax_fen

    def amount(self, kind: str) -> int:
        return self._amounts.get(kind, 0)

    @cached_property
    def _amounts(self) -> dict[str, int]:
        """Each kind's total, summed once (a computation's lines are not changed after it is made)."""
        totals: dict[str, int] = {}
        for line in self.lines:
            totals[line.kind] = totals.get(line.kind, 0) + line.amount_fen
        return totals


class EngineError(ValueError):
    """A rule set or input the engine cannot work with (a bug or bad data, not a user error)."""


# --- tables -------------------------------------------------------------------------------------------------


def bracket(table: list, amount: Decimal) -> tuple[Decimal, int]:
    """The (rate, quick deduction fen) of the bracket ``amount`` (fen, Decimal) falls in; upper bounds inclusive."""
    for upper, rate, quick in table:
        if upper is None or amount <= upper:
            return Decimal(rate), int(quick)
    raise EngineError("bracket table has no open top bracket")


def _y(fen: int | Decimal) -> str:
    if type(fen) is int:  # the common case, formatted here (every withholding writes ten of these per payment)
        whole, cents = divmod(abs(fen), 100)
        return f"{'-' if fen < 0 else ''}{whole}.{cents:02d}"
    if isinstance(fen, Decimal):
        value = fen / 100
        cents = value.quantize(Decimal("0.01"))
        return f"{cents:f}" if value == cents else f"{value.quantize(Decimal('0.0001')):f}"
    return format_yuan(fen)


# --- IIT -------------------------------------------------------------------------------------------------------


def iit_per_payment(income_fen: int, params: dict, *, rule_set: str = "", occasion_income_fen: int = 0,
                    occasion_withheld_fen: int = 0) -> Line:
    """劳务报酬按次预扣（预扣率表二）: 收入额 = 收入 − 800 (收入 ≤ 4,000) or 收入 × 80%; × 20/30/40% − 速算扣除数.

    一次 (one occasion): with the rule set's ``occasion`` = "merchant_month", payments from one enterprise in one month
    are one 次 (个人所得税法实施条例 第十四条: 属于同一项目连续性收入的，以一个月内取得的收入为一次); the payment
    withholds the tax on the occasion's total so far minus what the occasion already withheld.
    """
    p = params["iit"]["labor_per_payment"]
    cutoff, fixed, ratio = int(p["low_income_cutoff_fen"]), int(p["fixed_expense_fen"]), Decimal(p["expense_ratio"])
    total = occasion_income_fen + income_fen
    inputs = {"income_fen": income_fen, "occasion_income_fen": total, "occasion_withheld_fen": occasion_withheld_fen,
              "occasion": p.get("occasion", "payment")}
    if total <= 0:
        return Line(IIT, LABELS[IIT], 0, "本次收入为 0", inputs, rule_set=rule_set)
    if total <= cutoff:
        taxable = Decimal(max(0, total - fixed))
        expense_text = f"收入 {_y(total)} − 800"
    else:
        taxable = Decimal(total) * (1 - ratio)
        expense_text = f"收入 {_y(total)} × (1 − {ratio})"
    rate, quick = bracket(p["table"], taxable)
    occasion_tax = max(0, round_fen(taxable * rate - quick))
    tax = max(0, occasion_tax - occasion_withheld_fen)
    scope = "（同一企业本月合计为一次）" if occasion_income_fen else ""
    formula = f"应纳税所得额 = {expense_text}{scope} = {_y(taxable)}；税额 = {_y(taxable)} × {rate} − {_y(quick)} = {_y(occasion_tax)}"
    if occasion_withheld_fen:
        formula += f"；本次 = {_y(occasion_tax)} − 已预扣 {_y(occasion_withheld_fen)} = {_y(tax)}"
    inputs["taxable_fen"] = str(taxable)
    return Line(IIT, LABELS[IIT], tax, formula, inputs, rate=str(rate), quick_deduction_fen=quick,
                base_fen=round_fen(taxable), cumulative_fen=occasion_tax, rule_set=rule_set)


def consecutive_months(months_with_income: set[int], month: int) -> list[int]:
    """The run of months with income ending at ``month`` (which is included), earliest first."""
    run = []
    current = month
    while current >= 1 and (current in months_with_income or current == month):
        run.append(current)
        current -= 1
    return sorted(run)


def iit_cumulative(income_fen: int, month: int, prior: PriorState, params: dict, options: Options, *,
                   rule_set: str = "", explain: bool = True) -> Line:
    """STA 2025 No. 16 累计预扣法 for one payment in ``month`` (1–12).

    本期应预扣预缴税额 = (累计收入 − 累计收入×20% − 5,000×连续月份数) × 预扣率 − 速算扣除数 − 累计已预扣预缴税额,
    with 预扣率表一; a negative result withholds nothing (no refund before the annual reconciliation).
    """
    p = params["iit"]["platform_cumulative"]
    ratio, monthly_deduction = Decimal(p["expense_ratio"]), int(p["monthly_deduction_fen"])
    income_by_month = {int(k): int(v) for k, v in prior.iit_income_by_month.items() if int(k) <= month}
    withheld_by_month = {int(k): int(v) for k, v in prior.iit_withheld_by_month.items() if int(k) <= month}
    with_income = {m for m, v in income_by_month.items() if v > 0}
    run = consecutive_months(with_income, month)
    counted = set(run) if options.gap_month_rule == GAP_RESTART_SEGMENT else set(range(1, month + 1))
    cum_income = sum(v for m, v in income_by_month.items() if m in counted) + income_fen
    cum_withheld = sum(v for m, v in withheld_by_month.items() if m in counted)
    months = len(run)
    deduction = monthly_deduction * months
    taxable = Decimal(cum_income) * (1 - ratio) - deduction
    if taxable <= 0:
        cumulative_tax, rate, quick = 0, Decimal(0), 0
        rate, quick = bracket(params["iit"]["comprehensive_table"], Decimal(0))
    else:
        rate, quick = bracket(params["iit"]["comprehensive_table"], taxable)
        cumulative_tax = round_fen(taxable * rate - quick)
    tax = max(0, cumulative_tax - cum_withheld)
    segment = "（连续期间重新起算）" if options.gap_month_rule == GAP_RESTART_SEGMENT and run[0] > 1 else ""
    formula = "" if not (explain or tax) else (f"累计收入 {_y(cum_income)}{segment} × (1 − {ratio}) − 5000 × {months} 个月 = {_y(max(taxable, Decimal(0)))}；"
               f"累计应预扣 = {_y(max(taxable, Decimal(0)))} × {rate} − {_y(quick)} = {_y(cumulative_tax)}；"
               f"本次 = {_y(cumulative_tax)} − 已预扣 {_y(cum_withheld)} = {_y(tax)}")
    return Line(IIT, LABELS[IIT], tax, formula,
                {"income_fen": income_fen, "month": month, "cumulative_income_fen": cum_income,
                 "consecutive_months": months, "months_counted": sorted(counted & (with_income | {month})),
                 "deduction_fen": deduction, "taxable_fen": str(taxable), "cumulative_withheld_fen": cum_withheld},
                rate=str(rate), quick_deduction_fen=quick, base_fen=max(0, round_fen(taxable)),
                cumulative_fen=cumulative_tax, rule_set=rule_set)


def business_income_tax(taxable_fen: int, params: dict, *, on: dt.date, other_relief_fen: int = 0) -> dict:
    """经营所得 (5 brackets) with the 个体工商户 halving of the part ≤ 2,000,000 (MOF/STA 2023 No. 12).

    减免税额 = (不超过200万元部分的应纳税额 − 其他减免 × 不超过200万元部分 ÷ 应纳税所得额) × 50%. Informational: the
    platform withholds nothing on this route; the worker files it.
    """
    p = params["iit"]["business"]
    taxable = Decimal(max(0, taxable_fen))
    rate, quick = bracket(p["table"], taxable)
    tax = round_fen(taxable * rate - quick) if taxable else 0
    relief = 0
    halving = p.get("halving")
    if halving and taxable and on <= dt.date.fromisoformat(halving["until"]):
        cap = Decimal(halving["cap_fen"])
        capped = min(taxable, cap)
        capped_rate, capped_quick = bracket(p["table"], capped)
        capped_tax = capped * capped_rate - capped_quick
        relief = round_fen((capped_tax - Decimal(other_relief_fen) * capped / taxable) * Decimal(halving["factor"]))
    return {"taxable_fen": int(taxable), "rate": str(rate), "quick_deduction_fen": quick, "tax_fen": tax,
            "relief_fen": relief, "payable_fen": max(0, tax - other_relief_fen - relief)}


# --- VAT and surcharges --------------------------------------------------------------------------------------


def vat_exempt(month_gross_fen: int, params: dict, options: Options) -> bool:
    """Is the worker's month total under the 起征点/免税 line? "le": ≤ is exempt (2023–2025); "lt": only < (VAT Law)."""
    v = params["vat"]
    threshold = Decimal(v["threshold_monthly_fen"])
    rate = Decimal(v["levy_rate"])
    # sales = gross ÷ (1 + rate), compared exactly as gross vs threshold × (1 + rate)
    limit = threshold * (1 + rate) if options.vat_threshold_base == BASE_VAT_EXCLUSIVE else threshold
    gross = Decimal(month_gross_fen)
    if v["threshold_comparator"] == "le":
        return gross <= limit
    if v["threshold_comparator"] == "lt":
        return gross < limit
    raise EngineError(f"unknown threshold comparator {v['threshold_comparator']!r}")


def vat_month(gross_fen: int, prior: PriorState, params: dict, options: Options, *, rule_set: str = "",
              explain: bool = True) -> Line:
    """VAT on the worker's month total across the platform; this payment carries the month's VAT − VAT already withheld."""
    v = params["vat"]
    rate = Decimal(v["levy_rate"])
    total = prior.month_gross_fen + gross_fen
    inputs = {"gross_fen": gross_fen, "month_gross_fen": total, "month_vat_withheld_fen": prior.month_vat_fen,
              "threshold_fen": int(v["threshold_monthly_fen"]), "comparator": v["threshold_comparator"],
              "threshold_base": options.vat_threshold_base}
    exempt = vat_exempt(total, params, options)
    if exempt and not explain and prior.month_vat_fen >= 0:  # nothing withheld: the explanation is not asked for
        return Line(VAT, LABELS[VAT], 0, "", inputs, rate=str(rate), base_fen=total, cumulative_fen=0,
                    rule_set=rule_set)
    threshold = _y(int(v["threshold_monthly_fen"]))
    if v["threshold_comparator"] == "le":
        under, over, threshold_text = "不超过", "超过", f"免税标准 {threshold}（含本数）"
    else:
        under, over, threshold_text = "未达到", "达到", f"起征点 {threshold}"
    base_text = "含税 ÷ (1 + 征收率)" if options.vat_threshold_base == BASE_VAT_EXCLUSIVE else "含税金额"
    if exempt:
        tax = max(0, 0 - prior.month_vat_fen)
        return Line(VAT, LABELS[VAT], tax, f"本月合计 {_y(total)}（按{base_text}比较）{under}{threshold_text}，免征",
                    inputs, rate=str(rate), base_fen=total, cumulative_fen=0, rule_set=rule_set)
    sales = Decimal(total) / (1 + rate)
    month_vat = round_fen(Decimal(total) * rate / (1 + rate))
    tax = max(0, month_vat - prior.month_vat_fen)
    return Line(VAT, LABELS[VAT], tax,
                f"本月合计 {_y(total)} {over}{threshold_text}，全额计税：销售额 {_y(sales)} × {rate} = {_y(month_vat)}；"
                f"本次 = {_y(month_vat)} − 本月已代征 {_y(prior.month_vat_fen)} = {_y(tax)}",
                inputs, rate=str(rate), base_fen=round_fen(sales), cumulative_fen=month_vat, rule_set=rule_set)


def surcharges(month_vat_fen: int, prior: PriorState, params: dict, options: Options, *, rule_set: str = "") -> list[Line]:
    """城建税 (by location), 教育费附加, 地方教育附加 on the month's VAT, halved under 六税两费 while it applies."""
    s = params["surcharges"]
    factor = Decimal(s.get("relief_factor", "1"))
    rates = {URBAN: Decimal(s["urban_maintenance"][options.location]), EDUCATION: Decimal(s["education"]),
             LOCAL_EDUCATION: Decimal(s["local_education"])}
    lines = []
    for kind, rate in rates.items():
        month_total = round_fen(Decimal(month_vat_fen) * rate * factor)
        already = int(prior.month_surcharges_fen.get(kind, 0))
        tax = max(0, month_total - already)
        relief = f" × 减半 {factor}" if factor != 1 else ""
        location = f"（{LOCATIONS[options.location]}）" if kind == URBAN else ""
        lines.append(Line(kind, LABELS[kind], tax,
                          f"本月增值税 {_y(month_vat_fen)} × {rate}{location}{relief} = {_y(month_total)}；"
                          f"本次 = {_y(month_total)} − 已代征 {_y(already)} = {_y(tax)}",
                          {"month_vat_fen": month_vat_fen, "location": options.location, "relief_factor": str(factor)},
                          rate=str(rate * factor), base_fen=month_vat_fen, cumulative_fen=month_total,
                          rule_set=rule_set))
    return lines


# --- one payment ----------------------------------------------------------------------------------------------


def compute(*, params: dict, rule_set: str, route: str, gross_fen: int, liability_date: dt.date, prior: PriorState,
            options: Options, explain: bool = True) -> Computation:
    """All the lines for one payment of ``gross_fen`` (税前收入, what the enterprise pays in total).

    ``explain=False`` leaves the formula empty on the IIT and VAT lines that withhold nothing (a quote of 100,000
    lines shows only the lines that withhold something; the withholding itself always keeps every formula)."""
    if gross_fen <= 0:
        raise EngineError("gross must be positive")
    if route == BUSINESS:
        note = Line(IIT, LABELS[IIT], 0, "个体工商户经营所得：平台不预扣个人所得税，由本人开具发票并自行申报（经营所得）",
                    {"gross_fen": gross_fen}, rate="0", rule_set=rule_set)
        vat_note = Line(VAT, LABELS[VAT], 0, "个体工商户自行开票、自行申报增值税及附加税费，平台不代办",
                        {"gross_fen": gross_fen}, rate="0", rule_set=rule_set)
        return Computation(rule_set, route, gross_fen, gross_fen, [note, vat_note])
    vat_line = vat_month(gross_fen, prior, params, options, rule_set=rule_set, explain=explain)
    month_vat = prior.month_vat_fen + vat_line.amount_fen
    surcharge_lines = surcharges(month_vat, prior, params, options, rule_set=rule_set) if month_vat else []
    iit_income = gross_fen
    if options.iit_base_when_vat_due == BASE_VAT_EXCLUSIVE and vat_line.amount_fen:
        iit_income = gross_fen - vat_line.amount_fen
    if route == LABOR_PER_PAYMENT:
        merged = params["iit"]["labor_per_payment"].get("occasion") == "merchant_month"
        iit_line = iit_per_payment(iit_income, params, rule_set=rule_set,
                                   occasion_income_fen=prior.occasion_income_fen if merged else 0,
                                   occasion_withheld_fen=prior.occasion_withheld_fen if merged else 0)
    elif route == LABOR_CUMULATIVE:
        iit_line = iit_cumulative(iit_income, liability_date.month, prior, params, options, rule_set=rule_set,
                                  explain=explain)
    else:
        raise EngineError(f"unknown route {route!r}")
    iit_line.inputs["iit_base"] = options.iit_base_when_vat_due if vat_line.amount_fen else BASE_GROSS
    return Computation(rule_set, route, gross_fen, iit_income, [iit_line, vat_line, *surcharge_lines])


def solve_gross(net_fen: int, compute_for_gross, *, max_steps: int = 500) -> Computation:
    """The smallest gross whose net is exactly ``net_fen`` (gross-up, 企业承担税费).

    Taxes never fall when gross rises within a regime, so net rises by at most one fen per fen of gross: stepping
    gross up by the remaining shortfall can never jump over a solution, and a solution always exists (net can
    drop at the VAT 起征点 but then climbs again through every value).
    """
    if net_fen <= 0:
        raise EngineError("net must be positive")
    gross = net_fen
    for _ in range(max_steps):
        computation = compute_for_gross(gross)
        shortfall = net_fen - computation.net_fen
        if shortfall == 0:
            return computation
        if shortfall < 0:  # pragma: no cover - impossible by the argument above; kept as a guard
            raise EngineError("gross-up overshot")
        gross += shortfall
    raise EngineError("gross-up did not converge")  # pragma: no cover
