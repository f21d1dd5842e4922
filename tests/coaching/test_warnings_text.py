from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from coaching.drift import (
    SIGNALS,
    ManagerQuestion,
    PairHistory,
    SignalReading,
    Thresholds,
    Touch,
    compute_signals,
)
from coaching.warnings_text import bar, good_looks_like, warning_message

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
SLACK_MARKUP = ("<", ">", "&", "*", "`", "~", "<!")


def breached(signal: str) -> SignalReading:
    return SignalReading(signal, 1.0, 0.5, True, "something was observed", "something was agreed")  # type: ignore[arg-type]


@pytest.mark.parametrize("signal", SIGNALS)
def test_every_signal_has_a_specific_plain_text_warning_naming_the_rep(signal: str) -> None:
    text = warning_message(breached(signal), "Alex Rivera")
    assert "Alex Rivera" in text.title and "Alex Rivera" in text.suggestion
    assert text.observed == "Something was observed."
    assert text.agreed == "Something was agreed."
    assert text.why.endswith(".") and len(text.why.split(". ")) == 1  # one sentence
    for part in (text.title, text.observed, text.agreed, text.why, text.suggestion):
        assert part and not any(mark in part for mark in SLACK_MARKUP), part


@pytest.mark.parametrize("signal", SIGNALS)
def test_every_signal_says_what_good_looks_like(signal: str) -> None:
    sentence = good_looks_like(signal)  # type: ignore[arg-type]
    assert sentence.endswith(".") and not any(mark in sentence for mark in SLACK_MARKUP)


def test_unknown_signal_is_rejected() -> None:
    with pytest.raises(ValueError):
        good_looks_like("volume")  # type: ignore[arg-type]


def test_frequency_warning_explains_distrust_and_ownership() -> None:
    text = warning_message(breached("frequency"), "Alex")
    assert "distrust" in text.why and "ownership" in text.why


def test_a_real_reading_renders_observed_against_agreed() -> None:
    days = (0.2, 1.5, 3, 5)
    h = PairHistory(
        manager="UM",
        rep="UR",
        agreed_touches_per_week=1.0,
        touches=tuple(Touch(at=NOW - timedelta(days=d), kind="adhoc") for d in days),
        questions=tuple(
            ManagerQuestion(at=NOW - timedelta(days=d), label=label)
            for d, label in zip(days, ("blame", "coaching", "blame", "coaching"), strict=True)
        ),
        answers=(),
        outcomes=(),
        active_goal_count=2,
        last_contact_at=NOW,
    )
    readings = compute_signals(h, Thresholds(), NOW)
    freq = warning_message(readings["frequency"], "Alex")
    assert freq.observed == "4 check-ins and questions within 7 days (4 ad-hoc, 0 scheduled)."
    assert freq.agreed == "Weekly check-ins; up to 3 check-ins and questions in any 7 days keeps to it."
    tone = warning_message(readings["tone"], "Alex")
    assert tone.observed.startswith("2 of your 4 ad-hoc questions in the last 28 days")
    assert "2 blaming questions" in tone.observed


def test_a_blank_rep_display_falls_back_to_your_rep() -> None:
    assert "your rep" in warning_message(breached("feedback"), "  ").suggestion


def test_rep_display_is_inserted_verbatim_not_formatted() -> None:
    assert "{rep}" in warning_message(breached("tone"), "{rep}").title


@pytest.mark.parametrize(
    ("value", "threshold", "width", "expected"),
    [
        (0.2, 0.5, 10, "▇▇▇▇▁▁▁▁▁▁"),
        (0.0, 0.5, 10, "▁▁▁▁▁▁▁▁▁▁"),
        (0.5, 0.5, 10, "▇▇▇▇▇▇▇▇▇▇"),
        (9.0, 3.0, 10, "▇▇▇▇▇▇▇▇▇▇"),
        (1.0, 4.0, 2, "▇▁"),
        (1.0, 0.0, 3, "▇▇▇"),
        (-1.0, 3.0, 3, "▁▁▁"),
        (float("nan"), 3.0, 3, "▁▁▁"),
    ],
)
def test_bar_fills_in_proportion_to_the_threshold(
    value: float, threshold: float, width: int, expected: str
) -> None:
    assert bar(value, threshold, width) == expected


def test_bar_rejects_a_zero_width() -> None:
    with pytest.raises(ValueError):
        bar(1.0, 2.0, width=0)
