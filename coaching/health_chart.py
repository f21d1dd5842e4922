"""The health report's trend chart as data: one series per signal and rep, and the words for it. Pure.

The PNG itself is drawn in `handlers.render.chart`; this module decides what is drawn (the
weekly values in each signal's own unit, the line, the manager's local dates) and states the
same figures in words for the image's alt text, so nothing the picture shows is lost to someone
who cannot see it. The chart travels in an outbox row, so it converts to and from JSON.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from coaching.drift import LOWER_IS_WORSE, SIGNALS, Signal

NAMES: Mapping[Signal, str] = {"frequency": "Frequency", "tone": "Tone", "coverage": "Coverage",
                               "feedback": "Feedback", "fatigue": "Fatigue", "contact_gap": "Contact gap"}
# Signals whose value is a share (0–1), shown as a percentage.
SHARES: frozenset[Signal] = frozenset({"tone", "coverage", "feedback", "fatigue"})
UNITS: Mapping[Signal, str] = {"frequency": "touches in 7 days", "tone": "% pressing questions",
                               "coverage": "% on one goal", "feedback": "% acknowledged",
                               "fatigue": "% skipped or snoozed", "contact_gap": "days since contact"}
ALT_TEXT_CHARS = 1000  # files.getUploadURLExternal refuses a longer alt_txt
NAMED_REPS = 6  # up to this many reps are named in the alt text (if it fits); more are given as a range


@dataclass(frozen=True)
class SignalSeries:
    signal: Signal
    threshold: float
    values: Mapping[str, tuple[float, ...]]  # rep id -> weekly values, oldest first

    def shown(self, value: float) -> float:
        """A value in the unit the chart and its words use (percent for shares)."""
        return value * 100 if self.signal in SHARES else value

    def over(self, value: float) -> bool:
        if self.signal in LOWER_IS_WORSE:
            return value < self.threshold
        return value > self.threshold


@dataclass(frozen=True)
class HealthChart:
    weeks: tuple[dt.date, ...]  # the manager's local date of each point, oldest first
    reps: tuple[str, ...]
    signals: tuple[SignalSeries, ...]


def week_dates(now: dt.datetime, weeks: int, zone: ZoneInfo) -> tuple[dt.date, ...]:
    """The local date of each weekly point: the last is today, each earlier one 7 days before."""
    return tuple((now - dt.timedelta(weeks=back)).astimezone(zone).date() for back in range(weeks - 1, -1, -1))


def health_chart(reps: Sequence[tuple[str, Mapping[Signal, Sequence[float]], Mapping[Signal, float]]],
                 now: dt.datetime, zone: ZoneInfo) -> HealthChart | None:
    """From each rep's (id, weekly series, threshold per signal); None when there is nothing to draw."""
    with_trend = [(rep, series, lines) for rep, series, lines in reps if any(series.get(s) for s in SIGNALS)]
    if not with_trend:
        return None
    length = max(len(series.get(s) or ()) for _, series, _ in with_trend for s in SIGNALS)
    signals = tuple(SignalSeries(
        signal=signal, threshold=with_trend[0][2][signal],
        values={rep: tuple(series.get(signal) or ()) for rep, series, _ in with_trend if series.get(signal)})
        for signal in SIGNALS)
    return HealthChart(weeks=week_dates(now, length, zone), reps=tuple(r for r, _, _ in with_trend), signals=signals)


def to_payload(chart: HealthChart) -> dict[str, Any]:
    return {"weeks": [d.isoformat() for d in chart.weeks], "reps": list(chart.reps),
            "signals": {s.signal: {"threshold": s.threshold, "values": {r: list(v) for r, v in s.values.items()}}
                        for s in chart.signals}}


def from_payload(data: Mapping[str, Any]) -> HealthChart:
    signals = data["signals"]
    return HealthChart(
        weeks=tuple(dt.date.fromisoformat(d) for d in data["weeks"]), reps=tuple(data["reps"]),
        signals=tuple(SignalSeries(signal=s, threshold=float(signals[s]["threshold"]),
                                   values={r: tuple(float(x) for x in v) for r, v in signals[s]["values"].items()})
                      for s in SIGNALS if s in signals))


def figure(series: SignalSeries, value: float) -> str:
    """A value as its words say it: `4`, `35%`, `12 days`."""
    shown = series.shown(value)
    if series.signal == "contact_gap":
        return str(math.floor(shown))  # whole days, as the report's bars say them
    if series.signal in SHARES:
        return f"{round(shown)}%"
    return f"{shown:.0f}" if float(shown).is_integer() else f"{shown:.1f}"


def line_text(series: SignalSeries) -> str:
    if series.signal == "frequency":
        return f"line {figure(series, series.threshold)} touches in 7 days"
    if series.signal == "contact_gap":
        return f"line {figure(series, series.threshold)} days"
    if series.signal == "feedback":
        return f"line {figure(series, series.threshold)} acknowledged or more"
    return f"line {figure(series, series.threshold)}"


def date_text(day: dt.date) -> str:
    return f"{day.day} {day.strftime('%b %Y')}"


def _span(series: SignalSeries, values: Sequence[float]) -> str:
    low, high = min(values), max(values)
    return figure(series, low) if low == high else f"{figure(series, low)}–{figure(series, high)}"


def signal_words(series: SignalSeries, names: Mapping[str, str], named: bool = True) -> str:
    """One signal's figures: each rep's latest and earliest value (or the range), and who is over."""
    reps = [r for r in series.values if series.values[r]]
    if not reps:
        return f"{NAMES[series.signal]}: no data"
    latest = [series.values[r][-1] for r in reps]
    first = [series.values[r][0] for r in reps]
    over = sum(1 for v in latest if series.over(v))
    if named and len(reps) <= NAMED_REPS:
        now = ", ".join(f"{names.get(r, r)} {figure(series, series.values[r][-1])}" for r in reps)
        then = ", ".join(figure(series, series.values[r][0]) for r in reps)
        words = f"now {now} (at the start {then})"
    else:
        words = f"now {_span(series, latest)} across {len(reps)} reps (at the start {_span(series, first)})"
    return f"{NAMES[series.signal]} ({line_text(series)}): {words}; {over} past the line"


def title(chart: HealthChart) -> str:
    weeks = len(chart.weeks)
    reps = f"{len(chart.reps)} rep" + ("" if len(chart.reps) == 1 else "s")
    return f"Check-in health, {weeks} week{'s' if weeks != 1 else ''} to {date_text(chart.weeks[-1])} ({reps})"


def alt_text(chart: HealthChart, names: Mapping[str, str]) -> str:
    """What the chart shows, in words, within Slack's 1000 characters for alt text."""
    for named in (True, False):  # each rep by name if that fits, else the team's range
        text = f"{title(chart)}, from {date_text(chart.weeks[0])}. " + ". ".join(
            signal_words(s, names, named) for s in chart.signals) + "."
        if len(text) <= ALT_TEXT_CHARS:
            return text
    return text if len(text) <= ALT_TEXT_CHARS else text[:ALT_TEXT_CHARS - 1].rstrip() + "…"


def over_now(chart: HealthChart) -> int:
    """How many reps are past at least one line at the latest point."""
    return sum(1 for rep in chart.reps
               if any(s.values.get(rep) and s.over(s.values[rep][-1]) for s in chart.signals))
