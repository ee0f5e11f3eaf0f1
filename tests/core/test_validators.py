import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.exceptions import ValidationFailed
from core.validators import (
    id_check_char,
    luhn_ok,
    uscc_check_char,
    validate_bank_card,
    validate_mobile,
    validate_resident_id,
    validate_uscc,
)


class TestResidentId:
    @pytest.mark.parametrize("number", ["11010519491231002X", "360426199101010071", "440524188001010014"])
    def test_known_valid_samples(self, number):
        assert validate_resident_id(number).number == number

    def test_lowercase_x_is_normalised(self):
        assert validate_resident_id("11010519491231002x").number == "11010519491231002X"

    @given(st.text(alphabet="0123456789", min_size=17, max_size=17))
    def test_check_char_agrees_with_gb_11643(self, body):
        weights = [2 ** (17 - i) % 11 for i in range(17)]  # W_i = 2^(i-1) mod 11, i counted from the right (18 … 2)
        assert id_check_char(body) == "10X98765432"[sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11]

    @pytest.mark.parametrize("body", ["1101051949123100", "1101051949123100a", "11010519491231００2"])
    def test_check_char_needs_seventeen_digits(self, body):
        with pytest.raises(ValueError):
            id_check_char(body)

    @pytest.mark.parametrize("birth", ["19490230", "19491301", "00000101", "19490100"])
    def test_refuses_a_birth_date_that_does_not_exist(self, birth):
        body = "110105" + birth + "002"
        with pytest.raises(ValidationFailed, match="不是真实日期"):
            validate_resident_id(body + id_check_char(body), today=dt.date(2026, 1, 1))

    def test_reads_birth_date_and_sex(self):
        parsed = validate_resident_id("11010519491231002X")
        assert parsed.birth_date == dt.date(1949, 12, 31)
        assert parsed.is_male is False  # 顺序码 002 is even
        assert validate_resident_id("360426199101010071").is_male is True

    @pytest.mark.parametrize(("number", "reason"), [
        ("110105194912310021", "校验位"),      # check should be X
        ("510107199003072316", "校验位"),      # check should be 9
        ("110105199002300011", "不是真实日期"),  # 30 February
        ("110105199013010011", "不是真实日期"),  # month 13
        ("991105199001010011", "地区码"),       # no province 99
        ("110105199001010", "15 位"),           # first-generation number
        ("11010519900101001", "格式不正确"),    # 17 characters
        ("11010519900101001Y", "格式不正确"),
    ])
    def test_rejects_with_the_reason(self, number, reason):
        with pytest.raises(ValidationFailed, match=reason):
            validate_resident_id(number)

    def test_rejects_future_birth_date(self):
        body = "11010520300101001"
        with pytest.raises(ValidationFailed, match="不合理"):
            validate_resident_id(body + id_check_char(body), today=dt.date(2026, 1, 1))

    def test_accepts_hk_macau_taiwan_residence_permit_prefixes(self):
        for region in ("810000", "820000", "830000"):
            body = f"{region}19900101001"
            assert validate_resident_id(body + id_check_char(body)).region_code == region

    @pytest.mark.parametrize(("birth", "on", "age"), [
        ("20080316", dt.date(2026, 3, 16), 18),   # birthday today: 18
        ("20080317", dt.date(2026, 3, 16), 17),   # tomorrow: still 17
        ("20000229", dt.date(2018, 2, 28), 17),   # leap-day birthday counts on 1 March
        ("20000229", dt.date(2018, 3, 1), 18),
    ])
    def test_age_compares_full_dates(self, birth, on, age):
        body = f"120101{birth}001"
        assert validate_resident_id(body + id_check_char(body), today=on).age_on(on) == age

    @given(st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)), st.integers(0, 999))
    def test_any_generated_number_validates_and_any_other_check_char_fails(self, birth, seq):
        body = f"120101{birth:%Y%m%d}{seq:03d}"
        good = id_check_char(body)
        assert validate_resident_id(body + good).birth_date == birth
        for wrong in "0123456789X":
            if wrong != good:
                with pytest.raises(ValidationFailed):
                    validate_resident_id(body + wrong)


class TestUscc:
    @pytest.mark.parametrize("code", ["91350100M000100Y43", "91110000600037341L", "91110108551385082Q",
                                      "91230184MA1BUFLT44", "92371000MA3MXH0E3W", "91110108772551611J"])
    def test_known_valid_samples(self, code):
        assert validate_uscc(code) == code

    @pytest.mark.parametrize("prefix", ["A1", "N2", "Y1", "51", "11"])
    def test_accepts_valid_codes_starting_with_letters_that_stdnum_rejects(self, prefix):
        body = f"{prefix}110000MA01ABCD1"
        code = body + uscc_check_char(body)
        assert validate_uscc(code) == code

    def test_lowercase_is_normalised(self):
        assert validate_uscc("91110108551385082q") == "91110108551385082Q"

    @pytest.mark.parametrize(("code", "reason"), [
        ("91110108551385082A", "校验位"),
        ("9111010855138508", "18 位"),
        ("91110108551385O82Q", "不允许的字符"),   # letter O
        ("9111010855I385082Q", "不允许的字符"),   # letter I
        ("911A0108551385082Q", "行政区划"),
    ])
    def test_rejects_with_the_reason(self, code, reason):
        with pytest.raises(ValidationFailed, match=reason):
            validate_uscc(code)

    def test_check_char_zero_when_remainder_zero(self):
        # Search a body whose weighted sum is a multiple of 31: its check char must be "0".
        for n in range(10000):
            body = f"9111010{n:010d}"
            if uscc_check_char(body) == "0":
                assert validate_uscc(body + "0")
                break
        else:  # pragma: no cover
            pytest.fail("no body with check char 0 found")


class TestBankCard:
    @pytest.mark.parametrize("number", ["6228480402564890018", "4111111111111111", "6217000010000000003"])
    def test_luhn_valid_cards_have_no_warning(self, number):
        card = validate_bank_card(number)
        assert card.number == number
        assert card.warnings == []

    def test_luhn_failure_is_only_a_warning(self):
        card = validate_bank_card("6228480402564890019")
        assert card.number == "6228480402564890019"
        assert "Luhn" in card.warnings[0]

    def test_spaces_are_removed(self):
        assert validate_bank_card("6228 4804 0256 4890 018").number == "6228480402564890018"

    @pytest.mark.parametrize(("number", "reason"), [("622848040", "长度"), ("0228480402564890018", "不以 0 开头"),
                                                    ("62284804025648900ab", "只能包含数字"), ("1" * 31, "长度")])
    def test_rejects_with_the_reason(self, number, reason):
        with pytest.raises(ValidationFailed, match=reason):
            validate_bank_card(number)

    def test_luhn(self):
        assert luhn_ok("79927398713")
        assert not luhn_ok("79927398710")

    @given(st.text(alphabet="0123456789", min_size=1, max_size=30))
    def test_luhn_agrees_with_the_textbook_algorithm(self, number):
        digits = [int(c) for c in reversed(number)]
        doubled = [d * 2 - 9 if d * 2 > 9 else d * 2 for d in digits[1::2]]
        assert luhn_ok(number) is ((sum(digits[0::2]) + sum(doubled)) % 10 == 0)


class TestMobile:
    @pytest.mark.parametrize(("value", "number"), [
        ("13812345678", "13812345678"), ("+8613812345678", "13812345678"), ("008613812345678", "13812345678"),
        ("138 1234 5678", "13812345678"), ("19012345678", "19012345678"), ("19212345678", "19212345678"),
        ("16612345678", "16612345678"),
    ])
    def test_accepts_mainland_numbers(self, value, number):
        assert validate_mobile(value) == number

    @pytest.mark.parametrize("value", ["12812345678", "1381234567", "138123456789", "23812345678", "abc", ""])
    def test_rejects_others(self, value):
        with pytest.raises(ValidationFailed, match="手机号"):
            validate_mobile(value)
