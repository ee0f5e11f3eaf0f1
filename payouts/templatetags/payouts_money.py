from django import template

from core.money import format_cny, format_yuan

register = template.Library()


@register.filter
def cny(fen):
    """123456 → "¥1,234.56" (integer fen only)."""
    return format_cny(int(fen)) if fen is not None else ""


@register.filter
def signed_cny(fen):
    """123456 → "+¥1,234.56"; -5 → "-¥0.05"."""
    if fen is None:
        return ""
    return ("+" if fen > 0 else "") + format_cny(int(fen))


@register.filter
def yuan(fen):
    return format_yuan(int(fen)) if fen is not None else ""
