"""Bar charts drawn on the server as SVG, no JavaScript and no chart library.

`bar_chart` turns labelled values (money in integer fen, or plain counts) into geometry that
`templates/core/_bar_chart.html` draws. The geometry is in percent of the plot: each label owns a
100-unit-wide slot of the SVG's viewBox and values run 0–100 from the bottom, so the SVG can stretch to any
width (``preserveAspectRatio="none"``) while the labels and ticks are HTML and keep their size on a phone.

In a template::

    {% load lg_charts %}
    {% translate "税前收入" as gross %}{% translate "个税" as iit %}
    {% bar_chart summary.months "month" "gross_fen" gross "iit_fen" iit as chart %}
    {% include "core/_bar_chart.html" with chart=chart caption=_("按月") %}

In a view: ``bar_chart_from_pairs([("草稿", 3), ("已发布", 5)], money=False)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from core.money import format_cny

SLOT = 100  # viewBox units per label
SLOT_PADDING = 18  # empty units on each side of a slot's bars
MAX_SERIES = 4  # colours defined in linggong.css (.chart .s0 … .s3)


@dataclass(frozen=True)
class Bar:
    series: int
    name: str  # the series name, for the bar's tooltip
    value: int
    x: float  # viewBox units from the left
    width: float
    height: float  # percent of the plot height, 0–100
    y: float  # 100 - height: the SVG's y axis points down
    text: str  # the value for people: "¥1,234.56" or "12"


@dataclass(frozen=True)
class Group:
    label: str
    bars: list[Bar]


@dataclass(frozen=True)
class Tick:
    value: int
    percent: float  # from the bottom of the plot
    text: str

    @property
    def y(self) -> float:
        return round(100 - self.percent, 2)


@dataclass(frozen=True)
class Series:
    index: int
    name: str
    total: int
    total_text: str


@dataclass(frozen=True)
class BarChart:
    groups: list[Group]
    series: list[Series]
    ticks: list[Tick]
    scale_max: int  # the value at the top of the plot (a "nice" number ≥ the largest value)
    money: bool
    width: int = field(init=False)  # viewBox width

    def __post_init__(self):
        object.__setattr__(self, "width", max(len(self.groups), 1) * SLOT)

    @property
    def empty(self) -> bool:
        """No group has a value above zero: the template shows the empty state instead of a flat chart."""
        return not any(bar.value > 0 for group in self.groups for bar in group.bars)

    @property
    def columns(self) -> int:
        return max(len(self.groups), 1)

    @property
    def max_width_px(self) -> int:
        """The plot grows with the card but no wider than this, so one month is not one giant bar."""
        return self.columns * (48 + 24 * len(self.series))


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ that is ≥ ``value``, in whole units (fen or a count); 0 for 0 or less.
    2.5 × 10ⁿ only from 25 up, so a count never gets a fractional top."""
    if value <= 0:
        return 0
    magnitude = 1
    while magnitude * 10 < value:
        magnitude *= 10
    steps = [magnitude, 2 * magnitude] + ([magnitude * 5 // 2] if magnitude >= 10 else []) + [5 * magnitude, 10 * magnitude]
    return next(step for step in steps if step >= value)


def _tick_count(scale_max: int) -> int:
    """How many intervals the axis gets: the most of 5, 4, 2, 1 whose step is itself a nice number (100 → 20s,
    200 → 50s, 2 → 1s), so ticks never read 6.25 or 0.4 people."""
    for count in (5, 4, 2, 1):
        step, remainder = divmod(scale_max, count)
        if not remainder and step and nice_ceiling(step) == step:
            return count
    return 1


def _text(value: int, money: bool) -> str:
    return format_cny(value) if money else f"{value:,}"


def _tick_text(value: int, money: bool) -> str:
    if not money:
        return f"{value:,}"
    if value % 100 == 0:
        return f"{value // 100:,}"  # whole yuan on the axis, without ".00"
    return format_cny(value).lstrip("¥")


def bar_chart(labels: Sequence[object], series: Sequence[tuple[str, Sequence[int]]], *, money: bool = True) -> BarChart:
    """Geometry for a grouped bar chart.

    ``labels``: one per group (a month, a status name). ``series``: (name, values), one value per label, in fen when
    ``money`` else a count. Negative values (a month with a reversal) draw as an empty bar but keep their text.
    At most four series. Raises ValueError when a series does not have one value per label.
    """
    if len(series) > MAX_SERIES:
        raise ValueError(f"at most {MAX_SERIES} series, got {len(series)}")
    for name, values in series:
        if len(values) != len(labels):
            raise ValueError(f"series {name!r} has {len(values)} values for {len(labels)} labels")
    largest = max((int(v) for _, values in series for v in values), default=0)
    scale_max = nice_ceiling(largest)
    count = max(len(series), 1)
    bar_width = (SLOT - 2 * SLOT_PADDING) / count
    groups = []
    for index, label in enumerate(labels):
        bars = []
        for s, (name, values) in enumerate(series):
            value = int(values[index])
            height = round(max(value, 0) * 100 / scale_max, 2) if scale_max else 0.0
            bars.append(Bar(series=s, name=str(name), value=value, x=index * SLOT + SLOT_PADDING + s * bar_width, width=bar_width,
                            height=height, y=round(100 - height, 2), text=_text(value, money)))
        groups.append(Group(label=str(label), bars=bars))
    ticks = []
    if scale_max:
        tick_count = _tick_count(scale_max)
        for step in range(tick_count + 1):
            value = scale_max * step // tick_count
            ticks.append(Tick(value=value, percent=round(step * 100 / tick_count, 2), text=_tick_text(value, money)))
    named = [Series(index=s, name=str(name), total=sum(int(v) for v in values),
                    total_text=_text(sum(int(v) for v in values), money)) for s, (name, values) in enumerate(series)]
    return BarChart(groups=groups, series=named, ticks=ticks, scale_max=scale_max, money=money)


def bar_chart_from_pairs(points: Iterable[tuple[object, int]], *, name: str = "", money: bool = True) -> BarChart:
    """One series from ``[(label, value)]``: ``[("7", 900000), ("8", 950000)]``."""
    points = list(points)
    return bar_chart([label for label, _ in points], [(name, [value for _, value in points])], money=money)


def _read(row, key: str):
    return row[key] if isinstance(row, dict) else getattr(row, key)


def bar_chart_from_rows(rows: Iterable, label_key: str, series: Sequence[tuple[str, str]], *,
                        money: bool = True, drop_zero_series: bool = False) -> BarChart:
    """Rows (dicts or objects) to a chart: ``series`` is [(value_key, name)]; ``label_key`` names each group.
    ``drop_zero_series`` leaves out a series that is 0 everywhere (VAT under the threshold), keeping at least one."""
    rows = list(rows)
    columns = [(name, [int(_read(row, key) or 0) for row in rows]) for key, name in series]
    if drop_zero_series:
        columns = [column for column in columns if any(column[1])] or columns[:1]
    return bar_chart([_read(row, label_key) for row in rows], columns, money=money)


def totals_by_month(items: Iterable, *, when: Callable[[object], date | datetime | None],
                    amount: Callable[[object], int]) -> list[tuple[str, int]]:
    """Sum ``amount`` per calendar month of ``when`` (items without a date are skipped), oldest month first,
    labelled "2026-07". Datetimes are taken in the current time zone."""
    from django.utils import timezone

    sums: dict[tuple[int, int], int] = {}
    for item in items:
        moment = when(item)
        if moment is None:
            continue
        if isinstance(moment, datetime):
            moment = timezone.localtime(moment) if timezone.is_aware(moment) else moment
        key = (moment.year, moment.month)
        sums[key] = sums.get(key, 0) + int(amount(item))
    return [(f"{year}-{month:02d}", total) for (year, month), total in sorted(sums.items())]
