"""``{% bar_chart rows "label_key" "value_key" name … as chart %}``: see core/charts.py; draw with
``{% include "core/_bar_chart.html" with chart=chart %}``."""

from django import template

from core.charts import bar_chart_from_rows

register = template.Library()


@register.simple_tag
def bar_chart(rows, label_key: str, *series, money: bool = True, drop_zero_series: bool = True):
    """``series`` alternates value key and series name: ``"gross_fen" gross_name "iit_fen" iit_name``.
    A series that is 0 in every row is left out unless ``drop_zero_series=False``."""
    if len(series) % 2:
        raise template.TemplateSyntaxError("bar_chart: give each value key a series name")
    pairs = [(series[i], series[i + 1]) for i in range(0, len(series), 2)]
    return bar_chart_from_rows(rows or [], label_key, pairs, money=money, drop_zero_series=drop_zero_series)
