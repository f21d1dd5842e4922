"""The health report's trend chart as a PNG: one small panel per signal, the line dashed in each.

Drawn with matplotlib's object API on the Agg canvas (no display, no pyplot state shared between
threads). matplotlib is imported when a chart is drawn, not when this module is: the cron
`dispatch` that never draws one shouldn't pay half a second to load it.
"""

from __future__ import annotations

import io
import statistics

from coaching.health_chart import NAMES, SHARES, UNITS, HealthChart, SignalSeries, title

MAX_LINES = 8  # more reps than this are drawn as the team's median and range, not one line each
DPI = 100
SIZE = (12, 7.2)  # inches: 1200 × 720 px, readable in Slack's preview and full size


def _tick(day_index: int, chart: HealthChart) -> str:
    return chart.weeks[day_index].strftime("%d %b").lstrip("0")


def _panel(ax: object, series: SignalSeries, chart: HealthChart, names: dict[str, str]) -> None:
    from matplotlib.axes import Axes  # noqa: PLC0415 - see the module docstring
    from matplotlib.ticker import MaxNLocator  # noqa: PLC0415

    assert isinstance(ax, Axes)
    xs = list(range(len(chart.weeks)))
    reps = [r for r in chart.reps if series.values.get(r)]
    if len(reps) <= MAX_LINES:
        for rep in reps:
            values = [series.shown(v) for v in series.values[rep]]
            ax.plot(xs[-len(values):], values, marker="o", markersize=4, linewidth=1.8, label=names.get(rep, rep))
    else:
        weekly = list(zip(*[[series.shown(v) for v in series.values[r]] for r in reps
                            if len(series.values[r]) == len(xs)], strict=False))
        if weekly:
            ax.fill_between(xs, [min(w) for w in weekly], [max(w) for w in weekly], alpha=0.2,
                            label=f"range across {len(reps)} reps")
            ax.plot(xs, [statistics.median(w) for w in weekly], marker="o", linewidth=2, label="median rep")
    ax.axhline(series.shown(series.threshold), color="#c0392b", linestyle="--", linewidth=1.4, label="the line")
    ax.set_title(NAMES[series.signal], fontsize=12, fontweight="bold")
    ax.set_ylabel(UNITS[series.signal], fontsize=9)
    ax.set_xticks(xs, [_tick(i, chart) for i in xs], fontsize=8, rotation=30)
    if series.signal not in SHARES:
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))  # counts of touches and of days
    ax.tick_params(axis="y", labelsize=8)
    ax.set_ylim(bottom=0, top=max(ax.get_ylim()[1], series.shown(series.threshold) * 1.25))
    ax.grid(True, alpha=0.3)


def chart_png(chart: HealthChart, names: dict[str, str]) -> bytes:
    """The chart as PNG bytes, with a title, a labelled axis per panel, local dates and one legend."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: PLC0415 - see the module docstring
    from matplotlib.figure import Figure  # noqa: PLC0415

    fig = Figure(figsize=SIZE, dpi=DPI)
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 3)
    for ax, series in zip(axes.flat, chart.signals, strict=False):
        _panel(ax, series, chart, names)
    for ax in list(axes.flat)[len(chart.signals):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.suptitle(title(chart), fontsize=15, fontweight="bold")
    fig.supxlabel("Week ending (your local dates, oldest on the left)", fontsize=10, y=0.055)
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 5), fontsize=9, frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.08, 1, 0.95))
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()
