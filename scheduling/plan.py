"""Keeping exactly one upcoming check-in row per rep.

The database is the schedule's truth: each enrolled rep has at most one `scheduled` check-in
row of kind "scheduled". Planning inserts the next one after the latest, with
ON CONFLICT DO NOTHING on (team, rep, kind, due_at), so two planners racing insert it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from coaching.cadence import next_due
from core.config import AdminConfig
from storage import changes
from storage.models import CheckIn, User
from storage.schedules import enrolled_query, enrolled_reps, insert_checkins_once, schedules_for

OPEN_STATES = ("scheduled", "sending")
# A check-in whose time passed while the bot was down is still worth sending within this window.
MAX_LATENESS = dt.timedelta(hours=12)
PLAN_CHUNK = 500  # reps planned per query round (and rows per INSERT)


def plan_next(session: Session, config: AdminConfig, team_id: str, now: dt.datetime) -> int:
    """Give every enrolled rep without an upcoming scheduled check-in its next one. Returns how many.

    Only reps something happened to are looked at (storage.changes): new or re-enrolled reps, and
    reps whose check-in was sent or closed since the last pass. The full walk is kept for a pass
    with no mark of the last one (or another config), so the result is the same either way.
    """
    due = changes.take_plan_due(session, team_id, now)
    since = changes.scan_since(session, team_id, now, config.digest())
    if since is None:
        candidates = enrolled_reps(session, team_id)
    else:
        reps = due | changes.checkins_changed(session, team_id, since, kinds=("scheduled",))
        candidates = [] if not reps else list(session.scalars(
            enrolled_query(team_id, sorted(reps)).order_by(User.id)))
    if not candidates:
        return 0
    chosen = [u.slack_id for u in candidates] if since is not None else None
    pending = set(session.scalars(
        select(CheckIn.rep_id).where(CheckIn.team_id == team_id, CheckIn.kind == "scheduled",
                                     CheckIn.state.in_(OPEN_STATES), _only(chosen))))
    last_due: dict[str, dt.datetime] = dict(session.execute(
        select(CheckIn.rep_id, func.max(CheckIn.due_at))
        .where(CheckIn.team_id == team_id, CheckIn.kind == "scheduled", _only(chosen)).group_by(CheckIn.rep_id)
    ).all())
    unplanned = [u for u in candidates if u.slack_id not in pending]
    created = 0
    retry: list[str] = []
    for start in range(0, len(unplanned), PLAN_CHUNK):
        chunk = unplanned[start:start + PLAN_CHUNK]
        schedules = schedules_for(session, config, chunk)
        rows: list[dict[str, object]] = []
        for user in chunk:
            schedule = schedules[user.slack_id]
            latest = last_due.get(user.slack_id)
            # A rep's first check-in comes at their next slot from now; later ones follow the last
            # one, and a slot missed while nothing was planned is not back-filled.
            after = now if latest is None else max(_utc(latest), now - MAX_LATENESS)
            due_at = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
            rows.append({"team_id": team_id, "rep_id": user.slack_id, "kind": "scheduled", "due_at": due_at,
                         "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now})
        inserted = insert_checkins_once(session, rows)
        created += len(inserted)
        if len(inserted) < len(rows):
            # The slot exists already (closed): with nothing planned, look again next pass, as
            # the full walk would.
            got = set(session.scalars(select(CheckIn.rep_id).where(CheckIn.id.in_(inserted))))
            retry += [u.slack_id for u in chunk if u.slack_id not in got]
    changes.plan_again(session, team_id, retry, now)
    return created


def _only(reps: list[str] | None) -> ColumnElement[bool]:
    return true() if reps is None else CheckIn.rep_id.in_(reps)


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
