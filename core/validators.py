"""Validators for Chinese identifiers: resident ID (GB 11643), USCC (GB 32100), bank card, mobile number.

Each ``validate_*`` returns the normalised value or raises ``ValidationFailed`` with a Chinese message
that says what is wrong. ``../shared/reference/tax-rules-cn.md`` §6 has the algorithms.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from operator import mul

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.exceptions import ValidationFailed

# --- Resident identity number (居民身份证号码), GB 11643-1999 -------------------------------------------

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_WEIGHTS_ZERO = ord("0") * sum(_ID_WEIGHTS)  # the weighted sum of seventeen "0" characters' codes
_ID_CHECK = "10X98765432"
# Province-level codes of GB/T 2260, plus 71/81/82/83 for Taiwan / HK / Macau residence permits.
_PROVINCES = (
    set(range(11, 16)) | set(range(21, 24)) | set(range(31, 38)) | set(range(41, 47))
    | set(range(50, 55)) | set(range(61, 66)) | {71, 81, 82, 83}
)


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: dt.date
    is_male: bool
    region_code: str

    def age_on(self, on: dt.date) -> int:
        """Full years of age on ``on`` (a birthday counts on the day itself; 29 Feb counts on 1 Mar)."""
        years = on.year - self.birth_date.year
        if (on.month, on.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years


# compiled once (a batch validates 100,000 lines)
_OLD_ID_RE = re.compile(r"[0-9]{15}")
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_SPACES_DASHES_RE = re.compile(r"[\s-]")
_DIGITS_RE = re.compile(r"[0-9]+")


def id_check_char(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("id_check_char needs the first 17 digits")
    if not first17.isdigit() or not first17.isascii():
        raise ValueError("id_check_char needs 17 ASCII digits")
    # on the characters' codes (a digit's code is ord("0") + its value): no int() per digit
    total = sum(map(mul, first17.encode("ascii"), _ID_WEIGHTS)) - _ID_WEIGHTS_ZERO
    return _ID_CHECK[total % 11]


def validate_resident_id(value: str, *, today: dt.date | None = None, field_label: str = gettext_lazy("身份证号")) -> ResidentId:
    """Validate an 18-character resident ID number; a lowercase ``x`` is normalised to ``X``.

    Checks the layout, the province code, a real birth date not in the future, and the MOD 11-2 check character.
    15-digit first-generation numbers are refused: they carry no check character.
    """
    if not isinstance(value, str):
        raise ValidationFailed(_("{field_label}必须是文本").format(field_label=field_label), extra={"field": field_label})
    number = value.strip().upper()
    if _OLD_ID_RE.fullmatch(number):
        raise ValidationFailed(
            _("{field_label}“{value}”是 15 位旧号码，请填写 18 位居民身份证号码").format(field_label=field_label, value=value), extra={"field": field_label}
        )
    if not _ID_RE.fullmatch(number):
        raise ValidationFailed(
            _("{field_label}“{value}”格式不正确：应为 18 位，前 17 位为数字，最后一位为数字或 X").format(field_label=field_label, value=value),
            extra={"field": field_label},
        )
    if int(number[:2]) not in _PROVINCES:
        raise ValidationFailed(_("{field_label}“{value}”的地区码 {value2} 不存在").format(field_label=field_label, value=value, value2=number[:2]), extra={"field": field_label})
    try:
        birth = dt.date.fromisoformat(number[6:14])  # YYYYMMDD (ISO 8601 basic format; an unreal date raises)
    except ValueError:
        raise ValidationFailed(
            _("{field_label}“{value}”中的出生日期 {value2} 不是真实日期").format(field_label=field_label, value=value, value2=number[6:14]), extra={"field": field_label}
        ) from None
    today = today or timezone.localdate()
    if birth > today or birth.year < 1800:
        raise ValidationFailed(
            _("{field_label}“{value}”中的出生日期 {value2} 不合理").format(field_label=field_label, value=value, value2=birth.isoformat()), extra={"field": field_label}
        )
    expected = id_check_char(number[:17])
    if number[17] != expected:
        raise ValidationFailed(
            _("{field_label}“{value}”校验位错误，请核对号码是否填写有误").format(field_label=field_label, value=value), extra={"field": field_label}
        )
    return ResidentId(
        number=number, birth_date=birth, is_male=int(number[16]) % 2 == 1, region_code=number[:6]
    )


def is_valid_resident_id(value: str) -> bool:
    try:
        validate_resident_id(value)
    except ValidationFailed:
        return False
    return True


# --- Unified social credit code (统一社会信用代码), GB 32100-2015 ------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = [pow(3, i, 31) for i in range(17)]
_USCC_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$")


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_ALPHABET.index(char) * weight for char, weight in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(value: str, *, field_label: str = gettext_lazy("统一社会信用代码")) -> str:
    """Validate an 18-character USCC; returns it upper-cased.

    Unlike python-stdnum, codes whose first characters are letters (A, N, Y …) are accepted as GB 32100 allows.
    """
    if not isinstance(value, str):
        raise ValidationFailed(_("{field_label}必须是文本").format(field_label=field_label), extra={"field": field_label})
    code = value.strip().upper()
    if len(code) != 18:
        raise ValidationFailed(
            _("{field_label}“{value}”应为 18 位，当前为 {n_code} 位").format(field_label=field_label, value=value, n_code=len(code)), extra={"field": field_label}
        )
    bad = sorted({char for char in code if char not in USCC_ALPHABET})
    if bad:
        raise ValidationFailed(
            _("{field_label}“{value}”含有不允许的字符 {value2}（不使用 I、O、S、V、Z）").format(field_label=field_label, value=value, value2='、'.join(bad)),
            extra={"field": field_label},
        )
    if not _USCC_RE.match(code):
        raise ValidationFailed(
            _("{field_label}“{value}”第 3–8 位应为行政区划代码（6 位数字）").format(field_label=field_label, value=value), extra={"field": field_label}
        )
    if code[17] != uscc_check_char(code[:17]):
        raise ValidationFailed(_("{field_label}“{value}”校验位错误，请核对营业执照").format(field_label=field_label, value=value), extra={"field": field_label})
    return code


# --- Bank card -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BankCard:
    number: str
    warnings: list[str] = field(default_factory=list)


_LUHN_DOUBLED = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)
# a lazy text: rendered in the reader's language where it is shown (a batch of 100,000 cards checks it per line)
LUHN_WARNING = gettext_lazy("卡号未通过 Luhn 校验，请再次核对；部分银行借记卡属正常情况，将以银行验证结果为准")


# the ASCII digits "0"–"9" mapped to the digit sum of their double (as bytes: ``bytes.translate`` then ``sum``)
_LUHN_DOUBLED_CODES = bytes.maketrans(b"0123456789", bytes(_LUHN_DOUBLED))


def luhn_ok(number: str) -> bool:
    """``number``: ASCII digits."""
    codes = number.encode("ascii")[::-1]  # from the rightmost digit
    kept = codes[0::2]
    return (sum(kept) - ord("0") * len(kept) + sum(codes[1::2].translate(_LUHN_DOUBLED_CODES))) % 10 == 0


def validate_bank_card(value: str, *, field_label: str = gettext_lazy("银行卡号")) -> BankCard:
    """Validate a bank card or account number: digits only (spaces allowed and removed), 10 to 30 long.

    A Luhn failure is a warning, not an error: some real Chinese debit and UnionPay cards fail Luhn.
    Ownership is proven by the bank verification adapter, not here.
    """
    if not isinstance(value, str):
        raise ValidationFailed(_("{field_label}必须是文本").format(field_label=field_label), extra={"field": field_label})
    number = _SPACES_DASHES_RE.sub("", value)
    if not _DIGITS_RE.fullmatch(number):
        raise ValidationFailed(_("{field_label}“{value}”只能包含数字").format(field_label=field_label, value=value), extra={"field": field_label})
    if not 10 <= len(number) <= 30 or number[0] == "0":
        raise ValidationFailed(
            _("{field_label}“{value}”长度应为 10–30 位且不以 0 开头，当前为 {n_number} 位").format(field_label=field_label, value=value, n_number=len(number)),
            extra={"field": field_label},
        )
    warnings = []
    if not luhn_ok(number):
        warnings.append(LUHN_WARNING)
    return BankCard(number=number, warnings=warnings)


# --- Mainland mobile number --------------------------------------------------------------------------------

_MOBILE_RE = re.compile(r"^1[3-9][0-9]{9}$")


def validate_mobile(value: str, *, field_label: str = gettext_lazy("手机号")) -> str:
    """Validate a mainland mobile number (loose rule: 1[3-9] and 9 digits; +86/0086 prefixes removed)."""
    if not isinstance(value, str):
        raise ValidationFailed(_("{field_label}必须是文本").format(field_label=field_label), extra={"field": field_label})
    number = _SPACES_DASHES_RE.sub("", value)
    for prefix in ("+86", "0086"):
        if number.startswith(prefix):
            number = number[len(prefix):]
            break
    if not _MOBILE_RE.match(number):
        raise ValidationFailed(
            _("{field_label}“{value}”不是有效的中国大陆手机号（11 位，以 13–19 开头）").format(field_label=field_label, value=value), extra={"field": field_label}
        )
    return number
