"""core.charts: the numbers behind templates/core/_bar_chart.html."""

from datetime import UTC, date, datetime

import pytest
from django.template import Context, Template

from core.charts import (
    bar_chart,
    bar_chart_from_pairs,
    bar_chart_from_rows,
    nice_ceiling,
    totals_by_month,
)


@pytest.mark.parametrize(("value", "ceiling"), [
    (0, 0), (-5, 0), (1, 1), (2, 2), (3, 5), (7, 10), (10, 10), (11, 20), (24, 25), (26, 50),
    (100, 100), (101, 200), (260, 500), (1_234_567, 2_000_000),
])
def test_nice_ceiling(value, ceiling):
    assert nice_ceiling(value) == ceiling


def test_bars_scale_to_the_nice_maximum_and_keep_their_values():
    chart = bar_chart(["7", "8"], [("税前", [900_000, 950_000]), ("个税", [6_600, 7_800])])

    assert chart.scale_max == 1_000_000
    july, august = chart.groups
    assert july.label == "7"
    assert [bar.value for bar in august.bars] == [950_000, 7_800]
    assert august.bars[0].height == 95.0 and august.bars[0].y == 5.0
    assert august.bars[1].height == 0.78
    assert august.bars[0].text == "¥9,500.00"
    assert august.bars[1].name == "个税"
    # two series share a slot side by side, each slot 100 units wide
    assert august.bars[0].x == 118.0 and august.bars[1].x == august.bars[0].x + august.bars[0].width
    assert chart.width == 200
    assert chart.max_width_px == 2 * (48 + 2 * 24)
    assert [s.total for s in chart.series] == [1_850_000, 14_400]
    assert chart.series[0].total_text == "¥18,500.00"


def test_money_ticks_are_whole_yuan_and_evenly_spaced():
    chart = bar_chart_from_pairs([("7", 900_000)])

    assert [(t.value, t.text, t.percent) for t in chart.ticks] == [
        (0, "0", 0.0), (200_000, "2,000", 20.0), (400_000, "4,000", 40.0), (600_000, "6,000", 60.0),
        (800_000, "8,000", 80.0), (1_000_000, "10,000", 100.0)]
    assert chart.ticks[1].y == 80.0


def test_count_ticks_never_have_fractions_of_a_person():
    chart = bar_chart_from_pairs([("草稿", 1), ("已发布", 2)], money=False)

    assert chart.scale_max == 2
    assert [t.text for t in chart.ticks] == ["0", "1", "2"]
    assert chart.groups[1].bars[0].height == 100.0
    assert chart.groups[1].bars[0].text == "2"


def test_empty_input_is_an_empty_chart_not_an_error():
    for chart in (bar_chart_from_pairs([]), bar_chart([], []), bar_chart_from_pairs([("7", 0), ("8", 0)])):
        assert chart.empty
        assert chart.scale_max == 0
        assert chart.ticks == []
        assert all(bar.height == 0 for group in chart.groups for bar in group.bars)
    assert bar_chart_from_pairs([]).width == 100  # one empty slot, never a zero-width viewBox


def test_a_negative_month_draws_no_bar_but_keeps_its_value():
    chart = bar_chart_from_pairs([("9", -4_918), ("10", 9_480)])

    september = chart.groups[0].bars[0]
    assert september.height == 0 and september.y == 100
    assert september.text == "-¥49.18"
    assert not chart.empty


def test_series_must_match_the_labels():
    with pytest.raises(ValueError, match="2 values for 1 labels"):
        bar_chart(["7"], [("税前", [1, 2])])
    with pytest.raises(ValueError, match="at most 4 series"):
        bar_chart(["7"], [(str(n), [1]) for n in range(5)])


def test_rows_can_be_dicts_or_objects():
    class Row:
        month = 8
        gross_fen = 500

    chart = bar_chart_from_rows([{"month": 7, "gross_fen": 1000}, Row()], "month", [("gross_fen", "税前")])

    assert [g.label for g in chart.groups] == ["7", "8"]
    assert [g.bars[0].height for g in chart.groups] == [100.0, 50.0]


def test_a_series_that_is_zero_everywhere_can_be_left_out():
    rows = [{"month": 7, "iit_fen": 6_600, "vat_fen": 0}, {"month": 8, "iit_fen": 7_800, "vat_fen": 0}]

    kept = bar_chart_from_rows(rows, "month", [("iit_fen", "个税"), ("vat_fen", "增值税")])
    dropped = bar_chart_from_rows(rows, "month", [("iit_fen", "个税"), ("vat_fen", "增值税")], drop_zero_series=True)
    nothing = bar_chart_from_rows([{"month": 7, "iit_fen": 0, "vat_fen": 0}], "month",
                                  [("iit_fen", "个税"), ("vat_fen", "增值税")], drop_zero_series=True)

    assert [s.name for s in kept.series] == ["个税", "增值税"]
    assert [s.name for s in dropped.series] == ["个税"]
    assert dropped.groups[0].bars[0].width == 64.0  # the remaining series gets the whole slot
    assert [s.name for s in nothing.series] == ["个税"] and nothing.empty


def test_totals_by_month_sums_and_sorts_and_skips_undated_items():
    items = [
        {"at": datetime(2026, 8, 1, 3, tzinfo=UTC), "fen": 100},
        {"at": datetime(2026, 7, 31, 17, tzinfo=UTC), "fen": 50},  # 8-01 01:00 in Asia/Shanghai
        {"at": date(2026, 7, 2), "fen": 7},
        {"at": None, "fen": 999},
    ]

    assert totals_by_month(items, when=lambda i: i["at"], amount=lambda i: i["fen"]) == [
        ("2026-07", 7), ("2026-08", 150)]
    assert totals_by_month([], when=lambda i: i, amount=lambda i: i) == []


def test_the_template_tag_and_include_draw_the_bars():
    html = Template(
        '{% load lg_charts %}{% bar_chart rows "month" "gross_fen" "税前" as chart %}'
        '{% include "core/_bar_chart.html" with chart=chart title="收入" %}'
    ).render(Context({"rows": [{"month": 7, "gross_fen": 1_000_000}, {"month": 8, "gross_fen": 250_000}]}))

    assert '<rect class="s0" x="18.0" y="0.0" width="64.0" height="100.0">' in html
    assert 'height="25.0"' in html
    assert "<title>8 税前 ¥2,500.00</title>" in html
    assert "收入" in html and "<span>7</span>" in html


def test_the_include_says_so_when_there_is_nothing_to_draw():
    html = Template(
        '{% load lg_charts %}{% bar_chart rows "month" "gross_fen" "税前" as chart %}'
        '{% include "core/_bar_chart.html" with chart=chart empty="这一年还没有收入" %}'
    ).render(Context({"rows": []}))

    assert "这一年还没有收入" in html and "<svg" not in html
