"""Pass steps around the main send: zone refresh, crash recovery and gentle reminders."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import select, update

from core.services import Services
from handlers.render.checkin import reminder
from scheduling.cadence import is_allowed
from scheduling.plan import enrolled_reps, schedule_for
from scheduling.sender import PERMANENT_USER_ERRORS, classify_error, find_sent, post
from storage.models import CheckIn, User

if TYPE_CHECKING:
    from scheduling.dispatch import PassReport

log = logging.getLogger(__name__)

ZONE_REFRESH = dt.timedelta(hours=24)  # time zones are cached and refreshed daily
# How long a 'sending' claim is trusted before another pass checks Slack for the message.
CLAIM_LEASE = dt.timedelta(minutes=2)
ZONE_LOOKUPS_PER_PASS = 2000


def refresh_zones(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Fetch each rep's IANA zone from users.info when unknown or older than a day."""
    with services.sessions.begin() as session:
        stale = [u.slack_id for u in enrolled_reps(session, services.team_id)
                 if u.tz_refreshed_at is None or now - u.tz_refreshed_at >= ZONE_REFRESH]
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
        results = list(pool.map(lookup, stale[:ZONE_LOOKUPS_PER_PASS]))
    from scheduling.dispatch import park

    with services.sessions.begin() as session:
        for user_id, zone, name, permanent in results:
            if permanent:
                park(session, services.team_id, user_id, permanent, now)
                report.add("parked")
                continue
            user = session.scalar(select(User).where(User.team_id == services.team_id, User.slack_id == user_id))
            if user is None:
                continue
            if zone and _valid_zone(zone):
                user.tz = zone
                user.tz_refreshed_at = now
            if name:
                user.display_name = name[:255]
            report.add("zones_refreshed")


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def recover_stuck(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Rows left 'sending' by a crashed pass: mark sent if Slack has the message, else release."""
    with services.sessions.begin() as session:
        stuck = list(session.execute(
            select(CheckIn.id, CheckIn.rep_id, CheckIn.claimed_at)
            .where(CheckIn.team_id == services.team_id, CheckIn.state == "sending",
                   CheckIn.claimed_at < now - CLAIM_LEASE)
        ).all())
    for checkin_id, rep_id, claimed_at in stuck:
        oldest = (claimed_at - dt.timedelta(minutes=1)).timestamp() if claimed_at else 0.0
        try:
            found = find_sent(services.client, rep_id, "checkin_prompt", "checkin_id", checkin_id, oldest)
        except LookupError:
            continue  # can't tell yet; leave it claimed rather than risk a duplicate
        with services.sessions.begin() as session:
            values: dict[str, object]
            if found:
                values = {"state": "sent", "channel": found[0], "message_ts": found[1], "sent_at": now,
                          "claimed_by": None}
                report.add("recovered")
            else:
                # Never reached Slack: let the normal send path (and its lateness rule) decide.
                values = {"state": "scheduled", "claimed_by": None, "claimed_at": None}
                report.add("released")
            session.execute(update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state == "sending")
                            .values(**values).execution_options(synchronize_session=False))


def send_reminders(services: Services, now: dt.datetime, report: PassReport) -> None:
    """At most one gentle reminder per scheduled check-in, after `reminder_after_hours`, in allowed hours."""
    with services.sessions.begin() as session:
        candidates = list(session.execute(
            select(CheckIn, User).join(User, (User.team_id == CheckIn.team_id) & (User.slack_id == CheckIn.rep_id))
            .where(CheckIn.team_id == services.team_id, CheckIn.state == "sent", CheckIn.kind == "scheduled",
                   CheckIn.reminder_sent_at.is_(None), CheckIn.sent_at <= now - dt.timedelta(hours=1))
        ).all())
        due: list[tuple[int, str, int | None, str, str | None]] = []
        for checkin, user in candidates:
            schedule = schedule_for(session, services.config, user)
            hours = schedule.reminder_after_hours
            if hours == 0 or checkin.sent_at is None or now - checkin.sent_at < dt.timedelta(hours=hours):
                continue
            if (user.paused_until and user.paused_until > now) or user.parked_reason:
                continue
            if not is_allowed(now, schedule.cadence, schedule.zone):
                continue
            due.append((checkin.id, checkin.rep_id, checkin.goal_id, checkin.channel or checkin.rep_id,
                        checkin.message_ts))
    for checkin_id, rep_id, goal_id, channel, thread_ts in due:
        with services.sessions.begin() as session:
            claimed = session.execute(
                update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.reminder_sent_at.is_(None),
                                      CheckIn.state == "sent")
                .values(reminder_sent_at=now).execution_options(synchronize_session=False))
        if not getattr(claimed, "rowcount", 0):
            continue  # another pass took it
        result = post(services.client, **reminder(checkin_id, rep_id, goal_id, channel, thread_ts))
        if result.outcome == "ok":
            report.add("reminders")
        elif result.outcome == "transient":
            with services.sessions.begin() as session:  # give it back for the next pass
                session.execute(update(CheckIn).where(CheckIn.id == checkin_id)
                                .values(reminder_sent_at=None).execution_options(synchronize_session=False))
