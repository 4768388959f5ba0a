"""The console's server-rendered SVG charts (services/gateway/console/charts.py): well-formed SVG, every text from
data escaped, an empty chart that says so, bars in proportion to their values, lines broken where a value is
missing, and each bar and point named by a <title>."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from markupsafe import Markup

from services.gateway.console import charts

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 - the helper's own output, to check it is well-formed


def titles(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}title")]


def bar_widths(root: ET.Element) -> list[float]:
    return [float(r.get("width", "0")) for r in root.iter(f"{SVG}rect")]


def test_a_bar_chart_is_an_image_named_by_its_title_with_a_title_for_each_bar():
    svg = charts.bars([("城关镇", 5), ("东河乡", 12)], title="各乡镇信访件数")
    assert isinstance(svg, Markup)
    root = parsed(svg)
    assert root.get("role") == "img"
    assert root.get("aria-label") == "各乡镇信访件数"
    assert titles(root) == ["各乡镇信访件数", "城关镇：5件", "东河乡：12件"]
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert texts == ["城关镇", "5件", "东河乡", "12件"]


def test_bars_are_in_proportion_to_their_values_the_largest_the_longest():
    root = parsed(charts.bars([("甲", 10), ("乙", 5), ("丙", 0), ("丁", 2.5)], title="比例"))
    full, half, zero, quarter = bar_widths(root)
    assert full > 0
    assert abs(half / full - 0.5) < 0.01
    assert zero == 0
    assert abs(quarter / full - 0.25) < 0.01
    assert full <= charts.BAR_WIDTH


def test_a_given_maximum_scales_the_bars_and_nothing_overflows_it():
    root = parsed(charts.bars([("甲", 50), ("乙", 150)], title="比例", maximum=100))
    half, whole = bar_widths(root)
    assert abs(half / whole - 0.5) < 0.01  # 150 is drawn as the maximum, not beyond it


def test_missing_and_negative_values_have_no_bar_and_read_as_written():
    root = parsed(charts.bars([("甲", None), ("乙", -3), ("丙", 4)], title="缺失"))
    assert bar_widths(root)[:2] == [0, 0]
    assert "甲：—" in titles(root)


def test_all_zero_values_draw_no_bar_and_do_not_divide_by_zero():
    root = parsed(charts.bars([("甲", 0), ("乙", 0)], title="零"))
    assert bar_widths(root) == [0, 0]


def test_every_text_from_data_is_escaped():
    nasty = '<script>alert("x")</script>&'
    for svg in (charts.bars([(nasty, 1)], title=nasty, unit=nasty),
                charts.lines({nasty: [(nasty, 0.5)]}, title=nasty, fmt=charts.percent)):
        assert "<script>" not in svg
        root = parsed(svg)  # still well-formed
        assert root.get("aria-label") == nasty
        assert any(nasty in t for t in titles(root))


def test_an_empty_chart_says_there_is_nothing_to_show():
    for svg in (charts.bars([], title="空"), charts.lines({}, title="空"),
                charts.lines({"满意率": [("2026年1月", None)]}, title="空")):
        root = parsed(svg)
        assert root.get("aria-label") == "空"
        assert [t.text for t in root.iter(f"{SVG}text")] == [charts.EMPTY]


def test_a_line_chart_draws_each_series_and_breaks_a_line_where_a_value_is_missing():
    svg = charts.lines({"及时受理率": [("2026年1月", 0.5), ("2026年2月", None), ("2026年3月", 1.0)],
                        "满意率": [("2026年1月", 0.25), ("2026年2月", 0.75), ("2026年3月", 1.0)]},
                       title="考核指标趋势", fmt=charts.percent, tick_fmt=charts.whole_percent, maximum=1)
    root = parsed(svg)
    paths = [p.get("d", "") for p in root.iter(f"{SVG}path")]
    assert len(paths) == 2
    assert "L" not in paths[0] and paths[0].count("M") == 2  # two points, no segment across the missing month
    assert paths[1].count("L") == 2
    assert "及时受理率 2026年1月：50.0%" in titles(root)
    assert "满意率 2026年2月：75.0%" in titles(root)
    assert not any("2026年2月：—" in t for t in titles(root))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert {"0%", "50%", "100%", "及时受理率", "满意率", "2026年1月"} <= set(texts)


def test_points_are_placed_in_proportion_from_the_axis():
    root = parsed(charts.lines({"件数": [("1月", 0), ("2月", 5), ("3月", 10)]}, title="件数"))
    numbers = [float(n) for n in re.findall(r"[-\d.]+", next(root.iter(f"{SVG}path")).get("d", ""))]
    (x0, y0), (x1, y1), (x2, y2) = zip(numbers[0::2], numbers[1::2], strict=True)
    assert x0 < x1 < x2 and abs((x1 - x0) - (x2 - x1)) < 0.2
    assert y0 > y1 > y2 and abs((y0 - y1) - (y1 - y2)) < 0.2  # up is more; 5 halfway to 10


def test_the_tick_labels_may_be_shortened_while_titles_keep_the_whole_label():
    root = parsed(charts.lines({"件数": [("2026年1月", 1), ("2026年2月", 2)]}, title="件数",
                               tick_label=lambda label: label[5:]))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    assert "1月" in texts and "2026年1月" not in texts
    assert "件数 2026年1月：1" in titles(root)


def test_no_inline_style_the_console_policy_would_refuse():
    svg = str(charts.bars([("甲", 1)], title="t")) + str(charts.lines({"a": [("x", 1)]}, title="t"))
    assert "style=" not in svg and "<script" not in svg
