"""Which cadence applies to a rep (read from the config and the database), and who is enrolled.

Storage owns these reads so that storage modules (guard history, summaries) never import
scheduling; scheduling/plan.py builds on them to plan the next check-in.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from coaching.cadence import Cadence, cadence_of
from core.config import AdminConfig, CadenceConfig
from core.timezones import zone
from storage import outbox
from storage.db import insert_ignore
from storage.models import CadenceAgreement, CheckIn, Membership, Team, User


@dataclass(frozen=True)
class RepSchedule:
    cadence: Cadence
    reminder_after_hours: int
    anchor: dt.date
    zone: ZoneInfo
    agreed: CadenceConfig
    source: str  # "default" | "team <name>" | "agreement"

    @property
    def touches_per_week(self) -> float:
        return {"day": float(len(self.cadence.working_days)), "week": 1.0, "2 weeks": 0.5,
                "month": 12 / 52}[self.cadence.every]


def zone_of(user: User | None, config: AdminConfig) -> ZoneInfo:
    """The person's zone from Slack, else the config's default (also for someone not seen yet)."""
    try:
        return zone(user.tz) if user is not None and user.tz else zone(config.default_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return zone(config.default_timezone)


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
            bases[key] = (merged, cadence_of(merged))
        base, cadence = bases[key]
        source = f"team {team.name}" if team else "default"
        zone = zone_of(user, config)
        anchor = user.created_at.astimezone(zone).date()
        agreement = agreements.get(user.slack_id)
        if agreement is not None:
            base = base.with_changes(agreement.every, agreement.day, agreement.time)
            cadence = cadence_of(base)
            anchor = agreement.anchor or anchor
            source = "agreement"
        calendar = team.holiday_calendars.get(user.slack_id) if team else None
        if calendar is not None:
            cadence = dataclasses.replace(cadence, calendar=calendar)
        out[user.slack_id] = RepSchedule(cadence=cadence, reminder_after_hours=base.reminder_after_hours,
                                         anchor=anchor, zone=zone, agreed=base, source=source)
    return out


def insert_checkin_once(session: Session, values: dict[str, object],
                        payload: dict[str, object] | None = None) -> int | None:
    """Insert a check-in unless one exists for the same rep, kind and moment. Returns its id if new."""
    ids = insert_checkins_once(session, [values], payload)
    return ids[0] if ids else None


def insert_checkins_once(session: Session, rows: list[dict[str, object]],
                         payload: dict[str, object] | None = None) -> list[int]:
    """Insert many check-ins in one statement, skipping any that exist already. Returns the new ids.

    Each new check-in gets its outbox row in the same transaction, due at its due moment.
    """
    if not rows:
        return []
    ids = insert_ignore(session, CheckIn, rows, returning=CheckIn.id)
    if ids:
        now = min(cast(dt.datetime, r["created_at"]) for r in rows)
        new = session.execute(select(CheckIn.id, CheckIn.team_id, CheckIn.rep_id, CheckIn.kind, CheckIn.due_at)
                              .where(CheckIn.id.in_(ids))).all()
        outbox.enqueue_many(session, [outbox.checkin_message(c.team_id, c.rep_id, c.id, c.kind, c.due_at,
                                                             payload=payload) for c in new], now)
    return ids


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
