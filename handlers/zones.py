"""Keeping people's time zones and names fresh from Slack (a pass step that calls Slack).

Reps' and managers' zones alike: the respect rules put every message in its recipient's own
day, so a manager's zone matters as much as a rep's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import select, union
from sqlalchemy.orm import Session

from coaching.cadence import local_to_utc, next_due
from core.services import Services
from handlers.delivery import park
from handlers.sender import PERMANENT_USER_ERRORS, classify_error
from scheduling.report import PassReport
from storage import lifecycle, outbox
from storage.models import CheckIn, Team, User
from storage.people import ensure_user
from storage.schedules import enrolled_query, schedule_for, zone_of
from storage.summary import names_of

log = logging.getLogger(__name__)

ZONE_REFRESH = dt.timedelta(hours=24)  # time zones are cached and refreshed daily
ZONE_LOOKUPS_PER_PASS = 2000


def refresh_zones(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Fetch each rep's IANA zone from users.info when unknown or older than a day."""
    with services.sessions.begin() as session:
        stale = _stale_people(session, services.team_id, now - ZONE_REFRESH)
    if not stale:
        return

    def lookup(user_id: str) -> tuple[str, str | None, str | None, str | None]:
        try:
            info = services.client.users_info(user=user_id)["user"]
        except (SlackApiError, SlackRequestError, OSError) as exc:
            outcome, error = classify_error(exc)
            return user_id, None, None, error if outcome == "permanent" or error in PERMANENT_USER_ERRORS else None
        if info.get("deleted"):
            return user_id, None, None, "account_inactive"
        return user_id, info.get("tz"), info.get("real_name") or info.get("name"), None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lookup, stale))
    with services.sessions.begin() as session:
        users = {u.slack_id: u for u in session.scalars(select(User).where(
            User.team_id == services.team_id, User.slack_id.in_([r[0] for r in results])))}
        for user_id, zone, name, permanent in results:
            if permanent:
                park(session, services.team_id, user_id, permanent, now)
                report.add("parked")
                continue
            user = users.get(user_id)
            if user is None:
                continue
            # Slack answered: a profile without a zone keeps the default until the next daily
            # refresh, rather than being looked up again on every pass.
            user.tz_refreshed_at = now
            if zone and _valid_zone(zone):
                old_zone = zone_of(user, services.config)
                user.tz = zone
                if old_zone != ZoneInfo(zone):
                    report.add("retimed", _retime_pending(session, services, user, old_zone))
                    outbox.reconsider(session, services.team_id, user.slack_id, now)
            if name:
                user.display_name = name[:255]
            report.add("zones_refreshed")


def _stale_people(session: Session, team_id: str, before: dt.datetime) -> list[str]:
    """The first ZONE_LOOKUPS_PER_PASS enrolled reps and managers (by id) whose zone is unknown or
    was last read before `before`. Two range scans of ix_users_tz_refreshed find them: an idle
    pass reads no one at all, however many people there are."""
    stale = session.execute(union(
        select(User.id, User.slack_id).where(User.team_id == team_id, User.tz_refreshed_at.is_(None)),
        select(User.id, User.slack_id).where(User.team_id == team_id, User.tz_refreshed_at <= before),
    ).order_by("id")).all()
    found: list[str] = []
    for start in range(0, len(stale), ZONE_LOOKUPS_PER_PASS):
        chunk = [row.slack_id for row in stale[start:start + ZONE_LOOKUPS_PER_PASS]]
        reps = set(session.scalars(enrolled_query(team_id, chunk).with_only_columns(User.slack_id)))
        managers = set(session.scalars(select(Team.manager_id).where(Team.team_id == team_id,
                                                                      Team.manager_id.in_(chunk))))
        found += [slack_id for slack_id in chunk if slack_id in reps or slack_id in managers]
        if len(found) >= ZONE_LOOKUPS_PER_PASS:
            break
    return found[:ZONE_LOOKUPS_PER_PASS]


def _retime_pending(session: Session, services: Services, user: User, old_zone: ZoneInfo) -> int:
    """A rep who moved gets their next check-in at its local time in the new zone. Returns how many.

    The upcoming row was planned in the old zone; left alone it would arrive at the old zone's hour
    (or in the new zone's quiet hours, and expire). It moves to the first slot on the same local day
    or later; snoozed rows keep the moment the rep chose.
    """
    schedule = schedule_for(session, services.config, user)  # user.tz is already the new zone
    rows = session.execute(
        select(CheckIn.id, CheckIn.due_at)
        .where(CheckIn.team_id == user.team_id, CheckIn.rep_id == user.slack_id, CheckIn.kind == "scheduled",
               CheckIn.state == "scheduled", CheckIn.snoozed_until.is_(None), CheckIn.message_ts.is_(None))
    ).all()
    moved = 0
    for checkin_id, due_at in rows:
        day = due_at.astimezone(old_zone).date()
        after = local_to_utc(day, dt.time(0, 0), schedule.zone) - dt.timedelta(microseconds=1)
        due = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
        taken = session.scalar(select(CheckIn.id).where(
            CheckIn.team_id == user.team_id, CheckIn.rep_id == user.slack_id, CheckIn.kind == "scheduled",
            CheckIn.due_at == due))
        if due == due_at or taken is not None:
            continue  # already right, or the slot exists (unique per rep and moment): leave it
        moved += lifecycle.retime(session, checkin_id, due)
    return moved


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True




def fill_names(services: Services, user_ids: Sequence[str]) -> dict[str, str]:
    """Display names for people we name in messages, and the zones of people we are about to message.

    Someone the bot has not looked up yet (no name, or a zone never read) is looked up once with
    users.info, before anything is queued for them: a message held for their morning must be held
    for *their* morning, not the default zone's. Their row is kept as a guest (looking someone up
    enrols no one).
    """
    now = services.now()
    with services.sessions.begin() as session:
        names = names_of(session, services.team_id, user_ids)
        known = {u.slack_id for u in session.scalars(select(User).where(
            User.team_id == services.team_id, User.slack_id.in_(list(user_ids)), User.tz_refreshed_at.is_not(None)))}
    for user_id in [u for u in user_ids if names.get(u) == u or u not in known]:
        try:
            info = services.client.users_info(user=user_id)["user"]
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.info("could not look up %s: %s", user_id, type(exc).__name__)
            continue
        name = str(info.get("real_name") or info.get("name") or "")[:255]
        zone = info.get("tz")
        with services.sessions.begin() as session:
            user = ensure_user(session, services.team_id, user_id, now, role="guest")
            if name:
                user.display_name = names[user_id] = name
            if zone and _valid_zone(zone):
                user.tz = zone
            user.tz_refreshed_at = now
    return names
