"""SVG charts: pure functions from numbers to markup."""

import xml.etree.ElementTree as ET
from decimal import Decimal

import pytest

from activities import charts

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg):
    root = ET.fromstring(str(svg))
    return [
        {**rect.attrib, "title": rect.find(f"{SVG}title").text}
        for rect in root.iter(f"{SVG}rect")
        if rect.get("class") == "bar"
    ]


def test_stacked_bars_draw_one_segment_per_nonzero_value_with_heights_in_proportion():
    svg = charts.stacked_bars(
        categories=["1月", "2月", "3月"],
        series=[("座谈会", [2, 0, 1]), ("宣传教育", [3, 4, 0])],
        title="各月活动",
    )
    bars = _bars(svg)
    assert [(b["data-category"], b["data-series"], b["data-value"]) for b in bars] == [
        ("1月", "座谈会", "2"),
        ("1月", "宣传教育", "3"),
        ("2月", "宣传教育", "4"),
        ("3月", "座谈会", "1"),
    ]
    per_unit = {round(float(b["height"]) / int(b["data-value"]), 3) for b in bars}
    assert len(per_unit) == 1
    # Segments of a month stack: the second starts where the first ends.
    first, second = bars[0], bars[1]
    assert float(second["y"]) + float(second["height"]) == pytest.approx(float(first["y"]), abs=0.1)


def test_grouped_bars_put_money_and_goods_side_by_side():
    svg = charts.grouped_bars(
        categories=["春节", "八一"],
        series=[("慰问金", [Decimal("1000.50"), Decimal("3000")]), ("物品折价", [Decimal("0"), Decimal("500")])],
        title="各时机",
    )
    bars = _bars(svg)
    assert [(b["data-category"], b["data-series"]) for b in bars] == [
        ("春节", "慰问金"),
        ("八一", "慰问金"),
        ("八一", "物品折价"),
    ]
    heights = {b["data-value"]: float(b["height"]) for b in bars}
    assert heights["3000"] / heights["500"] == pytest.approx(6, rel=0.01)
    assert heights["3000"] / heights["1000.50"] == pytest.approx(3000 / 1000.5, rel=0.01)


def test_horizontal_bars_scale_to_the_maximum_given():
    svg = charts.horizontal_bars(rows=[("东村", 50), ("西村", 100), ("南村", 130)], title="完成度", maximum=100)
    widths = [float(b["width"]) for b in _bars(svg)]
    assert widths[1] == pytest.approx(2 * widths[0], rel=0.01)
    assert widths[2] == widths[1]


def test_labels_are_escaped():
    evil = '<script>alert(1)</script>"&'
    for svg in (
        charts.stacked_bars(categories=[evil], series=[(evil, [1])], title=evil),
        charts.grouped_bars(categories=[evil], series=[(evil, [1])], title=evil),
        charts.horizontal_bars(rows=[(evil, 1)], title=evil),
    ):
        assert "<script>" not in svg
        assert "&lt;script&gt;" in svg
        ET.fromstring(str(svg))


def test_charts_use_no_inline_style():
    svg = charts.stacked_bars(categories=["1月"], series=[("会议", [1])], title="t")
    svg += charts.horizontal_bars(rows=[("a", 1)], title="t")
    assert "style=" not in svg and "<script" not in svg


def test_empty_data_draws_an_empty_chart():
    assert _bars(charts.stacked_bars(categories=["1月", "2月"], series=[], title="t")) == []
    assert _bars(charts.horizontal_bars(rows=[], title="t")) == []


@pytest.mark.parametrize(
    ("value", "top"), [(0, 4), (1, 4), (4, 4), (5, 8), (9, 12), (37, 40), (100, 100), (101, 120), (2350, 2400)]
)
def test_the_value_axis_ends_on_a_round_number(value, top):
    assert charts.nice_max(value) == top


def test_long_labels_are_shortened():
    assert charts.shorten("示例县人民武装部民兵训练基地", 60).endswith("…")
    assert charts.shorten("东村", 60) == "东村"
