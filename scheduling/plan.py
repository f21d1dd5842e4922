"""Keeping exactly one upcoming check-in row per rep.

The database is the schedule's truth: each enrolled rep has at most one `scheduled` check-in
row of kind "scheduled". Planning inserts the next one after the latest, with
ON CONFLICT DO NOTHING on (team, rep, kind, due_at), so two planners racing insert it once.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coaching.cadence import next_due
from core.config import AdminConfig
from storage.models import CheckIn
from storage.schedules import enrolled_reps, insert_checkins_once, schedules_for

OPEN_STATES = ("scheduled", "sending")
# A check-in whose time passed while the bot was down is still worth sending within this window.
MAX_LATENESS = dt.timedelta(hours=12)
PLAN_CHUNK = 500  # reps planned per query round (and rows per INSERT)


def plan_next(session: Session, config: AdminConfig, team_id: str, now: dt.datetime) -> int:
    """Give every enrolled rep without an upcoming scheduled check-in its next one. Returns how many."""
    pending = set(session.scalars(
        select(CheckIn.rep_id).where(CheckIn.team_id == team_id, CheckIn.kind == "scheduled",
                                     CheckIn.state.in_(OPEN_STATES))
    ))
    last_due = dict(session.execute(
        select(CheckIn.rep_id, func.max(CheckIn.due_at))
        .where(CheckIn.team_id == team_id, CheckIn.kind == "scheduled").group_by(CheckIn.rep_id)
    ).all())
    unplanned = [u for u in enrolled_reps(session, team_id) if u.slack_id not in pending]
    created = 0
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
            due = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
            rows.append({"team_id": team_id, "rep_id": user.slack_id, "kind": "scheduled", "due_at": due,
                         "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now})
        created += len(insert_checkins_once(session, rows))
    return created


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
