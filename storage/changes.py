"""What changed since the last pass, so an idle pass reads only what is due (issue 17).

Three sources, each read through an index:
- `users.next_plan_at <= now`: reps planning must look at (new reps are due at once);
- `users.guard_dirty`: reps whose drift inputs changed in ways no timestamp shows (a pause, a goal,
  a team, a cadence, a snooze, a note, a question): `touch_reps` sets both flags;
- check-ins sent or closed since the last pass (`sent_at` / `closed_at`), which covers every send
  path without each one having to say so.

The last pass's `now` is kept on the workspace with the config's digest. A pass with no such mark,
another config, or a clock set well behind the mark does the full walk instead, as every pass
used to.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from sqlalchemy import select, true, union, update
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import NEVER_PLANNED, CheckIn, User, Workspace

# Check-ins stamped this long before the last pass are read again: a handler's transaction can
# commit after a pass that started later than its `now`.
SCAN_MARGIN = dt.timedelta(minutes=15)


def touch_reps(session: Session, team_id: str, reps: Iterable[str]) -> None:
    """Mark reps for planning and for the drift guard's next pass. Call it wherever a rep's pause,
    goals, teams, cadence, snoozes, notes or questions change."""
    ids = sorted(set(reps))
    if ids:
        session.execute(update(User).where(User.team_id == team_id, User.slack_id.in_(ids))
                        .values(next_plan_at=NEVER_PLANNED, guard_dirty=True)
                        .execution_options(synchronize_session=False))


def take_plan_due(session: Session, team_id: str, now: dt.datetime) -> set[str]:
    """Reps whose planning is due, their marks cleared in the same statement (the caller's
    transaction: a rollback keeps them)."""
    return set(session.scalars(
        update(User).where(User.team_id == team_id, User.next_plan_at <= now)
        .values(next_plan_at=None).returning(User.slack_id).execution_options(synchronize_session=False)))


def plan_again(session: Session, team_id: str, reps: Iterable[str], at: dt.datetime) -> None:
    ids = sorted(set(reps))
    if ids:
        session.execute(update(User).where(User.team_id == team_id, User.slack_id.in_(ids))
                        .values(next_plan_at=at).execution_options(synchronize_session=False))


def take_guard_dirty(session: Session, team_id: str) -> set[str]:
    """Reps the drift guard must re-evaluate, their marks cleared in the same statement."""
    return set(session.scalars(
        update(User).where(User.team_id == team_id, User.guard_dirty == true())
        .values(guard_dirty=False).returning(User.slack_id).execution_options(synchronize_session=False)))


def guard_dirty(session: Session, team_id: str) -> set[str]:
    """The reps `take_guard_dirty` would return, left marked (for readers such as App Home)."""
    return set(session.scalars(select(User.slack_id).where(User.team_id == team_id, User.guard_dirty == true())))


def checkins_changed(session: Session, team_id: str, since: dt.datetime,
                     kinds: tuple[str, ...] | None = None) -> set[str]:
    """Reps with a check-in sent or closed after `since` (two index range scans)."""
    sent = select(CheckIn.rep_id).where(CheckIn.team_id == team_id, CheckIn.sent_at > since)
    closed = select(CheckIn.rep_id).where(CheckIn.team_id == team_id, CheckIn.closed_at > since)
    if kinds is not None:
        sent, closed = sent.where(CheckIn.kind.in_(kinds)), closed.where(CheckIn.kind.in_(kinds))
    return set(session.scalars(union(sent, closed)))


def scan_since(session: Session, team_id: str, now: dt.datetime, digest: str) -> dt.datetime | None:
    """Where an incremental scan starts, or None when this pass must walk everything."""
    row = session.execute(select(Workspace.scanned_at, Workspace.scanned_digest)
                          .where(Workspace.team_id == team_id)).first()
    if row is None or row.scanned_at is None or row.scanned_digest != digest:
        return None
    # Overlapping passes (cron and serve at once) mark a moment or two apart: read a little more.
    # A clock really set back walks everything, as stored states may be ahead of it.
    if now < row.scanned_at - SCAN_MARGIN:
        return None
    return min(now, row.scanned_at) - SCAN_MARGIN


def mark_scanned(session: Session, team_id: str, now: dt.datetime, digest: str) -> None:
    insert_ignore(session, Workspace, {"team_id": team_id, "created_at": now})
    session.execute(update(Workspace).where(Workspace.team_id == team_id)
                    .values(scanned_at=now, scanned_digest=digest).execution_options(synchronize_session=False))
