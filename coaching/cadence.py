"""Pure cadence maths: when is a rep due a check-in, and when may the bot write to them at all.

Every public function takes and returns UTC-aware datetimes. Calendar reasoning (weekdays, quiet
hours, "same day next month") happens on the rep's local wall clock and is converted back to UTC
straight away, so no naive datetime leaves this module. No DB, no Slack, no clock: `now` is always
a parameter.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import get_args
from zoneinfo import ZoneInfo

from core.calendars import is_calendar_holiday
from core.config import WEEKDAYS, CadenceConfig, Every, parse_hhmm

__all__ = [
    "EVERY_VALUES",
    "WEEKDAYS",
    "Cadence",
    "Every",
    "cadence_of",
    "is_allowed",
    "is_allowed_day",
    "local_to_utc",
    "next_allowed",
    "next_due",
    "occurrences",
    "snooze_until",
]

EVERY_VALUES: tuple[Every, ...] = get_args(Every)

_DAY = timedelta(days=1)
_MIDNIGHT = time(0, 0)
# Zone offsets never change twice within this many hours around a local day, so one bisection per
# day finds every transition that matters.
_TRANSITION_MARGIN = timedelta(hours=6)


@dataclass(frozen=True)
class Cadence:
    """A rep's agreed rhythm plus the hours in which the bot may write to them.

    Quiet hours are the half-open local interval [quiet_start, quiet_end); they wrap midnight when
    quiet_start > quiet_end, and quiet_start == quiet_end means "no quiet hours".
    """

    every: Every = "week"
    day: str = "mon"
    # dt.time, because the field named `time` shadows the type inside the class body.
    time: dt.time = dt.time(10, 0)
    working_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    quiet_start: dt.time = dt.time(18, 0)
    quiet_end: dt.time = dt.time(9, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    # A public-holiday calendar ("DE-BY", core.calendars) whose days count as holidays too.
    calendar: str | None = None

    def __post_init__(self) -> None:
        if self.every not in EVERY_VALUES:
            raise ValueError(f"every must be one of {', '.join(map(repr, EVERY_VALUES))}, not {self.every!r}")
        if self.day not in WEEKDAYS:
            raise ValueError(f"day must be one of {', '.join(WEEKDAYS)}, got {self.day!r}")
        # Normalise collections so that a list of weekdays or holidays still hashes and compares.
        object.__setattr__(self, "working_days", frozenset(self.working_days))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        if not self.working_days:
            raise ValueError("working_days must name at least one day")
        if not self.working_days <= set(range(7)):
            raise ValueError(f"working_days must be weekday numbers 0-6, got {sorted(self.working_days)}")
        for name in ("time", "quiet_start", "quiet_end"):
            value = getattr(self, name)
            if not isinstance(value, time) or value.tzinfo is not None:
                raise ValueError(f"{name} must be a local wall time without tzinfo, got {value!r}")
        for holiday in self.holidays:
            if not isinstance(holiday, date) or isinstance(holiday, datetime):
                raise ValueError(f"holidays must be dates, got {holiday!r}")


def cadence_of(config: CadenceConfig) -> Cadence:
    """The schedulable cadence for a validated `[cadence]` table (or a team's merged one)."""
    return Cadence(
        every=config.every,
        day=config.day,
        time=parse_hhmm(config.time),
        working_days=frozenset(WEEKDAYS.index(d) for d in config.working_days),
        quiet_start=parse_hhmm(config.quiet_hours.start),
        quiet_end=parse_hhmm(config.quiet_hours.end),
        holidays=frozenset(date.fromisoformat(d) for d in config.holidays),
        calendar=config.holiday_calendar,
    )


# --- local wall clock <-> UTC -------------------------------------------------------------------


def local_to_utc(day: date, wall: time, tz: tzinfo) -> datetime:
    """The UTC instant at which the local clock in `tz` shows `wall` on `day`.

    Both DST edge cases are settled by fold=0 (PEP 495), deliberately:
    - Ambiguous (fall-back) wall time, e.g. 01:30 on 2026-11-01 in Los Angeles: fold=0 is the first
      occurrence, so the check-in goes out once and the repeated hour cannot send it again.
    - Non-existent (spring-forward gap) wall time, e.g. 02:30 on 2026-03-08 in Los Angeles: fold=0
      reads it with the offset in force before the gap, which lands at 03:30 on the new clock, i.e.
      shifted by exactly the size of the gap. That is what RFC 5545 (§3.3.5) calendars do, it keeps
      the usual 24 h spacing from the previous day's check-in, and it never skips the day.
    """
    # fold is set explicitly: a time(fold=1) passed in would otherwise pick the second occurrence.
    return datetime.combine(day, wall, tzinfo=tz).replace(fold=0).astimezone(UTC)


def _require_aware(name: str, moment: datetime) -> datetime:
    if not isinstance(moment, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {moment.isoformat()}")
    return moment.astimezone(UTC)


def _require_date(name: str, value: date) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{name} must be a date (the rep's local calendar day), got {value!r}")
    return value


def _in_quiet_hours(wall: time, cadence: Cadence) -> bool:
    start, end = cadence.quiet_start, cadence.quiet_end
    if start == end:
        return False
    if start < end:
        return start <= wall < end
    return wall >= start or wall < end  # wraps midnight, e.g. 18:00 -> 09:00


def is_allowed_day(day: date, cadence: Cadence) -> bool:
    """A working day that is not a holiday (quiet hours aside)."""
    return (day.weekday() in cadence.working_days and day not in cadence.holidays
            and not is_calendar_holiday(cadence.calendar, day))


def _day_bound(cadence: Cadence) -> int:
    # How many days to look ahead for a free one: every explicit holiday could push it a week, and
    # a calendar adds at most a few weeks' worth of public holidays in a row.
    return 7 * (len(cadence.holidays) + 2) + (42 if cadence.calendar else 0)


def _next_allowed_day(day: date, cadence: Cadence) -> date:
    # Holidays are finite and working_days is non-empty, so a free day exists within this bound.
    for _ in range(_day_bound(cadence)):
        if is_allowed_day(day, cadence):
            return day
        day += _DAY
    raise AssertionError("unreachable: no working, non-holiday day found")  # pragma: no cover


# --- permission to write -------------------------------------------------------------------------


def is_allowed(moment: datetime, cadence: Cadence, tz: ZoneInfo) -> bool:
    """True if, on the rep's wall clock, `moment` is on a working non-holiday day outside quiet hours."""
    local = _require_aware("moment", moment).astimezone(tz)
    return is_allowed_day(local.date(), cadence) and not _in_quiet_hours(local.time(), cadence)


def _transition_in(lo: datetime, hi: datetime, tz: tzinfo) -> datetime | None:
    """The (whole-second) UTC instant in (lo, hi] at which the zone's offset changes, if any."""
    lo_ts, hi_ts = math.floor(lo.timestamp()), math.ceil(hi.timestamp())

    def offset(ts: int) -> timedelta | None:
        return datetime.fromtimestamp(ts, tz).utcoffset()

    before = offset(lo_ts)
    if before == offset(hi_ts):
        return None
    while hi_ts - lo_ts > 1:  # invariant: offset(lo_ts) == before != offset(hi_ts)
        mid = (lo_ts + hi_ts) // 2
        if offset(mid) == before:
            lo_ts = mid
        else:
            hi_ts = mid
    return datetime.fromtimestamp(hi_ts, UTC)


def _window_starts(day: date, cadence: Cadence, tz: tzinfo) -> Iterator[datetime]:
    """Every instant at which an allowed stretch on local `day` can begin.

    Leaving a disallowed stretch needs the wall clock to reach midnight (a new day) or quiet_end, or
    to jump over a boundary at a DST transition. Both folds are tried so that a quiet end inside a
    repeated fall-back hour is found on its second pass too. Callers filter with is_allowed.
    """
    for wall in (_MIDNIGHT, cadence.quiet_end):
        for fold in (0, 1):
            yield datetime.combine(day, wall, tzinfo=tz).replace(fold=fold).astimezone(UTC)
    lo = local_to_utc(day, _MIDNIGHT, tz) - _TRANSITION_MARGIN
    hi = local_to_utc(day + _DAY, _MIDNIGHT, tz) + _TRANSITION_MARGIN
    transition = _transition_in(lo, hi, tz)
    if transition is not None:
        yield transition


def next_allowed(moment: datetime, cadence: Cadence, tz: ZoneInfo) -> datetime:
    """The earliest allowed UTC instant >= `moment` (usually quiet end on the next free day)."""
    moment = _require_aware("moment", moment)
    if is_allowed(moment, cadence, tz):
        return moment
    # Start a day early: a fall-back at midnight can put instants after `moment` on yesterday's date.
    day = moment.astimezone(tz).date() - _DAY
    best: datetime | None = None
    for _ in range(_day_bound(cadence) + 3):
        if is_allowed_day(day, cadence):
            for start in _window_starts(day, cadence, tz):
                if start >= moment and (best is None or start < best) and is_allowed(start, cadence, tz):
                    best = start
        # Later days' candidates all lie after this day's end minus the margin, so this one is final.
        if best is not None and best < local_to_utc(day + _DAY, _MIDNIGHT, tz) - _TRANSITION_MARGIN:
            return best
        day += _DAY
    if best is not None:
        return best
    raise AssertionError("unreachable: no allowed moment found")  # pragma: no cover


def snooze_until(now: datetime, cadence: Cadence, tz: ZoneInfo, hours: float = 2) -> datetime:
    """`now` + `hours`, or the start of the next allowed window if that lands in quiet/off time."""
    now = _require_aware("now", now)
    if not math.isfinite(hours) or hours < 0:
        raise ValueError(f"hours must be a non-negative number, got {hours!r}")
    # Elapsed time, not wall time: "in 2 hours" means two real hours even across a DST change.
    return next_allowed(now + timedelta(hours=hours), cadence, tz)


# --- the schedule ------------------------------------------------------------------------------


def _nominal_dates(cadence: Cadence, anchor: date, start: date) -> Iterator[date]:
    """Local dates the cadence names, in order, on or after both `start` and `anchor` (unbounded)."""
    start = max(start, anchor)
    if cadence.every == "day":
        day = start
        while True:
            if day.weekday() in cadence.working_days:
                yield day
            day += _DAY
    elif cadence.every in ("week", "2 weeks"):
        step = 7 if cadence.every == "week" else 14
        # Week 0 is the ISO week of the anchor, so "2 weeks" keeps its parity however long it runs.
        base = anchor - timedelta(days=anchor.weekday()) + timedelta(days=WEEKDAYS.index(cadence.day))
        k = max(0, -(-(start - base).days // step))  # ceil division
        while True:
            yield base + timedelta(days=k * step)
            k += 1
    else:  # month: the anchor's day of month, clamped to short months (31st -> Feb 28/29)
        year, month = start.year, start.month
        while True:
            last = calendar.monthrange(year, month)[1]
            day = date(year, month, min(anchor.day, last))
            if day >= start:
                yield day
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _effective(nominal: date, cadence: Cadence, tz: ZoneInfo) -> datetime:
    """Where a nominal slot really lands: next free day at the same wall time, then out of quiet hours."""
    day = _next_allowed_day(nominal, cadence)
    return next_allowed(local_to_utc(day, cadence.time, tz), cadence, tz)


def next_due(cadence: Cadence, tz: ZoneInfo, after: datetime, anchor: date) -> datetime:
    """The next check-in strictly after `after`, UTC-aware.

    Slots named before `anchor` (the local date the cadence started) do not exist. Moving a slot
    only ever pushes it later and keeps slot order, so the first slot landing after `after` is the
    answer, and slots that move onto the same instant (a holiday Monday onto Tuesday) count once.
    """
    after = _require_aware("after", after)
    anchor = _require_date("anchor", anchor)
    # A slot can land at most two free days after its nominal date (free-day move, then a quiet-hours
    # move), so slots named before the third free day back all land before `after`. One spare day
    # covers clocks that jump over midnight.
    start, free_days = after.astimezone(tz).date(), 0
    while free_days < 3:
        start -= _DAY
        free_days += is_allowed_day(start, cadence)
    start -= _DAY
    for nominal in _nominal_dates(cadence, anchor, start):
        due = _effective(nominal, cadence, tz)
        if due > after:
            return due
    raise AssertionError("unreachable: cadences are unbounded")  # pragma: no cover


def occurrences(
    cadence: Cadence, tz: ZoneInfo, start: datetime, end: datetime, anchor: date
) -> list[datetime]:
    """All check-in moments in (start, end], in order."""
    start, end = _require_aware("start", start), _require_aware("end", end)
    found: list[datetime] = []
    due = next_due(cadence, tz, start, anchor)
    while due <= end:
        found.append(due)
        due = next_due(cadence, tz, due, anchor)
    return found
