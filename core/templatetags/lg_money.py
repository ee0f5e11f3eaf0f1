"""Money for people in any template: ``{{ amount_fen|cny }}`` → "¥1,234.56", ``{{ amount_fen|yuan }}`` → "1,234.56"."""

from django import template

from core.money import format_cny, format_yuan

register = template.Library()


@register.filter
def cny(fen) -> str:
    return format_cny(int(fen)) if fen is not None and fen != "" else ""


@register.filter
def yuan(fen) -> str:
    return format_yuan(int(fen), grouping=True) if fen is not None and fen != "" else ""
