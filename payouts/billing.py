"""计费: the enterprise's fee plan applied to a payment, with every figure explained.

Pure functions, no database: the caller passes the plan (a ``MerchantConfiguration`` or anything with the same
attributes) and the enterprise's volume already paid this month; the result says how the fee was reached.

Rules (documented for enterprises in docs/guide-enterprise.md):
- the fee base is the amount the worker is paid (gross, before the worker's taxes);
- the rate is the plan's ``fee_rate``, or, when ``fee_tiers`` are set, the rate of the highest tier whose ``from_fen``
  is not above the month's volume paid *before* this payment (so a quote does not change while it is being read);
- fee = base × rate, rounded half-up to the fen once, plus the fixed fee per order; then raised to the minimum;
- the bearer decides who pays it: MERCHANT → charged on top of the payment; WORKER → deducted from what the worker receives;
- the timing decides when it is charged: BEFORE (frozen with the payment at confirmation), DURING (at disbursement),
  AFTER (accrued and billed on the monthly fee statement).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.utils.translation import gettext as _

from core import money
from core.exceptions import ValidationFailed


@dataclass(frozen=True)
class FeeLine:
    base_fen: int
    rate: Decimal
    tier_from_fen: int | None
    proportional_fen: int
    fixed_fen: int
    minimum_fen: int
    fee_fen: int
    bearer: str
    timing: str
    explanation: str

    @property
    def minimum_applied(self) -> bool:
        return self.fee_fen == self.minimum_fen and self.proportional_fen + self.fixed_fen < self.minimum_fen

    def as_dict(self) -> dict:
        return {
            "base": money.format_yuan(self.base_fen), "rate": str(self.rate), "tier_from": (
                money.format_yuan(self.tier_from_fen) if self.tier_from_fen is not None else None),
            "proportional": money.format_yuan(self.proportional_fen), "fixed": money.format_yuan(self.fixed_fen),
            "minimum": money.format_yuan(self.minimum_fen), "fee": money.format_yuan(self.fee_fen),
            "bearer": self.bearer, "timing": self.timing, "explanation": self.explanation,
        }


def parse_tiers(raw) -> list[tuple[int, Decimal]]:
    """Validate ``fee_tiers`` JSON: a list of {"from_fen": int >= 0, "rate": "0.0550"} sorted by from_fen, unique."""
    tiers = []
    for index, tier in enumerate(raw or [], start=1):
        try:
            start = tier["from_fen"]
            rate = Decimal(str(tier["rate"]))
        except (KeyError, TypeError, InvalidOperation):
            raise ValidationFailed(_("阶梯费率第 {index} 档格式错误：需要 from_fen（分）与 rate（如 \"0.0550\"）").format(
                index=index), code="fee_tier_invalid") from None
        if isinstance(start, bool) or not isinstance(start, int) or start < 0:
            raise ValidationFailed(_("阶梯费率第 {index} 档的起点 from_fen 必须是不小于 0 的整数（分）").format(index=index),
                                   code="fee_tier_invalid")
        if not Decimal(0) <= rate < Decimal(1):
            raise ValidationFailed(_("阶梯费率第 {index} 档的费率 {rate} 应在 0 与 1 之间").format(index=index, rate=rate),
                                   code="fee_tier_invalid")
        tiers.append((start, rate))
    starts = [start for start, _ in tiers]
    if starts != sorted(starts) or len(set(starts)) != len(starts):
        raise ValidationFailed(_("阶梯费率的起点必须从小到大排列且不重复"), code="fee_tier_invalid")
    if tiers and tiers[0][0] != 0:
        raise ValidationFailed(_("阶梯费率第 1 档必须从 0 开始"), code="fee_tier_invalid")
    return tiers


def rate_for_volume(plan, month_volume_before_fen: int) -> tuple[Decimal, int | None]:
    tiers = parse_tiers(getattr(plan, "fee_tiers", None))
    if not tiers:
        return Decimal(plan.fee_rate), None
    chosen = tiers[0]
    for tier in tiers:
        if tier[0] <= month_volume_before_fen:
            chosen = tier
    return chosen[1], chosen[0]


def fee_for_payment(plan, *, amount_fen: int, month_volume_before_fen: int = 0,
                    rate_tier: tuple[Decimal, int | None] | None = None) -> FeeLine:
    """The fee of one payment of ``amount_fen`` (fen, > 0) under ``plan``. ``rate_tier``: what
    ``rate_for_volume(plan, month_volume_before_fen)`` gives, when the caller prices many payments on one volume."""
    if isinstance(amount_fen, bool) or not isinstance(amount_fen, int) or amount_fen <= 0:
        raise ValidationFailed(_("计费金额必须是大于 0 的整数（分）"), code="fee_amount_invalid")
    rate, tier_from = rate_tier or rate_for_volume(plan, month_volume_before_fen)
    proportional = money.apply_rate(amount_fen, rate)
    fixed = int(plan.fee_fixed_fen)
    minimum = int(plan.fee_minimum_fen)
    fee = max(proportional + fixed, minimum)
    # The explanation is part of the quote stored on the order (a record, written by the batch job as well): Chinese,
    # whatever the language of the request that priced it.
    tier_text = f"（本月已付 {money.format_yuan(month_volume_before_fen)} 元，适用起点 {money.format_yuan(tier_from)} 元档）" \
        if tier_from is not None else ""
    explanation = (f"{money.format_yuan(amount_fen)} × {rate * 100:.2f}%{tier_text} = {money.format_yuan(proportional)}"
                   f"，加每笔固定费 {money.format_yuan(fixed)}")
    if proportional + fixed < minimum:
        explanation += f"，低于最低服务费，按最低 {money.format_yuan(minimum)} 收取"
    explanation += f"；服务费 {money.format_yuan(fee)} 元"
    return FeeLine(base_fen=amount_fen, rate=rate, tier_from_fen=tier_from, proportional_fen=proportional,
                   fixed_fen=fixed, minimum_fen=minimum, fee_fen=fee, bearer=str(plan.fee_bearer),
                   timing=str(plan.fee_timing), explanation=explanation)
