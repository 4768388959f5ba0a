"""Charts for the supervisor's pages, drawn on the server as SVG (no script, no library from elsewhere): horizontal
bars and lines from (label, value) pairs.

Each chart is an `<svg role="img">` named by its `aria-label` and `<title>`, each bar and each point carries a
`<title>` with its label and value (shown as a tooltip), and every text in it — labels come from data and reference
files — is escaped. Colours are presentation attributes, never `style` (the console's Content-Security-Policy allows no
inline style). A chart is for those who look: the page puts a table with the same figures beside it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from markupsafe import Markup, escape

Number = int | float
Pair = tuple[str, Number | None]
Format = Callable[[Number], str]

WIDTH = 640  # a line chart's width (it takes the page's width)
BAR_WIDTH = 480  # a bar chart's (beside its table): drawn about at its own size, so its text stays legible
FONT = 14  # px: the chart's text (scaled with the chart)
TEXT = "#1b1b1b"  # 16.9:1 on white
MUTED = "#4a4a4a"  # 8.9:1
GRID = "#c8c8c8"
BAR = "#0b57a4"  # 7.0:1 on white (non-text contrast needs 3:1)
EMPTY = "暂无数据"
# Each line its colour (all at least 4.5:1 on white) and its dash pattern, so lines differ without colour too.
LINE_STYLES = (("#0b57a4", ""), ("#a4001c", "8 4"), ("#1d6b33", "2 3"), ("#7a4b00", "10 3 2 3"),
               ("#5b2a86", "4 4"))
MARKERS = ("circle", "square", "diamond", "triangle", "circle")


def number(value: Number) -> str:
    """A count as written: 12, 3.5."""
    return str(value) if isinstance(value, int) else f"{value:g}"


def percent(value: Number) -> str:
    """A rate (0..1) as a percentage with one decimal: 60.0%."""
    return f"{value * 100:.1f}%"


def whole_percent(value: Number) -> str:
    """An axis tick of rates: 25%."""
    return f"{value * 100:.0f}%"


def text_width(text: str, size: float = FONT) -> float:
    """About how wide `text` is drawn (generously): a CJK character is one em, anything else about 0.65 em."""
    return sum(size if ord(ch) >= 0x2E80 else size * 0.65 for ch in text)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _svg(title: str, width: float, height: float, body: str, css_class: str) -> Markup:
    # Every text in `body` and `title` is escaped where it is written (escape()); numbers are formatted here.
    return Markup(  # noqa: S704 - built only from escaped text and numbers
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css_class}" viewBox="0 0 {_num(width)} {_num(height)}" '
        f'width="{_num(width)}" height="{_num(height)}" role="img" aria-label="{escape(title)}" focusable="false">'
        f'<title>{escape(title)}</title>{body}</svg>')


def _empty(title: str, css_class: str, width: int = WIDTH) -> Markup:
    return _svg(title, width, 40, f'<text x="8" y="26" font-size="{FONT}" fill="{MUTED}">{EMPTY}</text>',
                css_class)


def bars(pairs: Sequence[Pair], *, title: str, unit: str = "件", fmt: Format = number,
         maximum: Number | None = None, width: int = BAR_WIDTH) -> Markup:
    """A horizontal bar per (label, value), in the order given: each bar's length is its value over the largest
    (or `maximum`), its value written at its end; a value of None has no bar and reads —, a negative one no bar."""
    if not pairs:
        return _empty(title, "bars", width)
    row, bar, pad = 28, 18, 8
    values = [v for _, v in pairs if v is not None]
    top = maximum if maximum is not None else max([0, *values])
    written = [fmt(v) + unit if v is not None else "—" for _, v in pairs]
    label_width = min(max(text_width(label) for label, _ in pairs), width * 0.4) + 2 * pad
    value_width = max(text_width(w) for w in written) + pad
    plot = max(width - label_width - value_width - pad, 60)
    height = len(pairs) * row + pad
    parts = [f'<line x1="{_num(label_width)}" y1="{pad // 2}" x2="{_num(label_width)}" y2="{height - pad // 2}" '
             f'stroke="{MUTED}" stroke-width="1"/>']
    for i, ((label, value), words) in enumerate(zip(pairs, written, strict=True)):
        y = pad // 2 + i * row
        length = plot * max(value, 0) / top if value is not None and top > 0 else 0
        length = min(length, plot)
        middle = y + row / 2 + FONT * 0.35
        parts.append(
            f'<g><title>{escape(label)}：{escape(words)}</title>'
            f'<text x="{_num(label_width - pad)}" y="{_num(middle)}" text-anchor="end" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(label)}</text>'
            f'<rect x="{_num(label_width)}" y="{_num(y + (row - bar) / 2)}" width="{_num(length)}" height="{bar}" '
            f'fill="{BAR}"/>'
            f'<text x="{_num(label_width + length + 4)}" y="{_num(middle)}" font-size="{FONT}" '
            f'fill="{TEXT}">{escape(words)}</text></g>')
    return _svg(title, width, height, "".join(parts), "bars")


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{_num(x - 4)}" y="{_num(y - 4)}" width="8" height="8" fill="{colour}"/>'
    if kind == "diamond":
        return (f'<polygon points="{_num(x)},{_num(y - 5)} {_num(x + 5)},{_num(y)} {_num(x)},{_num(y + 5)} '
                f'{_num(x - 5)},{_num(y)}" fill="{colour}"/>')
    if kind == "triangle":
        return (f'<polygon points="{_num(x)},{_num(y - 5)} {_num(x + 5)},{_num(y + 4)} {_num(x - 5)},{_num(y + 4)}" '
                f'fill="{colour}"/>')
    return f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{colour}"/>'


def lines(series: Mapping[str, Sequence[Pair]], *, title: str, fmt: Format = number,
          maximum: Number | None = None, ticks: int = 4, tick_label: Callable[[str], str] | None = None,
          tick_fmt: Format | None = None) -> Markup:
    """A line per series (name -> (label, value) pairs; the first series' labels along the bottom, the others'
    values taken in the same order), from 0 up to `maximum` (by default the largest value). A value of None breaks
    its line (a month with nothing to count); each point's <title> names the series, the label and the value.
    `tick_label` shortens the labels written under the axis (the titles keep them whole); `tick_fmt` writes the
    values beside it (by default `fmt`)."""
    named = [(name, list(pairs)) for name, pairs in series.items()]
    labels = [label for label, _ in named[0][1]] if named else []
    values = [v for _, pairs in named for _, v in pairs if v is not None]
    if not labels or not values:
        return _empty(title, "lines")
    top = maximum if maximum is not None else max(values)
    top = top if top > 0 else 1
    tick_texts = [(tick_fmt or fmt)(top * i / ticks) for i in range(ticks + 1)]
    left = max(text_width(t, FONT) for t in tick_texts) + 12
    right, upper, plot_height = 40, 12, 200
    bottom_axis = upper + plot_height
    legend_row = 22
    per_row = max(1, int((WIDTH - left) // 170))
    legend_rows = -(-len(named) // per_row)
    height = bottom_axis + 30 + legend_rows * legend_row + 6
    plot_width = WIDTH - left - right
    step = plot_width / (len(labels) - 1) if len(labels) > 1 else 0

    def x_of(i: int) -> float:
        return left + (i * step if len(labels) > 1 else plot_width / 2)

    def y_of(v: Number) -> float:
        return bottom_axis - plot_height * min(max(v, 0), top) / top

    parts = []
    for i, text in enumerate(tick_texts):
        y = bottom_axis - plot_height * i / ticks
        parts.append(f'<line x1="{_num(left)}" y1="{_num(y)}" x2="{_num(WIDTH - right)}" y2="{_num(y)}" '
                     f'stroke="{GRID if i else MUTED}" stroke-width="1"/>'
                     f'<text x="{_num(left - 6)}" y="{_num(y + FONT * 0.35)}" text-anchor="end" font-size="{FONT}" '
                     f'fill="{MUTED}">{escape(text)}</text>')
    every = max(1, -(-len(labels) * 64 // plot_width))  # a label every `every` points, so they never overlap
    for i, label in enumerate(labels):
        if i % every == 0:
            shown = tick_label(label) if tick_label else label
            parts.append(f'<text x="{_num(x_of(i))}" y="{_num(bottom_axis + 20)}" text-anchor="middle" '
                         f'font-size="{FONT}" fill="{MUTED}">{escape(shown)}</text>')
    for n, (name, pairs) in enumerate(named):
        colour, dash = LINE_STYLES[n % len(LINE_STYLES)]
        marker = MARKERS[n % len(MARKERS)]
        path, pen_down = [], False
        points = []
        for i, (_label, value) in enumerate(pairs[:len(labels)]):
            if value is None:
                pen_down = False
                continue
            x, y = x_of(i), y_of(value)
            path.append(f"{'L' if pen_down else 'M'}{_num(x)} {_num(y)}")
            pen_down = True
            points.append(f'<g><title>{escape(name)} {escape(labels[i])}：{escape(fmt(value))}</title>'
                          f'{_marker(marker, x, y, colour)}</g>')
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        if path:
            parts.append(f'<path d="{" ".join(path)}" fill="none" stroke="{colour}" stroke-width="2.5"{dashes}/>')
        parts.extend(points)
        lx = left + (n % per_row) * 170
        ly = bottom_axis + 30 + (n // per_row) * legend_row + legend_row / 2
        parts.append(f'<g><line x1="{_num(lx)}" y1="{_num(ly)}" x2="{_num(lx + 28)}" y2="{_num(ly)}" '
                     f'stroke="{colour}" stroke-width="2.5"{dashes}/>{_marker(marker, lx + 14, ly, colour)}'
                     f'<text x="{_num(lx + 34)}" y="{_num(ly + FONT * 0.35)}" font-size="{FONT}" '
                     f'fill="{TEXT}">{escape(name)}</text></g>')
    return _svg(title, WIDTH, height, "".join(parts), "lines")
