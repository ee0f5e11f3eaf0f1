from django import template

from core.money import format_cny, format_yuan

register = template.Library()


@register.filter
def cny(fen) -> str:
    return format_cny(int(fen)) if fen is not None else ""


@register.filter
def yuan(fen) -> str:
    return format_yuan(int(fen)) if fen is not None else ""


@register.filter
def distance(metres) -> str:
    from tasks.geo import format_distance

    return format_distance(metres)
