"""What every dashboard figure shares: a CJK-capable font, a size, the month axis, PNG bytes.

Figures are built on `matplotlib.figure.Figure` directly (no pyplot state), so two sessions of
the app can draw at once. The font list puts a Chinese font first when the machine has one
(scripts/setup.sh installs WenQuanYi Micro Hei); Latin text renders with it too.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from dashboard.i18n import name
from sim.rollout import Phase

_CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "SimHei", "Microsoft YaHei")
DPI = 100
PHASE_SHADES = ("#f2f2f2", "#ffffff")
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f")
MET, MISSED, PENDING = "#2ca02c", "#d62728", "#999999"


_CJK_FILES = ("wqy-microhei", "wqy-zenhei", "NotoSansCJK", "NotoSansSC")


def _font_family() -> list[str]:
    installed = {f.name for f in font_manager.fontManager.ttflist}
    if not installed.intersection(_CJK_FONTS):
        # matplotlib's font cache may predate the font's installation: register it by file
        for path in font_manager.findSystemFonts():
            if any(mark in path for mark in _CJK_FILES):
                font_manager.fontManager.addfont(path)
        installed = {f.name for f in font_manager.fontManager.ttflist}
    return [f for f in _CJK_FONTS if f in installed] + ["DejaVu Sans"]


FONT_FAMILY = _font_family()


def new_figure(width_in: float, height_in: float, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, layout="constrained")
    axes = fig.subplots(1, ncols, squeeze=False)[0]
    return fig, list(axes)


def apply_font(fig: Figure) -> None:
    """Set the font family on every text of the figure (rcParams would be process-global)."""
    for text in fig.findobj(match=lambda a: hasattr(a, "set_fontfamily")):
        text.set_fontfamily(FONT_FAMILY)  # type: ignore[attr-defined]


def to_png(fig: Figure) -> bytes:
    apply_font(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def month_axis(ax: Axes, months: Sequence[str]) -> None:
    """The x axis: month indices, labelled every January (or every month for a short run)."""
    ax.set_xlim(-0.5, len(months) - 0.5)
    every = 1 if len(months) <= 12 else 12
    ticks = [i for i, m in enumerate(months) if every == 1 or m.endswith("-01")] or [0]
    ax.set_xticks(ticks, [months[i] if every == 1 else months[i][:4] for i in ticks])


def shade_phases(ax: Axes, months: Sequence[str], phases: Sequence[Phase], lang: str) -> None:
    """Alternate grey bands, one per phase, named at the top of the axes."""
    for n, phase in enumerate(phases):
        span = [i for i, m in enumerate(months) if phase.start_month <= m <= phase.end_month]
        if not span:
            continue
        ax.axvspan(span[0] - 0.5, span[-1] + 0.5, color=PHASE_SHADES[n % 2], zorder=0)
        ax.text(
            (span[0] + span[-1]) / 2,
            1.0,
            name(phase.name, lang),
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=7,
            color="#555555",
        )


def now_line(ax: Axes, index: int) -> None:
    ax.axvline(index, color="#333333", linewidth=1, linestyle=":")
