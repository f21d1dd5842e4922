"""Data types for the micromanagement drift guard (pure, stdlib only).

Every datetime must be timezone-aware; a naive one raises ``ValueError`` at construction, so a
bad timestamp is caught where it enters rather than skewing a window later.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, get_args

Signal = Literal["frequency", "tone", "coverage", "feedback", "fatigue", "contact_gap"]
SIGNALS: tuple[Signal, ...] = get_args(Signal)

TouchKind = Literal["scheduled", "adhoc"]
OutcomeKind = Literal["answered", "skipped", "snoozed", "expired"]
DriftState = Literal["healthy", "watch", "drifting"]

# Tone labels (from coaching.tone) that put pressure on the rep rather than coach them.
PRESSURE_LABELS: frozenset[str] = frozenset({"status_demand", "blame", "directive"})


def require_aware(value: datetime, name: str) -> datetime:
    """Return ``value`` unchanged, or raise ``ValueError`` if it is naive."""
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got a naive datetime")
    return value


def _as_tuple(obj: object, field_name: str) -> None:
    # Frozen dataclasses: normalise list inputs to tuples so the instances stay hashable/immutable.
    value = getattr(obj, field_name)
    if not isinstance(value, tuple):
        object.__setattr__(obj, field_name, tuple(value))


@dataclass(frozen=True)
class Touch:
    """Something a manager (or the schedule) sent the rep."""

    at: datetime
    kind: TouchKind
    goal_ids: tuple[int, ...] = ()
    # A rep's own `/checkin now` is not manager pressure. Callers should not pass it at all;
    # if they do, every signal ignores it.
    initiated_by_rep: bool = False

    def __post_init__(self) -> None:
        require_aware(self.at, "Touch.at")
        if self.kind not in get_args(TouchKind):
            raise ValueError(f"Touch.kind must be 'scheduled' or 'adhoc', got {self.kind!r}")
        _as_tuple(self, "goal_ids")


@dataclass(frozen=True)
class ManagerQuestion:
    """The tone label of one of the manager's own ad-hoc questions."""

    at: datetime
    label: str

    def __post_init__(self) -> None:
        require_aware(self.at, "ManagerQuestion.at")


@dataclass(frozen=True)
class AnswerRecord:
    """A check-in the rep was asked; ``acknowledged`` = the manager thanked or replied with a note."""

    asked_at: datetime
    answered_at: datetime | None
    acknowledged: bool

    def __post_init__(self) -> None:
        require_aware(self.asked_at, "AnswerRecord.asked_at")
        if self.answered_at is not None:
            require_aware(self.answered_at, "AnswerRecord.answered_at")


@dataclass(frozen=True)
class HelpRecord:
    """A rep's request for help (issue 13); ``answered`` = a manager responded or resolved it.

    In the feedback signal it weighs like an answer of its own: answered, it counts as a response;
    left open, it counts against. One the rep cleared is not recorded at all.
    """

    asked_at: datetime
    answered: bool

    def __post_init__(self) -> None:
        require_aware(self.asked_at, "HelpRecord.asked_at")


@dataclass(frozen=True)
class RepOutcome:
    """How a check-in ended for the rep."""

    at: datetime
    kind: OutcomeKind
    latency: timedelta | None

    def __post_init__(self) -> None:
        require_aware(self.at, "RepOutcome.at")
        if self.kind not in get_args(OutcomeKind):
            raise ValueError(f"RepOutcome.kind is not one of {get_args(OutcomeKind)}: {self.kind!r}")
        if self.latency is not None and self.latency < timedelta(0):
            raise ValueError("RepOutcome.latency must not be negative")


@dataclass(frozen=True)
class Thresholds:
    """The `[guard]` keys of the admin config, plus internal tuning with safe defaults."""

    max_touches_per_rep_per_week: int = 3
    status_demand_share: float = 0.5
    contact_gap_days: int = 14
    warning_cooldown_days: int = 7
    min_feedback_share: float = 0.5
    max_coverage_share: float = 0.8
    max_fatigue_rate: float = 0.5
    # A "higher is worse" signal re-arms only after it falls below threshold * hysteresis.
    hysteresis: float = 0.8

    def __post_init__(self) -> None:
        if self.max_touches_per_rep_per_week < 1:
            raise ValueError("max_touches_per_rep_per_week must be at least 1")
        if self.contact_gap_days < 1:
            raise ValueError("contact_gap_days must be at least 1")
        if self.warning_cooldown_days < 0:
            raise ValueError("warning_cooldown_days must not be negative")
        for name in ("status_demand_share", "min_feedback_share", "max_coverage_share", "max_fatigue_rate"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0.0 <= value <= 1.0):
                raise ValueError(f"{name} must be a share between 0 and 1, got {value!r}")
        if not (0.0 < self.hysteresis <= 1.0):
            raise ValueError(f"hysteresis must be in (0, 1], got {self.hysteresis!r}")


@dataclass(frozen=True)
class PairHistory:
    """Everything the guard knows about one manager-rep pair."""

    manager: str
    rep: str
    # From the agreed cadence: day=5, week=1, 2 weeks=0.5, month~0.23.
    agreed_touches_per_week: float
    touches: tuple[Touch, ...]
    questions: tuple[ManagerQuestion, ...]
    answers: tuple[AnswerRecord, ...]
    outcomes: tuple[RepOutcome, ...]
    active_goal_count: int
    paused_until: datetime | None = None
    last_contact_at: datetime | None = None
    help_requests: tuple[HelpRecord, ...] = ()
    # The rep's leave as UTC [start, end) intervals: the guard's clocks stop while they are away.
    leave: tuple[tuple[datetime, datetime], ...] = ()

    def __post_init__(self) -> None:
        agreed = self.agreed_touches_per_week
        if not (isinstance(agreed, int | float) and math.isfinite(agreed) and agreed >= 0):
            raise ValueError(f"agreed_touches_per_week must be a finite number >= 0, got {agreed!r}")
        if self.active_goal_count < 0:
            raise ValueError("active_goal_count must not be negative")
        for name in ("touches", "questions", "answers", "outcomes", "help_requests"):
            _as_tuple(self, name)
        if self.paused_until is not None:
            require_aware(self.paused_until, "PairHistory.paused_until")
        if self.last_contact_at is not None:
            require_aware(self.last_contact_at, "PairHistory.last_contact_at")
        leave = tuple(sorted((start, end) for start, end in self.leave))
        for start, end in leave:
            require_aware(start, "PairHistory.leave start")
            require_aware(end, "PairHistory.leave end")
            if end <= start:
                raise ValueError("a leave interval must end after it starts")
        if any(b[0] < a[1] for a, b in zip(leave, leave[1:], strict=False)):
            raise ValueError("leave intervals must not overlap")
        object.__setattr__(self, "leave", leave)


@dataclass(frozen=True)
class SignalReading:
    """One drift signal for one pair at one moment.

    ``observed`` and ``agreed`` are short plain-text phrases (no Slack markup) for the warning
    and the health report; ``window_days`` is the look-back the value was computed over.
    """

    signal: Signal
    value: float
    threshold: float
    breached: bool
    observed: str
    agreed: str


@dataclass(frozen=True)
class PriorWarning:
    """The last warning sent for one manager-rep pair and signal.

    ``rearmed`` = the signal has dropped below its re-arm level at some evaluation since then.
    """

    signal: Signal
    sent_at: datetime
    rearmed: bool

    def __post_init__(self) -> None:
        require_aware(self.sent_at, "PriorWarning.sent_at")


DEFAULT_THRESHOLDS = Thresholds()
