"""The health chart's data and words: local week dates, payload round trip, alt text stating the figures."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from coaching.health_chart import ALT_TEXT_CHARS, alt_text, from_payload, health_chart, over_now, to_payload

LINES = {"frequency": 3.0, "tone": 0.5, "coverage": 0.8, "feedback": 0.5, "fatigue": 0.5, "contact_gap": 14.0}


def series(frequency: list[float], feedback: list[float] | None = None) -> dict[str, list[float]]:
    weeks = len(frequency)
    return {"frequency": frequency, "tone": [0.0] * weeks, "coverage": [0.5] * weeks,
            "feedback": feedback or [1.0] * weeks, "fatigue": [0.0] * weeks, "contact_gap": [2.0] * weeks}


def test_week_points_are_the_managers_local_dates() -> None:
    # 02:00 UTC on Tuesday 3 March is still Monday 2 March in New York.
    now = dt.datetime(2026, 3, 3, 2, 0, tzinfo=dt.UTC)
    chart = health_chart([("U1", series([1, 2, 4]), LINES)], now, ZoneInfo("America/New_York"))
    assert chart is not None
    assert chart.weeks == (dt.date(2026, 2, 16), dt.date(2026, 2, 23), dt.date(2026, 3, 2))


def test_alt_text_names_each_reps_latest_and_first_figures_and_who_is_past_the_line() -> None:
    now = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    chart = health_chart([("U1", series([1, 2, 4], [0.9, 0.6, 0.25]), LINES), ("U2", series([0, 1, 1]), LINES)],
                         now, ZoneInfo("UTC"))
    assert chart is not None
    words = alt_text(chart, {"U1": "Ana", "U2": "Ben"})
    assert "3 weeks to 3 Mar 2026 (2 reps), from 17 Feb 2026" in words
    assert "Frequency (line 3 touches in 7 days): now Ana 4, Ben 1 (at the start 1, 0); 1 past the line" in words
    # Feedback is past its line when it falls below it.
    assert "Feedback (line 50% acknowledged or more): now Ana 25%, Ben 100%" in words
    assert over_now(chart) == 1


def test_a_big_team_is_described_by_ranges_within_slacks_limit() -> None:
    now = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    reps = [(f"U{i}", series([0, float(i % 5)]), LINES) for i in range(40)]
    chart = health_chart(reps, now, ZoneInfo("UTC"))
    assert chart is not None
    words = alt_text(chart, {})
    assert "now 0–4 across 40 reps (at the start 0)" in words and len(words) <= ALT_TEXT_CHARS


def test_the_chart_survives_the_outbox_payload_and_no_trend_means_no_chart() -> None:
    now = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    chart = health_chart([("U1", series([1, 2]), LINES)], now, ZoneInfo("Europe/Berlin"))
    assert chart is not None and from_payload(to_payload(chart)) == chart
    assert health_chart([("U1", {}, LINES)], now, ZoneInfo("UTC")) is None


def test_a_few_reps_are_named_unless_their_names_would_pass_slacks_limit() -> None:
    now = dt.datetime(2026, 3, 3, 12, 0, tzinfo=dt.UTC)
    chart = health_chart([(f"U{i}", series([0, float(i)]), LINES) for i in range(5)], now, ZoneInfo("UTC"))
    assert chart is not None
    short = alt_text(chart, {f"U{i}": f"Rep{i}" for i in range(5)})
    assert "now Rep0 0, Rep1 1, Rep2 2, Rep3 3, Rep4 4 (at the start 0, 0, 0, 0, 0); 1 past the line" in short
    long = alt_text(chart, {f"U{i}": f"A very long display name number {i}" for i in range(5)})
    assert "now 0–4 across 5 reps" in long and len(long) <= ALT_TEXT_CHARS
