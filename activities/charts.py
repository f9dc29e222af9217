"""Charts as inline SVG: pure functions from numbers to markup, drawn on the server.

The page's CSP blocks inline styles and scripts, so every chart uses presentation attributes only
(fill, x, y, width ...). Labels come from users (unit names, titles): format_html escapes each one.
Each bar carries data-category, data-series and data-value, so that a test (or a reader of the source)
can check what was drawn.
"""

import math
from decimal import Decimal

from django.utils.html import format_html, format_html_join

# Distinct colours, readable on white; a series keeps its colour across charts by its index.
PALETTE = [
    "#a4161a",
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
]
FONT = 12
AXIS = "#6c757d"
GRID = "#dee2e6"


def colour(index):
    return PALETTE[index % len(PALETTE)]


def text_width(text, size=FONT):
    """Estimate a label's width: CJK characters are about square, Latin ones about half as wide."""
    return sum(size if ord(char) > 0x2E80 else size * 0.6 for char in str(text))


def shorten(text, width, size=FONT):
    """Cut a label to fit `width`, ending with an ellipsis when something was cut."""
    text = str(text)
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text + "…"


def nice_step(value, ticks=4):
    """Return a round whole tick step (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) so that `ticks` steps
    reach `value`."""
    raw = float(value) / ticks
    if raw <= 1:
        return 1
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        step = factor * power
        if step == int(step) and step >= raw:
            return int(step)
    return int(10 * power)


def nice_max(value, ticks=4):
    """The top of a value axis: `ticks` round steps at or above `value`."""
    return nice_step(value, ticks) * ticks


def plain_number(value):
    """1234 -> '1,234'; 1234.5 -> '1,234.50'."""
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.2f}"
    return f"{int(value):,}"


def _r(number):
    """Round a coordinate to one decimal: short markup, no float noise."""
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _svg(*, width, height, title, body):
    return format_html(
        '<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" width="100%" '
        'role="img" aria-label="{}" font-size="{}" font-family="sans-serif"><title>{}</title>{}</svg>',
        _r(width),
        _r(height),
        title,
        FONT,
        title,
        body,
    )


def _bar(*, x, y, width, height, fill, category, series, value, label):
    return format_html(
        '<rect class="bar" x="{}" y="{}" width="{}" height="{}" fill="{}" data-category="{}" data-series="{}" '
        'data-value="{}"><title>{}</title></rect>',
        _r(x),
        _r(y),
        _r(width),
        _r(height),
        fill,
        category,
        series,
        value,
        label,
    )


def _y_axis(*, top, left, right, plot_height, maximum, fmt, ticks=4):
    lines = []
    for step in range(ticks + 1):
        value = maximum // ticks * step
        y = top + plot_height - plot_height * step / ticks
        lines.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="1"/>'
                '<text x="{}" y="{}" text-anchor="end" fill="{}">{}</text>',
                _r(left),
                _r(y),
                _r(right),
                _r(y),
                GRID,
                _r(left - 6),
                _r(y + 4),
                AXIS,
                fmt(int(value)),
            )
        )
    return format_html_join("", "{}", ((line,) for line in lines))


def _legend(*, labels, fills, left, top, width):
    """Lay the legend out in rows under the plot; return (markup, height used)."""
    items, x, y = [], left, top
    for label, fill in zip(labels, fills, strict=True):
        item_width = 14 + text_width(label) + 16
        if x + item_width > left + width and x > left:
            x, y = left, y + 18
        items.append(
            format_html(
                '<rect x="{}" y="{}" width="10" height="10" fill="{}"/><text x="{}" y="{}">{}</text>',
                _r(x),
                _r(y),
                fill,
                _r(x + 14),
                _r(y + 9),
                label,
            )
        )
        x += item_width
    markup = format_html_join("", "{}", ((item,) for item in items))
    return markup, (y - top + 18) if labels else 0


def stacked_bars(*, categories, series, title, fmt=plain_number, width=720, plot_height=220, colours=None):
    """Draw one column per category with one segment per series value above zero.

    categories: the x labels (e.g. 1月 … 12月); series: (label, values) pairs, one value per category;
    colours: one fill per series (default: the palette in order), so that a series keeps its colour across charts.
    """
    totals = [sum((values[i] for _, values in series), 0) for i in range(len(categories))]
    return _columns(
        categories=categories,
        series=series,
        title=title,
        fmt=fmt,
        width=width,
        plot_height=plot_height,
        colours=colours,
        left=48,
        maximum=nice_max(max(totals, default=0)),
        stacked=True,
    )


def grouped_bars(*, categories, series, title, fmt=plain_number, width=720, plot_height=200, colours=None):
    """Draw, for each category, one bar per series side by side (e.g. money and goods per occasion)."""
    return _columns(
        categories=categories,
        series=series,
        title=title,
        fmt=fmt,
        width=width,
        plot_height=plot_height,
        colours=colours,
        left=64,
        maximum=nice_max(max((v for _, values in series for v in values), default=0)),
        stacked=False,
    )


def _columns(*, categories, series, title, fmt, width, plot_height, colours, left, maximum, stacked):
    """A column chart: the series' values stacked in one column per category, or side by side."""
    fills = colours or [colour(index) for index in range(len(series))]
    right_pad, top = 10, 12
    plot_width = width - left - right_pad
    slot = plot_width / max(len(categories), 1)
    group_width = slot * (0.6 if stacked else 0.7)
    bar_width = group_width if stacked else group_width / max(len(series), 1)
    bars, labels = [], []
    for i, category in enumerate(categories):
        x = left + slot * i + (slot - group_width) / 2
        base = top + plot_height
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            height = plot_height * float(value) / maximum
            if stacked:
                base -= height
                box = {"x": x, "y": base, "width": bar_width}
            else:
                box = {"x": x + bar_width * s, "y": top + plot_height - height, "width": bar_width * 0.9}
            bars.append(
                _bar(
                    **box,
                    height=height,
                    fill=fills[s],
                    category=category,
                    series=name,
                    value=value,
                    label=f"{category} {name}：{fmt(value)}",
                )
            )
        labels.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle" fill="{}">{}</text>',
                _r(left + slot * i + slot / 2),
                _r(top + plot_height + 16),
                AXIS,
                shorten(category, slot),
            )
        )
    legend, legend_height = _legend(
        labels=[name for name, _ in series], fills=fills, left=left, top=top + plot_height + 28, width=plot_width
    )
    height = top + plot_height + 28 + legend_height + 4
    body = format_html(
        "{}{}{}{}",
        _y_axis(top=top, left=left, right=width - right_pad, plot_height=plot_height, maximum=maximum, fmt=fmt),
        format_html_join("", "{}", ((bar,) for bar in bars)),
        format_html_join("", "{}", ((label,) for label in labels)),
        legend,
    )
    return _svg(width=width, height=height, title=title, body=body)


def horizontal_bars(*, rows, title, fmt=plain_number, maximum=None, width=720, label_width=160, colours=None):
    """Draw one bar per (label, value) row, longest scale = `maximum` (default: the largest value).

    colours: optional list with one fill per row (e.g. red for a plan that lags).
    """
    row_height, top, right_pad = 24, 4, 90
    plot_width = width - label_width - right_pad
    scale = float(maximum) if maximum else float(max((v for _, v in rows), default=0))
    parts = []
    for i, (label, value) in enumerate(rows):
        y = top + row_height * i
        bar_width = plot_width * min(float(value), scale) / scale if scale else 0
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>',
                _r(label_width - 8),
                _r(y + 16),
                shorten(label, label_width - 12),
            )
        )
        parts.append(
            _bar(
                x=label_width,
                y=y + 4,
                width=bar_width,
                height=row_height - 8,
                fill=colours[i] if colours else colour(0),
                category=label,
                series=title,
                value=value,
                label=f"{label}：{fmt(value)}",
            )
        )
        parts.append(
            format_html(
                '<text x="{}" y="{}" fill="{}">{}</text>', _r(label_width + bar_width + 6), _r(y + 16), AXIS, fmt(value)
            )
        )
    height = top + row_height * max(len(rows), 1) + 4
    body = format_html(
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}"/>{}',
        label_width,
        top,
        label_width,
        _r(height - 4),
        AXIS,
        format_html_join("", "{}", ((part,) for part in parts)),
    )
    return _svg(width=width, height=height, title=title, body=body)
