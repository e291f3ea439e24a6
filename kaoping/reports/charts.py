"""Charts of a report, drawn on the server as PNG bytes for the PDF and the Word file.

matplotlib with the Agg backend (no display) and the Noto Sans CJK font from the Debian package
fonts-noto-cjk: the font is looked up once, by name, through fontconfig's matching in
matplotlib's font manager; a machine without it fails with a message saying what to install
rather than drawing boxes for every Chinese character.
"""

import io
from functools import lru_cache

import matplotlib

matplotlib.use("Agg")

from matplotlib import font_manager  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

FONT_FAMILY = "Noto Sans CJK SC"
# Colours of the product's lists: red for 红榜, near-black for 黑榜, green for progress.
RED, BLACK, GREEN, BLUE, GREY = "#c0392b", "#2c3e50", "#27ae60", "#2e6da4", "#95a5a6"
DPI = 150


class ChartFontMissing(RuntimeError):
    pass


@lru_cache(maxsize=1)
def cjk_font() -> font_manager.FontProperties:
    """The Noto Sans CJK font, or ChartFontMissing naming the package that brings it."""
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=FONT_FAMILY), fallback_to_default=False
        )
    except ValueError:
        path = ""
    if not path or "CJK" not in path:
        raise ChartFontMissing(
            f"The font “{FONT_FAMILY}” is not installed: install the Debian package "
            "fonts-noto-cjk (apt-get install fonts-noto-cjk) so that charts can show Chinese."
        )
    return font_manager.FontProperties(fname=path)


def _figure(width: float = 7.0, height: float = 3.2) -> tuple[Figure, object]:
    figure = Figure(figsize=(width, height), dpi=DPI)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def _label(axes, title: str, font) -> None:
    axes.set_title(title, fontproperties=font, fontsize=12)
    for text in [*axes.get_xticklabels(), *axes.get_yticklabels()]:
        text.set_fontproperties(font)
        text.set_fontsize(8)


def bar_chart(
    title: str,
    names: list[str],
    values: list[float],
    *,
    colours: list[str] | None = None,
    legend: list[tuple[str, str]] | None = None,
) -> bytes:
    """Horizontal bars, first name on top: totals of the ranking, places gained or lost.
    `legend` names what the colours mean, (label, colour) each."""
    from matplotlib.patches import Patch

    font = cjk_font()
    height = max(2.4, 0.32 * len(names) + 1.0)
    figure, axes = _figure(height=height)
    positions = list(range(len(names)))[::-1]
    axes.barh(positions, values, color=colours or BLUE)
    axes.set_yticks(positions, labels=names)
    for position, value in zip(positions, values, strict=True):
        axes.text(
            value,
            position,
            f" {value:g} " if value >= 0 else f"{value:g} ",
            va="center",
            ha="left" if value >= 0 else "right",
            fontsize=7,
        )
    if legend:
        small = font.copy()
        small.set_size(8)
        axes.legend(
            handles=[Patch(color=colour, label=label) for label, colour in legend],
            prop=small,
            loc="lower right",
            frameon=False,
        )
    _label(axes, title, font)
    return _png(figure)


def movement_chart(title: str, names: list[str], moves: list[int]) -> bytes:
    """Places gained (green, right) and lost (red, left) since the previous period."""
    colours = [GREEN if move > 0 else RED for move in moves]
    return bar_chart(title, names, [float(m) for m in moves], colours=colours)


def count_chart(title: str, labels: list[str], counts: list[int], colours: list[str]) -> bytes:
    """Vertical bars of a few counts: members of each list, subjects per grade."""
    font = cjk_font()
    figure, axes = _figure(height=2.8)
    axes.bar(range(len(labels)), counts, color=colours)
    axes.set_xticks(range(len(labels)), labels=labels)
    for x, count in enumerate(counts):
        axes.text(x, count, str(count), ha="center", va="bottom", fontsize=8)
    _label(axes, title, font)
    return _png(figure)


def line_chart(title: str, labels: list[str], values: list[float]) -> bytes:
    """A subject's total over the periods of a year."""
    font = cjk_font()
    figure, axes = _figure(height=2.8)
    axes.plot(range(len(labels)), values, marker="o", color=RED)
    axes.set_xticks(range(len(labels)), labels=labels)
    _label(axes, title, font)
    return _png(figure)
