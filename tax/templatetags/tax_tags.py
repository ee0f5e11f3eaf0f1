from django import template

from core.money import format_yuan

register = template.Library()


@register.filter
def yuan(fen) -> str:
    """Integer fen → "1,234.56" (empty for None)."""
    if fen is None or fen == "":
        return ""
    return format_yuan(int(fen), grouping=True)
