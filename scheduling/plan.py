"""Which cadence applies to a rep, and keeping exactly one upcoming check-in row per rep.

The database is the schedule's truth: each enrolled rep has at most one `scheduled` check-in
row of kind "scheduled". Planning inserts the next one after the latest, with
ON CONFLICT DO NOTHING on (team, rep, kind, due_at), so two planners racing insert it once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import ColumnElement, Select, func, select, true
from sqlalchemy.orm import Session

from core.config import AdminConfig, CadenceConfig
from scheduling.cadence import Cadence, is_allowed, next_due
from storage import changes
from storage.db import insert_ignore
from storage.models import CadenceAgreement, CheckIn, Membership, Team, User

OPEN_STATES = ("scheduled", "sending")
PLAN_CHUNK = 500  # reps planned per query round (and rows per INSERT)


@dataclass(frozen=True)
class RepSchedule:
    cadence: Cadence
    reminder_after_hours: int
    anchor: dt.date
    zone: ZoneInfo
    agreed: CadenceConfig
    source: str  # "default" | "team <name>" | "agreement"

    def describe(self) -> str:
        return self.agreed.describe()

    @property
    def touches_per_week(self) -> float:
        return {"day": float(len(self.cadence.working_days)), "week": 1.0, "2 weeks": 0.5,
                "month": 12 / 52}[self.cadence.every]


def zone_of(user: User | None, config: AdminConfig) -> ZoneInfo:
    """The person's zone from Slack, else the config's default (also for someone not seen yet)."""
    try:
        return ZoneInfo(user.tz) if user is not None and user.tz else ZoneInfo(config.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(config.default_timezone)


def in_working_hours(config: AdminConfig, user: User | None, now: dt.datetime) -> bool:
    """Managers get the bot's own DMs (digests, warnings) only in the default cadence's allowed hours."""
    return is_allowed(now, config.cadence.to_cadence(), zone_of(user, config))


def schedule_for(session: Session, config: AdminConfig, user: User) -> RepSchedule:
    """Admin default, then the rep's first config team override, then an accepted agreement."""
    return schedules_for(session, config, [user])[user.slack_id]


def schedules_for(session: Session, config: AdminConfig, users: Sequence[User]) -> dict[str, RepSchedule]:
    """`schedule_for` for many reps of one workspace at once, in two queries (a dispatch batch)."""
    if not users:
        return {}
    team_id = users[0].team_id
    ids = {u.slack_id for u in users}
    team_names: dict[str, list[str]] = {}
    for name, rep_id in session.execute(
        select(Team.name, Membership.rep_id).join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == team_id, Membership.rep_id.in_(ids), Membership.status == "active")
        .order_by(Team.name)
    ):
        team_names.setdefault(rep_id, []).append(name)
    agreements: dict[str, CadenceAgreement] = {}
    for accepted in session.scalars(
        select(CadenceAgreement)
        .where(CadenceAgreement.team_id == team_id, CadenceAgreement.rep_id.in_(ids),
               CadenceAgreement.status == "accepted")
        .order_by(CadenceAgreement.decided_at.desc(), CadenceAgreement.id.desc())
    ):
        agreements.setdefault(accepted.rep_id, accepted)  # the first is the latest
    # Reps of the same team share a cadence: build each distinct one once.
    bases: dict[str | None, tuple[CadenceConfig, Cadence]] = {}
    out: dict[str, RepSchedule] = {}
    for user in users:
        names = team_names.get(user.slack_id, [])
        team = next((t for t in config.teams if t.name in names), None)
        key = team.name if team else None
        if key not in bases:
            merged = config.team_cadence(team)
            bases[key] = (merged, merged.to_cadence())
        base, cadence = bases[key]
        source = f"team {team.name}" if team else "default"
        zone = zone_of(user, config)
        anchor = user.created_at.astimezone(zone).date()
        agreement = agreements.get(user.slack_id)
        if agreement is not None:
            base = base.with_changes(agreement.every, agreement.day, agreement.time)
            cadence = base.to_cadence()
            anchor = agreement.anchor or anchor
            source = "agreement"
        out[user.slack_id] = RepSchedule(cadence=cadence, reminder_after_hours=base.reminder_after_hours,
                                         anchor=anchor, zone=zone, agreed=base, source=source)
    return out


def insert_checkin_once(session: Session, values: dict[str, object]) -> int | None:
    """Insert a check-in unless one exists for the same rep, kind and moment. Returns its id if new."""
    ids = insert_checkins_once(session, [values])
    return ids[0] if ids else None


def insert_checkins_once(session: Session, rows: list[dict[str, object]]) -> list[int]:
    """Insert many check-ins in one statement, skipping any that exist already. Returns the new ids."""
    if not rows:
        return []
    return insert_ignore(session, CheckIn, rows, returning=CheckIn.id)


def enrolled_query(team_id: str, among: Sequence[str] | None = None) -> Select[User]:
    """Reps who get scheduled check-ins: members of a team, or who enrolled themselves.

    `among` limits it to those people, and the membership lookup with them, so the query reads
    only their rows, not the whole team's memberships.
    """
    members = select(Membership.rep_id).where(Membership.team_id == team_id, Membership.status == "active")
    query = select(User).where(User.team_id == team_id, User.parked_reason.is_(None))
    if among is not None:
        members = members.where(Membership.rep_id.in_(among))
        query = query.where(User.slack_id.in_(among))
    return query.where((User.role == "rep") | User.slack_id.in_(members))


def enrolled_reps(session: Session, team_id: str) -> list[User]:
    """Reps who get scheduled check-ins: members of a team, or who enrolled themselves."""
    return list(session.scalars(enrolled_query(team_id).order_by(User.id)))


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
            after = now if latest is None else max(_utc(latest), now - dt.timedelta(hours=12))
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
