"""Money: integer fen everywhere, one parser, one formatter, one rounding rule.

Amounts are ``int`` fen (分). Rates are ``Decimal``. Floats are refused at every entry point,
because 0.1 + 0.2 != 0.3 and a payout platform must add up to the fen.

The single rounding rule is ROUND_HALF_UP to the whole fen (四舍五入到分), applied once, at the
points that call :func:`apply_rate` or :func:`round_fen`.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext, gettext_lazy

from core.exceptions import ValidationFailed

ROUNDING = ROUND_HALF_UP
FEN_PER_YUAN = 100

# "1234", "1234.5", "1234.56", "-12.30", "0.01"; no exponent, no thousands separators, no spaces inside.
_AMOUNT_RE = re.compile(r"^(?P<sign>-)?(?P<int>\d{1,15})(?:\.(?P<frac>\d{1,2}))?$", re.ASCII)


class MoneyFormatError(ValidationFailed):
    code = "money_format"


def parse_yuan(text: str, *, allow_negative: bool = False, allow_zero: bool = True, field: str = gettext_lazy("金额")) -> int:
    """Parse a decimal yuan string such as ``"1234.56"`` into integer fen (123456).

    Strict: only a ``str`` is accepted (never a float), at most two decimals, no exponent,
    no separators. Leading/trailing white space and a full-width digit or point are not accepted
    either: a payment file with them is ambiguous and must be corrected by the user.

    Raises MoneyFormatError with a message naming ``field`` and what to do.
    """
    if isinstance(text, bool) or not isinstance(text, str):
        raise MoneyFormatError(
            gettext("{field}必须以文本形式的十进制数提供（例如 \"1234.56\"），收到的是 {kind}").format(field=field, kind=type(text).__name__),
            extra={"field": field},
        )
    stripped = text.strip()
    match = _AMOUNT_RE.match(stripped)
    if not match:
        if re.match(r"^-?\d+\.\d{3,}$", stripped, re.ASCII):
            message = gettext("{field}“{text}”超过两位小数，金额最多精确到分").format(field=field, text=text)
        else:
            message = gettext("{field}“{text}”不是有效金额，请填写如 1234.56 的数字（不带逗号、货币符号或空格）").format(field=field, text=text)
        raise MoneyFormatError(message, extra={"field": field, "value": text})
    frac = (match["frac"] or "").ljust(2, "0")
    fen = int(match["int"]) * FEN_PER_YUAN + int(frac or 0)
    if match["sign"]:
        fen = -fen
    if fen < 0 and not allow_negative:
        raise MoneyFormatError(gettext("{field}不能为负数：“{text}”").format(field=field, text=text), extra={"field": field, "value": text})
    if fen == 0 and not allow_zero:
        raise MoneyFormatError(gettext("{field}必须大于 0").format(field=field), extra={"field": field, "value": text})
    return fen


def format_yuan(fen: int, *, grouping: bool = False) -> str:
    """Format integer fen as a yuan string with exactly two decimals: 123456 -> "1234.56"."""
    _require_int(fen)
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), FEN_PER_YUAN)
    whole_text = f"{whole:,}" if grouping else str(whole)
    return f"{sign}{whole_text}.{cents:02d}"


def format_cny(fen: int) -> str:
    """Format for people: "¥1,234.56"."""
    text = format_yuan(fen, grouping=True)
    return f"-¥{text[1:]}" if text.startswith("-") else f"¥{text}"


def yuan_to_fen(amount: Decimal | int | str) -> int:
    """Convert an exact yuan Decimal (or int, or string) to fen; refuses sub-fen precision and floats."""
    if isinstance(amount, float):
        raise TypeError("float is not accepted for money")
    if isinstance(amount, str):
        return parse_yuan(amount, allow_negative=True)
    value = Decimal(amount) * FEN_PER_YUAN
    if value != value.to_integral_value():
        raise MoneyFormatError(gettext("金额 {amount} 超过两位小数").format(amount=amount))
    return int(value)


def fen_to_decimal(fen: int) -> Decimal:
    """The exact yuan Decimal of a fen amount (for display maths and reports, never for storage)."""
    _require_int(fen)
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def round_fen(value: Decimal) -> int:
    """Round a Decimal fen value half-up to whole fen. The one rounding point of the platform."""
    if isinstance(value, float):
        raise TypeError("float is not accepted for money")
    try:
        return int(Decimal(value).quantize(Decimal(1), rounding=ROUNDING))
    except InvalidOperation as exc:  # pragma: no cover - Decimal NaN/inf
        raise MoneyFormatError(gettext("无法取整的金额：{value}").format(value=value)) from exc


def apply_rate(amount_fen: int, rate: Decimal) -> int:
    """``amount_fen × rate`` rounded half-up to the fen, exactly once. ``rate`` is a Decimal (0.006 = 0.6%)."""
    _require_int(amount_fen)
    if not isinstance(rate, Decimal):
        raise TypeError("rate must be a Decimal")
    return round_fen(Decimal(amount_fen) * rate)


def allocate(total_fen: int, weights: list[int] | list[Decimal]) -> list[int]:
    """Split ``total_fen`` in proportion to ``weights`` so the parts always sum to ``total_fen``.

    Largest-remainder method: each part gets the floor of its exact share, then the fen left over
    go one each to the parts with the largest remainders (ties to the earlier part). Negative
    totals are split symmetrically. Weights must be non-negative with a positive sum.
    """
    _require_int(total_fen)
    if not weights:
        raise ValueError("allocate needs at least one weight")
    decimal_weights = []
    for weight in weights:
        if isinstance(weight, float):
            raise TypeError("float weights are not accepted")
        weight = Decimal(weight)
        if weight < 0:
            raise ValueError("weights must not be negative")
        decimal_weights.append(weight)
    weight_sum = sum(decimal_weights)
    if weight_sum <= 0:
        raise ValueError("the weights must have a positive sum")
    sign = -1 if total_fen < 0 else 1
    magnitude = abs(total_fen)
    parts: list[int] = []
    remainders: list[tuple[Decimal, int]] = []
    for index, weight in enumerate(decimal_weights):
        exact = Decimal(magnitude) * weight / weight_sum
        floor = int(exact)  # exact >= 0, so int() is the floor
        parts.append(floor)
        remainders.append((exact - floor, index))
    left_over = magnitude - sum(parts)
    for _, index in sorted(remainders, key=lambda item: (-item[0], item[1]))[:left_over]:
        parts[index] += 1
    return [sign * part for part in parts]


def _require_int(fen: int) -> None:
    if isinstance(fen, bool) or not isinstance(fen, int):
        raise TypeError(f"amounts are integer fen, got {type(fen).__name__}")
