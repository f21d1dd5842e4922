"""The micromanagement drift guard: pure signals and warning decisions (stdlib only).

Attention to detail is selective inspection and coaching on goals the rep agreed to;
micromanagement is constant status checks, inspecting everything, asking without responding.
So the guard measures drift *from the agreed cadence*, not contact as such. It reads six signals
per manager-rep pair (see ``coaching.drift_signals`` for each rule) and decides, with a cooldown
and hysteresis, when a private warning to the manager is due.

Warning rule (``should_warn``), chosen so a signal hovering around its threshold never flaps:

* nothing is sent unless the reading is breached;
* the first breach of a signal is warned at once;
* within ``warning_cooldown_days`` of a warning the same signal is never warned again;
* after the cooldown it is warned again only if it *re-armed* in between (fell below
  ``threshold * hysteresis``; for feedback, where lower is worse, rose back above the mirrored
  level) - a genuinely new episode - or if it stayed un-re-armed for a whole further cooldown
  period (``2 * warning_cooldown_days`` since the warning): one gentle reminder per two cooldowns
  for a drift that persists.

The caller keeps one ``PriorWarning`` per pair and signal: ``track_rearm`` on every evaluation,
``record_warning`` when a warning goes out. Re-arming is seen only at evaluations, so a dip
between two dispatch passes goes unnoticed; that errs on the side of fewer warnings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from coaching import drift_signals
from coaching.drift_model import (
    DEFAULT_THRESHOLDS,
    PRESSURE_LABELS,
    SIGNALS,
    AnswerRecord,
    DriftState,
    HelpRecord,
    ManagerQuestion,
    PairHistory,
    PriorWarning,
    RepOutcome,
    Signal,
    SignalReading,
    Thresholds,
    Touch,
    require_aware,
)
from coaching.drift_signals import describe_cadence, frequency_limit

__all__ = [
    "DEFAULT_THRESHOLDS",
    "LOWER_IS_WORSE",
    "PRESSURE_LABELS",
    "SIGNALS",
    "AnswerRecord",
    "DriftState",
    "HelpRecord",
    "ManagerQuestion",
    "PairHistory",
    "PriorWarning",
    "RepOutcome",
    "Signal",
    "SignalReading",
    "Thresholds",
    "Touch",
    "compute_signals",
    "describe_cadence",
    "drift_state",
    "frequency_limit",
    "is_rearmed",
    "next_change",
    "rearm_level",
    "record_warning",
    "should_warn",
    "track_rearm",
    "weekly_series",
]

SignalFn = Callable[[PairHistory, Thresholds, datetime], SignalReading]

_SIGNAL_FUNCTIONS: dict[Signal, SignalFn] = {
    "frequency": drift_signals.frequency,
    "tone": drift_signals.tone,
    "coverage": drift_signals.coverage,
    "feedback": drift_signals.feedback,
    "fatigue": drift_signals.fatigue,
    "contact_gap": drift_signals.contact_gap,
}

# Signals whose value is healthy when high (a share of answers acknowledged); all others are
# "higher is worse".
LOWER_IS_WORSE: frozenset[Signal] = frozenset({"feedback"})
_TOLERANCE = 1e-9


def compute_signals(
    history: PairHistory, thresholds: Thresholds, now: datetime
) -> dict[Signal, SignalReading]:
    """Every signal for one pair as of ``now``, in ``SIGNALS`` order."""
    require_aware(now, "now")
    return {signal: _SIGNAL_FUNCTIONS[signal](history, thresholds, now) for signal in SIGNALS}


def weekly_series(
    history: PairHistory, thresholds: Thresholds, now: datetime, weeks: int = 8
) -> dict[Signal, list[float]]:
    """Each signal's value at the end of each of the last ``weeks`` weeks, oldest first.

    The last point is the value at ``now``; the one before it at ``now - 7 days``, and so on.
    """
    require_aware(now, "now")
    if weeks < 1:
        raise ValueError(f"weeks must be at least 1, got {weeks}")
    series: dict[Signal, list[float]] = {signal: [] for signal in SIGNALS}
    for back in range(weeks - 1, -1, -1):
        readings = compute_signals(history, thresholds, now - timedelta(weeks=back))
        for signal, reading in readings.items():
            series[signal].append(reading.value)
    return series


def drift_state(readings: Mapping[Signal, SignalReading] | Iterable[SignalReading]) -> DriftState:
    """Admin aggregate: 0 breached signals = healthy, 1 = watch, 2 or more = drifting."""
    items = readings.values() if isinstance(readings, Mapping) else readings
    breached = sum(1 for reading in items if reading.breached)
    if breached == 0:
        return "healthy"
    return "watch" if breached == 1 else "drifting"


def rearm_level(reading: SignalReading, thresholds: Thresholds = DEFAULT_THRESHOLDS) -> float:
    """The level a signal must cross back over, after a warning, to count as a new episode.

    Higher-is-worse signals: below ``threshold * hysteresis``. Feedback (a share where lower is
    worse) mirrors it on the shortfall: the unacknowledged share ``1 - value`` must fall below
    ``(1 - threshold) * hysteresis``, i.e. value above ``1 - (1 - threshold) * hysteresis``.
    """
    h = thresholds.hysteresis
    if reading.signal in LOWER_IS_WORSE:
        return 1.0 - (1.0 - reading.threshold) * h
    return reading.threshold * h


def is_rearmed(reading: SignalReading, thresholds: Thresholds) -> bool:
    """True when the reading is clear of its breach by the hysteresis margin.

    A breached reading is never re-armed, even if its value looks low (fatigue can breach on a
    rising reply-time trend while its skip rate stays low).
    """
    if reading.breached:
        return False
    level = rearm_level(reading, thresholds)
    # Strictly past the level; the tolerance keeps float noise (3 * 0.8 = 2.4000000000000004)
    # from re-arming a value sitting exactly on it.
    if reading.signal in LOWER_IS_WORSE:
        return reading.value > level + _TOLERANCE
    return reading.value < level - _TOLERANCE


def should_warn(
    reading: SignalReading, last: PriorWarning | None, thresholds: Thresholds, now: datetime
) -> bool:
    """Whether to warn the manager about this reading now (rule in the module docstring)."""
    require_aware(now, "now")
    if not reading.breached:
        return False
    if last is None:
        return True
    if last.signal != reading.signal:
        raise ValueError(f"prior warning is for {last.signal!r}, reading is for {reading.signal!r}")
    elapsed = now - last.sent_at
    cooldown = timedelta(days=thresholds.warning_cooldown_days)
    if elapsed < cooldown:  # also covers a prior stamped in the future (clock skew)
        return False
    if last.rearmed:
        return True
    return elapsed >= 2 * cooldown


def track_rearm(
    last: PriorWarning | None, reading: SignalReading, thresholds: Thresholds
) -> PriorWarning | None:
    """The prior warning updated with this evaluation: marked re-armed once the signal re-arms."""
    if last is None or last.rearmed:
        return last
    if last.signal != reading.signal:
        raise ValueError(f"prior warning is for {last.signal!r}, reading is for {reading.signal!r}")
    return replace(last, rearmed=True) if is_rearmed(reading, thresholds) else last


def record_warning(reading: SignalReading, now: datetime) -> PriorWarning:
    """The prior-warning record to store once a warning for ``reading`` has been sent."""
    require_aware(now, "now")
    return PriorWarning(signal=reading.signal, sent_at=now, rearmed=False)


def next_change(
    history: PairHistory, thresholds: Thresholds, now: datetime, also_days: Iterable[float] = ()
) -> datetime | None:
    """The earliest moment after ``now`` at which a reading may differ with no new event.

    Every signal counts events in windows ending at ``now`` (7, 14 or 28 days; the contact gap's
    ``contact_gap_days``, and its re-arm level), so with the history fixed a reading (breached or
    re-armed) can change only when an event enters a window (its own time) or leaves one (its time
    plus a window's length), or when a pause ends. The frequency and contact-gap windows run on
    the present clock (leave skipped), so theirs are mapped back to real time, and every start and
    end of leave is a moment too.
    Re-evaluating at these moments, and whenever the history changes, gives every reading any
    later evaluation would. ``also_days`` adds windows the caller reads history in.
    """
    require_aware(now, "now")
    gap = drift_signals.contact_gap_limit(history.agreed_touches_per_week, thresholds.contact_gap_days)
    offsets = {timedelta(0), *(timedelta(days=d) for d in (
        drift_signals.FREQUENCY_WINDOW_DAYS, 2 * drift_signals.FREQUENCY_WINDOW_DAYS,
        drift_signals.LATENCY_HALF_DAYS, drift_signals.LOOKBACK_DAYS, gap,
        # The contact gap grows by itself: it also leaves its re-arm level at a fixed moment.
        gap * thresholds.hysteresis, *also_days))}
    events = [t.at for t in history.touches] + [q.at for q in history.questions] + [o.at for o in history.outcomes]
    events += [h.asked_at for h in history.help_requests]
    for answer in history.answers:
        events.append(answer.asked_at)
        if answer.answered_at is not None:
            events.append(answer.answered_at)
    if history.last_contact_at is not None:
        events.append(history.last_contact_at)
    moments = [at + offset for at in events for offset in offsets if at + offset > now]
    if history.leave:
        moments += [moment for at in events for offset in offsets
                    if (moment := drift_signals.real_at(history, drift_signals.present(history, at) + offset)) > now]
        moments += [edge for interval in history.leave for edge in interval if edge > now]
    if history.paused_until is not None and history.paused_until > now:
        moments.append(history.paused_until)
    return min(moments) if moments else None
