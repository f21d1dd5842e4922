"""Time off booked ahead (`/checkin pause 2026-12-21 to 2027-01-04`): ranges of the rep's local days.

A range is inclusive: its first and last days are both days off, and the rep is back the day
after. Overlapping or touching ranges are merged into one, so a rep has at most one range covering
any day. `/checkin pause 2w` (a pause from today) stays in users.paused_until.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import outbox
from storage.changes import touch_reps
from storage.models import Leave

MAX_LEAVE_DAYS = 366  # a range may last up to a year
MAX_AHEAD_DAYS = 366  # and start within the next year


@dataclass(frozen=True)
class Range:
    first: dt.date
    last: dt.date

    def days(self) -> Iterable[dt.date]:
        day = self.first
        while day <= self.last:
            yield day
            day += dt.timedelta(days=1)

    def utc_interval(self, zone: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
        """[start of the first day, start of the day back) in UTC, on the rep's wall clock."""
        start = dt.datetime.combine(self.first, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
        end = dt.datetime.combine(self.last + dt.timedelta(days=1), dt.time(0, 0), tzinfo=zone)
        return start, end.astimezone(dt.UTC)


def check_range(first: dt.date, last: dt.date, today: dt.date) -> str | None:
    """Why this range can't be booked (a polite sentence), or None."""
    if last < first:
        return "The leave ends before it starts; please give the first day, then the last."
    if last < today:
        return "That range is in the past; please choose days from today on."
    if first < today:
        return f"Please start the leave today ({today.isoformat()}) or later."
    if (last - first).days + 1 > MAX_LEAVE_DAYS:
        return "Leave can last up to a year; please book a shorter range."
    if (first - today).days > MAX_AHEAD_DAYS:
        return "Leave can be booked up to a year ahead; please choose an earlier start."
    return None


def book(session: Session, team_id: str, rep_id: str, first: dt.date, last: dt.date,
         now: dt.datetime) -> Range:
    """Store a range (checked by check_range), merged with any it overlaps or touches."""
    merged = Range(first, last)
    one_day = dt.timedelta(days=1)
    for row in session.scalars(select(Leave).where(
            Leave.team_id == team_id, Leave.rep_id == rep_id,
            Leave.last_day >= first - one_day, Leave.first_day <= last + one_day)):
        merged = Range(min(merged.first, row.first_day), max(merged.last, row.last_day))
        session.delete(row)
    session.add(Leave(team_id=team_id, rep_id=rep_id, first_day=merged.first, last_day=merged.last,
                      created_at=now))
    _changed(session, team_id, rep_id, now)
    return merged


def end_leave(session: Session, team_id: str, rep_id: str, today: dt.date, now: dt.datetime, *,
              upcoming: bool) -> int:
    """End the leave the rep is on (they are back today) and, with `upcoming`, cancel any booked
    ahead. Returns how many ranges changed."""
    changed = 0
    for row in session.scalars(select(Leave).where(Leave.team_id == team_id, Leave.rep_id == rep_id,
                                                   Leave.last_day >= today)):
        if row.first_day < today:
            row.last_day = today - dt.timedelta(days=1)
            changed += 1
        elif row.first_day == today or upcoming:
            session.delete(row)
            changed += 1
    if changed:
        _changed(session, team_id, rep_id, now)
    return changed


def cancel(session: Session, team_id: str, rep_id: str, leave_id: int, today: dt.date,
           now: dt.datetime) -> Range | None:
    """Cancel one range of the rep's (or end it today, if it has begun). None if not theirs or over."""
    row = session.scalar(select(Leave).where(Leave.id == leave_id, Leave.team_id == team_id,
                                             Leave.rep_id == rep_id, Leave.last_day >= today))
    if row is None:
        return None
    cancelled = Range(row.first_day, row.last_day)
    if row.first_day < today:
        row.last_day = today - dt.timedelta(days=1)
    else:
        session.delete(row)
    _changed(session, team_id, rep_id, now)
    return cancelled


def _changed(session: Session, team_id: str, rep_id: str, now: dt.datetime) -> None:
    session.flush()
    touch_reps(session, team_id, [rep_id])
    # Messages held for the old dates are looked at again (they may go now, or must wait longer).
    outbox.reconsider(session, team_id, rep_id, now)


def ranges_of(session: Session, team_id: str, reps: Iterable[str], since: dt.date) -> dict[str, list[Range]]:
    """Each rep's ranges that end on or after `since`, earliest first."""
    ids = sorted(set(reps))
    out: dict[str, list[Range]] = {}
    if not ids:
        return out
    for row in session.scalars(select(Leave).where(Leave.team_id == team_id, Leave.rep_id.in_(ids),
                                                   Leave.last_day >= since)
                               .order_by(Leave.rep_id, Leave.first_day)):
        out.setdefault(row.rep_id, []).append(Range(row.first_day, row.last_day))
    return out


def booked(session: Session, team_id: str, rep_id: str, today: dt.date) -> list[tuple[int, Range]]:
    """The rep's current and upcoming ranges with their ids (for App Home)."""
    return [(row.id, Range(row.first_day, row.last_day)) for row in session.scalars(
        select(Leave).where(Leave.team_id == team_id, Leave.rep_id == rep_id, Leave.last_day >= today)
        .order_by(Leave.first_day))]


def current(ranges: Iterable[Range], today: dt.date) -> Range | None:
    """The range that covers `today`, if any."""
    return next((r for r in ranges if r.first <= today <= r.last), None)


def leave_days(ranges: Mapping[str, list[Range]]) -> dict[str, frozenset[dt.date]]:
    return {rep: frozenset(day for r in rs for day in r.days()) for rep, rs in ranges.items()}
