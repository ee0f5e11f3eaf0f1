from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core import money
from core.money import MoneyFormatError


class TestParseYuan:
    @pytest.mark.parametrize(("text", "fen"), [
        ("0", 0), ("0.01", 1), ("1", 100), ("1.5", 150), ("1234.56", 123456), ("  12.30 ", 1230),
        ("999999999999999.99", 99999999999999999),
    ])
    def test_parses_decimal_strings_to_fen(self, text, fen):
        assert money.parse_yuan(text) == fen

    @pytest.mark.parametrize("value", [12.5, 12, Decimal("12.5"), None, True])
    def test_refuses_anything_but_a_string(self, value):
        with pytest.raises(MoneyFormatError, match="文本形式"):
            money.parse_yuan(value)

    @pytest.mark.parametrize("text", ["1.234", "0.001", "10.999"])
    def test_refuses_more_than_two_decimals_with_that_reason(self, text):
        with pytest.raises(MoneyFormatError, match="超过两位小数"):
            money.parse_yuan(text)

    @pytest.mark.parametrize("text", ["1,234.00", "¥12", "1e3", "", ".5", "5.", "1 000", "１２", "NaN", "+5"])
    def test_refuses_malformed_amounts(self, text):
        with pytest.raises(MoneyFormatError, match="不是有效金额"):
            money.parse_yuan(text)

    def test_negative_only_when_allowed(self):
        with pytest.raises(MoneyFormatError, match="不能为负数"):
            money.parse_yuan("-1.00")
        assert money.parse_yuan("-1.05", allow_negative=True) == -105

    def test_zero_can_be_refused(self):
        with pytest.raises(MoneyFormatError, match="必须大于 0"):
            money.parse_yuan("0.00", allow_zero=False)

    def test_error_names_the_field(self):
        with pytest.raises(MoneyFormatError) as info:
            money.parse_yuan("abc", field="付款金额")
        assert "付款金额" in info.value.message
        assert info.value.extra["field"] == "付款金额"


class TestFormat:
    @pytest.mark.parametrize(("fen", "text"), [(0, "0.00"), (1, "0.01"), (123456, "1234.56"), (-5, "-0.05"),
                                               (-123456, "-1234.56")])
    def test_format_yuan(self, fen, text):
        assert money.format_yuan(fen) == text

    def test_format_cny_groups_thousands(self):
        assert money.format_cny(123456789) == "¥1,234,567.89"
        assert money.format_cny(-100) == "-¥1.00"

    def test_format_refuses_float(self):
        with pytest.raises(TypeError):
            money.format_yuan(1.0)

    @given(st.integers(min_value=-(10**15), max_value=10**15))
    def test_parse_inverts_format(self, fen):
        assert money.parse_yuan(money.format_yuan(fen), allow_negative=True) == fen


class TestRounding:
    @pytest.mark.parametrize(("amount", "rate", "expected"), [
        (100, Decimal("0.005"), 1),      # 0.5 fen rounds up
        (100, Decimal("0.0049"), 0),     # 0.49 fen rounds down
        (-100, Decimal("0.005"), -1),    # half away from zero
        (250, Decimal("0.03"), 8),       # 7.5 → 8
        (1000000, Decimal("0.006"), 6000),
    ])
    def test_apply_rate_rounds_half_up_once(self, amount, rate, expected):
        assert money.apply_rate(amount, rate) == expected

    def test_apply_rate_refuses_float_rate(self):
        with pytest.raises(TypeError):
            money.apply_rate(100, 0.03)

    def test_yuan_to_fen_refuses_sub_fen(self):
        assert money.yuan_to_fen(Decimal("12.34")) == 1234
        with pytest.raises(MoneyFormatError):
            money.yuan_to_fen(Decimal("12.345"))
        with pytest.raises(TypeError):
            money.yuan_to_fen(12.34)


class TestAllocate:
    def test_splits_one_yuan_in_three(self):
        assert money.allocate(100, [1, 1, 1]) == [34, 33, 33]

    def test_largest_remainder_gets_the_extra_fen(self):
        assert money.allocate(100, [1, 2]) == [33, 67]

    def test_negative_totals_split_symmetrically(self):
        assert money.allocate(-100, [1, 1, 1]) == [-34, -33, -33]

    def test_zero_weight_gets_nothing(self):
        assert money.allocate(101, [0, 1, 1]) == [0, 51, 50]

    @pytest.mark.parametrize("weights", [[], [0, 0], [-1, 2]])
    def test_refuses_bad_weights(self, weights):
        with pytest.raises(ValueError):
            money.allocate(100, weights)

    @given(total=st.integers(min_value=-(10**12), max_value=10**12),
           weights=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30).filter(lambda w: sum(w) > 0))
    def test_parts_always_add_up_and_stay_within_a_fen_of_exact(self, total, weights):
        parts = money.allocate(total, weights)
        assert sum(parts) == total
        assert len(parts) == len(weights)
        weight_sum = sum(weights)
        for part, weight in zip(parts, weights, strict=True):
            exact = Decimal(total) * weight / weight_sum
            assert abs(Decimal(part) - exact) < 1
            if weight == 0:
                assert part == 0
