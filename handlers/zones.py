"""People's time zones and names from Slack: what a profile changes, users.info for one person,
and the `user_change` event (the daily users.list sweep is handlers/sweep.py).

Reps' and managers' zones alike: the respect rules put every message in its recipient's own
day, so a manager's zone matters as much as a rep's.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from coaching.cadence import local_to_utc, next_due
from core.services import Services
from core.timezones import is_zone, zone
from handlers import pacing
from handlers.delivery import park
from handlers.pacing import MAX_WAIT
from handlers.sender import PERMANENT_USER_ERRORS, classify_error
from scheduling.report import PassReport
from storage import lifecycle, outbox
from storage.models import CheckIn, Team, User, UserSweep
from storage.people import ensure_user
from storage.schedules import enrolled_query, schedule_for, zone_of
from storage.summary import names_of

log = logging.getLogger(__name__)

ZONE_REFRESH = dt.timedelta(hours=24)  # the daily users.list sweep refreshes every zone
# Someone asked about and not answered (rate-limited, Slack down) is asked again after this.
LOOKUP_RETRY = dt.timedelta(hours=1)


@dataclass(frozen=True)
class Profile:
    """What the bot keeps of a Slack user object (users.list member, users.info, user_change)."""

    user_id: str
    zone: str | None
    name: str | None
    deleted: bool

    @classmethod
    def of(cls, member: dict[str, Any]) -> Profile:
        profile = member.get("profile") or {}
        name = member.get("real_name") or profile.get("real_name") or member.get("name")
        return cls(str(member.get("id") or ""), member.get("tz") or None, str(name)[:255] if name else None,
                   bool(member.get("deleted")))


def apply_profiles(session: Session, services: Services, profiles: Sequence[Profile], now: dt.datetime,
                   report: PassReport) -> int:
    """Store zones and names for the people the bot already knows; returns how many it knew.

    Nobody new gets a row (seeing someone in a users.list page enrols no one). A new zone moves
    their next check-in to its local time and makes rows held for their hours due again; a
    deactivated account parks them. A profile without a zone keeps the default zone until the next
    daily sweep, rather than being looked up again on every pass.
    """
    by_id = {p.user_id: p for p in profiles if p.user_id}
    if not by_id:
        return 0
    users = list(session.scalars(select(User).where(User.team_id == services.team_id,
                                                    User.slack_id.in_(list(by_id)))))
    reconsider: list[str] = []
    moved: list[tuple[User, ZoneInfo]] = []
    for user in users:
        profile = by_id[user.slack_id]
        if profile.deleted:
            user.last_lookup_at = now
            park(session, services.team_id, user.slack_id, "account_inactive", now)
            report.add("parked")
            continue
        if user.tz_refreshed_at is None and user.last_lookup_at is None:
            reconsider.append(user.slack_id)  # rows held until their zone was read (handlers.delivery)
        user.tz_refreshed_at = user.last_lookup_at = now
        if profile.zone and is_zone(profile.zone) and profile.zone != user.tz:
            old_zone = zone_of(user, services.config)
            user.tz = profile.zone
            if old_zone != zone(profile.zone):
                moved.append((user, old_zone))
                reconsider.append(user.slack_id)
        if profile.name and profile.name != user.display_name:
            user.display_name = profile.name
        report.add("zones_refreshed")
    session.flush()
    report.add("retimed", _retime_pending(session, services, moved, now))
    outbox.reconsider_many(session, services.team_id, sorted(set(reconsider)), now)
    return len(users)


def unseen_people(session: Session, team_id: str, now: dt.datetime, limit: int) -> list[str]:
    """Enrolled reps and managers (by id) whose zone Slack never gave us, not asked about in the last
    LOOKUP_RETRY. One range scan of ix_users_tz_refreshed: an idle pass reads no one."""
    stale = session.execute(
        select(User.id, User.slack_id).where(
            User.team_id == team_id, User.tz_refreshed_at.is_(None),
            or_(User.last_lookup_at.is_(None), User.last_lookup_at <= now - LOOKUP_RETRY))
        .order_by(User.id)).all()
    found: list[str] = []
    for start in range(0, len(stale), CHUNK):
        chunk = [row.slack_id for row in stale[start:start + CHUNK]]
        reps = set(session.scalars(enrolled_query(team_id, chunk).with_only_columns(User.slack_id)))
        managers = set(session.scalars(select(Team.manager_id).where(Team.team_id == team_id,
                                                                      Team.manager_id.in_(chunk))))
        found += [slack_id for slack_id in chunk if slack_id in reps or slack_id in managers]
        if len(found) >= limit:
            break
    return found[:limit]


def lookup_one(services: Services, user_id: str, now: dt.datetime, report: PassReport,
               max_wait: float = MAX_WAIT) -> Profile | None:
    """users.info for one person the sweep has not seen, within the budget; stamps the attempt."""
    profile: Profile | None = None
    try:
        info = pacing.call(services, services.team_id, "users.info",
                           lambda client: client.users_info(user=user_id), max_wait)["user"]
        profile = Profile.of(info)
    except pacing.Limited:
        report.add("lookups_rate_limited")
    except (SlackApiError, SlackRequestError, OSError) as exc:
        outcome, error = classify_error(exc)
        if outcome == "permanent" or error in PERMANENT_USER_ERRORS:
            with services.sessions.begin() as session:
                park(session, services.team_id, user_id, error, now)
            report.add("parked")
        else:
            log.info("could not look up %s: %s", user_id, error)
    with services.sessions.begin() as session:
        if profile is not None:
            apply_profiles(session, services, [profile], now, report)
        session.execute(update(User).where(User.team_id == services.team_id, User.slack_id == user_id)
                        .values(last_lookup_at=now).execution_options(synchronize_session=False))
    return profile


CHUNK = 2000
PAGE = 1000  # Slack's largest users.list page
# More new people than this, and one users.list page is cheaper than a users.info each.
INFO_AT_MOST = 20
# An extra sweep for many new people, at most this often (a daily one comes anyway).
EXTRA_SWEEP_GAP = dt.timedelta(hours=1)
# A sweep left unfinished this long starts over rather than resuming a stale cursor.
SWEEP_RESTART = dt.timedelta(hours=12)
# A pass waits at most this long for one page's budget (Tier 2: about 3 s a page).
PAGE_WAIT = 10.0


def _page(client: WebClient, cursor: str | None) -> Any:
    return client.users_list(limit=PAGE, cursor=cursor)


def sweep_users(services: Services, now: dt.datetime, report: PassReport, page_wait: float = PAGE_WAIT) -> bool:
    """Page through users.list from where the sweep stands. True when it reached the last page."""
    team_id = services.team_id
    with services.sessions.begin() as session:
        sweep = session.get(UserSweep, team_id)
        if sweep is None:
            sweep = UserSweep(team_id=team_id, started_at=now)
            session.add(sweep)
        elif sweep.finished_at is not None or now - sweep.started_at > SWEEP_RESTART:
            sweep.started_at, sweep.cursor, sweep.finished_at = now, None, None
        cursor = sweep.cursor
    while True:
        try:
            page: Any = pacing.call(services, team_id, "users.list", partial(_page, cursor=cursor), page_wait)
        except pacing.Limited:
            report.add("sweep_paused")
            return False
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.info("users.list stopped: %s", type(exc).__name__)
            return False
        members = page.get("members") or []
        cursor = ((page.get("response_metadata") or {}).get("next_cursor")) or None
        with services.sessions.begin() as session:
            apply_profiles(session, services, [Profile.of(m) for m in members if isinstance(m, dict)], now, report)
            sweep = session.get(UserSweep, team_id)
            if sweep is not None:
                sweep.cursor = cursor
                if cursor is None:
                    sweep.finished_at = services.now()
        report.add("users_list_pages")
        if cursor is None:
            return True


def _retime_pending(session: Session, services: Services, moved: Sequence[tuple[User, ZoneInfo]],
                    now: dt.datetime) -> int:
    """Reps who moved get their next check-in at its local time in the new zone. Returns how many.

    The upcoming row was planned in the old zone; left alone it would arrive at the old zone's hour
    (or in the new zone's quiet hours, and expire). It moves to the first slot on the same local day
    or later, never one already past (a zone learnt late must not make a check-in late). One already
    due stays due: it goes now if their own hours allow, else at their next allowed moment (the
    worker checks). Snoozed rows keep the moment the rep chose. One query per chunk of people, not
    one each: a users.list page of new people, whose first check-in is due already, has none.
    """
    by_rep = {user.slack_id: (user, old_zone) for user, old_zone in moved}
    pending: dict[str, list[tuple[int, dt.datetime]]] = {}
    ids = list(by_rep)
    for start in range(0, len(ids), CHUNK):
        for rep_id, checkin_id, due_at in session.execute(
                select(CheckIn.rep_id, CheckIn.id, CheckIn.due_at)
                .where(CheckIn.team_id == services.team_id, CheckIn.rep_id.in_(ids[start:start + CHUNK]),
                       CheckIn.kind == "scheduled", CheckIn.state == "scheduled", CheckIn.snoozed_until.is_(None),
                       CheckIn.message_ts.is_(None), CheckIn.due_at > now)):
            pending.setdefault(rep_id, []).append((checkin_id, due_at))
    retimed = 0
    for rep_id, rows in pending.items():
        user, old_zone = by_rep[rep_id]
        schedule = schedule_for(session, services.config, user)  # user.tz is already the new zone
        for checkin_id, due_at in rows:
            day = due_at.astimezone(old_zone).date()
            after = max(local_to_utc(day, dt.time(0, 0), schedule.zone) - dt.timedelta(microseconds=1), now)
            due = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
            taken = session.scalar(select(CheckIn.id).where(
                CheckIn.team_id == user.team_id, CheckIn.rep_id == user.slack_id, CheckIn.kind == "scheduled",
                CheckIn.due_at == due))
            if due == due_at or taken is not None:
                continue  # already right, or the slot exists (unique per rep and moment): leave it
            retimed += lifecycle.retime(session, checkin_id, due)
    return retimed


def fill_names(services: Services, user_ids: Sequence[str]) -> dict[str, str]:
    """Display names for people we name in messages, and the zones of people we are about to message.

    Someone the sweep has not seen yet (no name, or a zone never read) is looked up once with
    users.info, before anything is queued for them: a message held for their morning must be held
    for *their* morning, not the default zone's. Their row is kept as a guest (looking someone up
    enrols no one). Someone asked about within LOOKUP_RETRY is not asked again, and a lookup waits
    half a second for its budget at most (a person is waiting, and so is Bolt's thread); many new
    people at once are read from a users.list page instead.
    """
    now = services.now()
    with services.sessions.begin() as session:
        names = names_of(session, services.team_id, user_ids)
        rows = {u.slack_id: u for u in session.scalars(select(User).where(
            User.team_id == services.team_id, User.slack_id.in_(list(user_ids))))}
        asked = {u for u, row in rows.items() if row.last_lookup_at and row.last_lookup_at > now - LOOKUP_RETRY}
        known = {u for u, row in rows.items() if row.tz_refreshed_at is not None}
        for user_id in user_ids:
            if user_id not in rows:
                ensure_user(session, services.team_id, user_id, now, role="guest")
    report = PassReport()
    wanted = [u for u in user_ids if (names.get(u) == u or u not in known) and u not in asked]
    if len(wanted) > INFO_AT_MOST and _may_sweep(services, now):
        sweep_users(services, now, report, page_wait=1.0)  # a page of users.list, not a users.info each
        with services.sessions.begin() as session:
            names = names_of(session, services.team_id, user_ids)
            fresh = set(session.scalars(select(User.slack_id).where(
                User.team_id == services.team_id, User.slack_id.in_(wanted), User.last_lookup_at == now)))
        wanted = [u for u in wanted if u not in fresh]
    for user_id in wanted[:INFO_AT_MOST]:
        profile = lookup_one(services, user_id, now, report, max_wait=0.5)
        if profile is not None and profile.name:
            names[user_id] = profile.name
    return names


def _may_sweep(services: Services, now: dt.datetime) -> bool:
    with services.sessions.begin() as session:
        sweep = session.get(UserSweep, services.team_id)
        return sweep is None or sweep.finished_at is None or now - sweep.started_at >= EXTRA_SWEEP_GAP
