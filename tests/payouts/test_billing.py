from dataclasses import dataclass, field
from decimal import Decimal

import pytest

from core.exceptions import ValidationFailed
from payouts.billing import fee_for_payment, parse_tiers


@dataclass
class Plan:
    fee_rate: Decimal = Decimal("0.0600")
    fee_fixed_fen: int = 0
    fee_minimum_fen: int = 0
    fee_tiers: list = field(default_factory=list)
    fee_bearer: str = "MERCHANT"
    fee_timing: str = "BEFORE"


class TestFeeForPayment:
    @pytest.mark.parametrize(("plan", "amount", "fee"), [
        (Plan(), 100_000, 6_000),                                       # 1,000.00 × 6% = 60.00
        (Plan(fee_rate=Decimal("0.0065")), 77, 1),                       # 0.5005 fen → 1 fen (half-up)
        (Plan(fee_rate=Decimal("0.0064")), 78, 0),                       # 0.4992 fen → 0
        (Plan(fee_fixed_fen=200), 100_000, 6_200),                      # + 2.00 per order
        (Plan(fee_minimum_fen=500), 1_000, 500),                        # 0.60 raised to the 5.00 minimum
        (Plan(fee_minimum_fen=500), 10_000, 600),                       # above the minimum
        (Plan(fee_rate=Decimal("0"), fee_fixed_fen=150), 1, 150),
    ])
    def test_rate_fixed_minimum(self, plan, amount, fee):
        assert fee_for_payment(plan, amount_fen=amount).fee_fen == fee

    def test_explanation_shows_every_figure(self):
        line = fee_for_payment(Plan(fee_fixed_fen=200, fee_minimum_fen=10_000), amount_fen=100_000)
        assert line.minimum_applied
        assert "1000.00 × 6.00%" in line.explanation and "最低 100.00" in line.explanation
        assert line.as_dict()["fee"] == "100.00"

    def test_tier_is_chosen_by_the_volume_already_paid_this_month(self):
        plan = Plan(fee_tiers=[{"from_fen": 0, "rate": "0.06"}, {"from_fen": 10_000_000, "rate": "0.05"},
                               {"from_fen": 50_000_000, "rate": "0.04"}])
        assert fee_for_payment(plan, amount_fen=100_000, month_volume_before_fen=0).fee_fen == 6_000
        assert fee_for_payment(plan, amount_fen=100_000, month_volume_before_fen=9_999_999).fee_fen == 6_000
        at_edge = fee_for_payment(plan, amount_fen=100_000, month_volume_before_fen=10_000_000)
        assert at_edge.fee_fen == 5_000 and at_edge.tier_from_fen == 10_000_000
        assert fee_for_payment(plan, amount_fen=100_000, month_volume_before_fen=80_000_000).fee_fen == 4_000

    @pytest.mark.parametrize("amount", [0, -1, 1.5, True])
    def test_refuses_non_positive_or_non_integer_amounts(self, amount):
        with pytest.raises(ValidationFailed):
            fee_for_payment(Plan(), amount_fen=amount)


class TestTiers:
    @pytest.mark.parametrize(("tiers", "message"), [
        ([{"from_fen": 100, "rate": "0.05"}], "必须从 0 开始"),
        ([{"from_fen": 0, "rate": "0.05"}, {"from_fen": 0, "rate": "0.04"}], "不重复"),
        ([{"from_fen": 0, "rate": "1.2"}], "0 与 1 之间"),
        ([{"from_fen": -1, "rate": "0.05"}], "不小于 0"),
        ([{"rate": "0.05"}], "格式错误"),
    ])
    def test_bad_tiers_are_refused_with_the_reason(self, tiers, message):
        with pytest.raises(ValidationFailed, match=message):
            parse_tiers(tiers)
