"""core/templatetags/lg_money.py: integer fen shown as yuan in templates."""

from django.template import Context, Template


def render(text, **context):
    return Template("{% load lg_money %}" + text).render(Context(context))


def test_cny_and_yuan():
    assert render("{{ v|cny }}", v=43_000_000) == "¥430,000.00"
    assert render("{{ v|yuan }}", v=123_456) == "1,234.56"
    assert render("{{ v|cny }}", v=-5) == "-¥0.05"


def test_missing_amounts_are_blank_not_an_error():
    assert render("{{ v|cny }}|{{ v|yuan }}", v=None) == "|"
    assert render("{{ missing|cny }}") == ""
