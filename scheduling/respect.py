"""Respect in one place: when each kind of message may land in its recipient's day.

Everything the bot sends on its own or on someone else's behalf waits for its recipient's allowed
hours: their working days, outside their quiet hours and holidays, in their own time zone. Reps'
hours are their cadence's; a manager's are those of the team they manage (or the team's
`manager_cadence`). Only a direct reply to a person's own action may go at once, and an edit that
takes a forgotten answer out of a message already delivered (it notifies no one).

The outbox worker asks `allowed_from` for every row it claims, so no sending path can skip it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from coaching.cadence import Cadence, cadence_of, is_allowed, next_allowed
from core.config import AdminConfig
from storage import leave
from storage.models import OutboxKind, Team, User
from storage.schedules import schedules_for, zone_of


class Rule(StrEnum):
    RECIPIENT_HOURS = "the recipient's working hours, in their own time zone"
    AT_ONCE = "at once: a direct reply to the recipient's own action"
    # chat.update, chat.delete or views.publish of what the recipient already has: no notification,
    # no new post, and a deleted or forgotten answer must leave the manager's DM at once rather
    # than the next morning.
    SILENT = "at once: it edits what the recipient already has (a message, their Home tab), notifying no one"


# Every outbox kind says whose day it lands in. tests/scheduling/test_respect.py fails for a kind
# that is missing here.
RULES: Mapping[OutboxKind, Rule] = {
    OutboxKind.CHECKIN_PROMPT: Rule.RECIPIENT_HOURS,
    OutboxKind.CHECKIN_NOW: Rule.AT_ONCE,  # the rep just asked for it with /checkin now
    OutboxKind.CHECKIN_REMINDER: Rule.RECIPIENT_HOURS,
    OutboxKind.MANAGER_QUESTION: Rule.RECIPIENT_HOURS,
    OutboxKind.ANSWER_RELAY: Rule.RECIPIENT_HOURS,
    OutboxKind.COACHING_NOTE: Rule.RECIPIENT_HOURS,
    OutboxKind.THANKS: Rule.RECIPIENT_HOURS,
    OutboxKind.CADENCE_PROPOSAL: Rule.RECIPIENT_HOURS,
    OutboxKind.CADENCE_OUTCOME: Rule.RECIPIENT_HOURS,
    OutboxKind.TEAM_INVITE: Rule.RECIPIENT_HOURS,
    OutboxKind.INVITE_OUTCOME: Rule.RECIPIENT_HOURS,
    OutboxKind.DRIFT_WARNING: Rule.RECIPIENT_HOURS,
    OutboxKind.CONTACT_GAP: Rule.RECIPIENT_HOURS,
    OutboxKind.TEAM_DIGEST: Rule.RECIPIENT_HOURS,
    OutboxKind.SUMMARY_PAGE: Rule.AT_ONCE,  # the manager just asked for this summary
    OutboxKind.NOTE_REPLY: Rule.RECIPIENT_HOURS,  # sent on the writer's behalf: the reader's day
    OutboxKind.RELAY_REFRESH: Rule.SILENT,
    OutboxKind.RETRACT: Rule.SILENT,  # a forgotten answer leaves what the bot posted at once
    OutboxKind.HOME_REFRESH: Rule.SILENT,  # views.publish replaces the Home tab, silently
    # The chart of the report the manager just asked for with /checkin health, and the CSV they
    # just asked for: replies to their own request, about their own team, landing in their own DM.
    OutboxKind.HEALTH_CHART: Rule.AT_ONCE,
    OutboxKind.SUMMARY_CSV: Rule.AT_ONCE,
    OutboxKind.HELP_NUDGE: Rule.RECIPIENT_HOURS,  # the manager's day, like a drift warning
    OutboxKind.CHECKIN_CLOSED: Rule.SILENT,  # the rep's own check-in DM loses its buttons: notifies no one
    OutboxKind.CHECKIN_REFRESH: Rule.SILENT,  # the same open DM with its new question: notifies no one
}


@dataclass(frozen=True)
class Hours:
    """When a person may be messaged: a cadence's working days, quiet hours and holidays, and a zone."""

    cadence: Cadence
    zone: ZoneInfo

    def allowed(self, moment: dt.datetime) -> bool:
        return is_allowed(moment, self.cadence, self.zone)

    def next_allowed(self, moment: dt.datetime) -> dt.datetime:
        return next_allowed(moment, self.cadence, self.zone)


def hours_of(session: Session, config: AdminConfig, team_id: str, people: Iterable[str],
             users: Mapping[str, User] | None = None, now: dt.datetime | None = None) -> dict[str, Hours]:
    """Each person's allowed hours: a manager by the team they manage, anyone else by their cadence.

    A rep's days of leave (storage.leave) count as their holidays, so nothing reaches them then.
    Someone the bot has never seen gets the default cadence in the default zone. `users` may hold
    their rows already (the worker loads a batch's people once); with `now`, leave that ended
    before it is not read.
    """
    ids = set(people)
    if not ids:
        return {}
    if users is None:
        users = load_people(session, team_id, ids)
    managed: dict[str, str] = {}
    for manager, name in session.execute(
        select(Team.manager_id, Team.name).where(Team.team_id == team_id, Team.manager_id.in_(ids))
        .order_by(Team.name)
    ):
        managed.setdefault(manager, name)
    out: dict[str, Hours] = {}
    reps = [u for slack_id, u in users.items() if slack_id not in managed]
    since = (now - dt.timedelta(days=2)).date() if now is not None else dt.date.min
    away = leave.leave_days(leave.ranges_of(session, team_id, [u.slack_id for u in reps], since))
    for slack_id, schedule in schedules_for(session, config, reps).items():
        cadence = schedule.cadence
        if away.get(slack_id):
            cadence = replace(cadence, holidays=cadence.holidays | away[slack_id])
        out[slack_id] = Hours(cadence, schedule.zone)
    for manager, name in managed.items():
        team = next((t for t in config.teams if t.name == name), None)
        out[manager] = Hours(cadence_of(config.manager_hours(team)), zone_of(users.get(manager), config))
    default = cadence_of(config.cadence)
    for slack_id in ids - out.keys():
        out[slack_id] = Hours(default, zone_of(users.get(slack_id), config))
    return out


def load_people(session: Session, team_id: str, people: Iterable[str]) -> dict[str, User]:
    return {u.slack_id: u for u in session.scalars(
        select(User).where(User.team_id == team_id, User.slack_id.in_(list(people))))}


def allowed_from(kind: OutboxKind, hours: Hours, now: dt.datetime) -> dt.datetime:
    """`now` if a message of this kind may land now, else the recipient's next allowed moment."""
    if RULES[kind] is not Rule.RECIPIENT_HOURS or hours.allowed(now):
        return now
    return hours.next_allowed(now)
