"""Which cadence applies to a rep, and keeping exactly one upcoming check-in row per rep.

The database is the schedule's truth: each enrolled rep has at most one `scheduled` check-in
row of kind "scheduled". Planning inserts the next one after the latest, with
ON CONFLICT DO NOTHING on (team, rep, kind, due_at), so two planners racing insert it once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.config import AdminConfig, CadenceConfig
from scheduling.cadence import Cadence, next_due
from storage.models import CadenceAgreement, CheckIn, Membership, Team, User

OPEN_STATES = ("scheduled", "sending")


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


def zone_of(user: User, config: AdminConfig) -> ZoneInfo:
    try:
        return ZoneInfo(user.tz) if user.tz else ZoneInfo(config.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(config.default_timezone)


def schedule_for(session: Session, config: AdminConfig, user: User) -> RepSchedule:
    """Admin default, then the rep's first config team override, then an accepted agreement."""
    team_names = session.scalars(
        select(Team.name).join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == user.team_id, Membership.rep_id == user.slack_id,
               Membership.status == "active").order_by(Team.name)
    ).all()
    team = next((t for t in config.teams if t.name in team_names), None)
    base = config.team_cadence(team)
    source = f"team {team.name}" if team else "default"
    zone = zone_of(user, config)
    anchor = user.created_at.astimezone(zone).date()
    agreement = latest_agreement(session, user.team_id, user.slack_id)
    if agreement is not None:
        changes: dict[str, str] = {"every": agreement.every}
        if agreement.day:
            changes["day"] = agreement.day
        if agreement.time:
            changes["time"] = agreement.time
        base = CadenceConfig.model_validate({**base.model_dump(), **changes})
        anchor = agreement.anchor or anchor
        source = "agreement"
    return RepSchedule(cadence=base.to_cadence(), reminder_after_hours=base.reminder_after_hours,
                       anchor=anchor, zone=zone, agreed=base, source=source)


def latest_agreement(session: Session, team_id: str, rep_id: str) -> CadenceAgreement | None:
    return session.scalar(
        select(CadenceAgreement)
        .where(CadenceAgreement.team_id == team_id, CadenceAgreement.rep_id == rep_id,
               CadenceAgreement.status == "accepted")
        .order_by(CadenceAgreement.decided_at.desc(), CadenceAgreement.id.desc()).limit(1)
    )


def insert_checkin_once(session: Session, values: dict[str, object]) -> int | None:
    """Insert a check-in unless one exists for the same rep, kind and moment. Returns its id if new."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(CheckIn).values(**values).on_conflict_do_nothing().returning(CheckIn.id)
    return session.execute(statement).scalar_one_or_none()


def enrolled_reps(session: Session, team_id: str) -> list[User]:
    """Reps who get scheduled check-ins: members of a team, or who enrolled themselves."""
    members = select(Membership.rep_id).where(Membership.team_id == team_id, Membership.status == "active")
    return list(session.scalars(
        select(User).where(User.team_id == team_id, User.parked_reason.is_(None))
        .where((User.role == "rep") | User.slack_id.in_(members))
        .order_by(User.id)
    ))


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
    created = 0
    for user in enrolled_reps(session, team_id):
        if user.slack_id in pending:
            continue
        schedule = schedule_for(session, config, user)
        latest = last_due.get(user.slack_id)
        # A rep's first check-in comes at their next slot from now; later ones follow the last one,
        # and a slot missed while nothing was planned is not back-filled.
        after = now if latest is None else max(_utc(latest), now - dt.timedelta(hours=12))
        due = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
        if insert_checkin_once(session, {
            "team_id": team_id, "rep_id": user.slack_id, "kind": "scheduled", "due_at": due,
            "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now,
        }) is not None:
            created += 1
    return created


def _utc(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
