"""Pass steps around the main send: zone refresh, crash recovery and gentle reminders."""

from __future__ import annotations

import datetime as dt
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import select, union, update
from sqlalchemy.orm import Session

from core.services import Services
from handlers.render.checkin import reminder
from scheduling.cadence import is_allowed, local_to_utc, next_due
from scheduling.plan import enrolled_query, schedule_for, schedules_for, zone_of
from scheduling.sender import PERMANENT_USER_ERRORS, classify_error, find_sent, post
from storage.changes import touch_reps
from storage.checkins import expire_older_open
from storage.models import CheckIn, User

if TYPE_CHECKING:
    from scheduling.dispatch import PassReport

log = logging.getLogger(__name__)

ZONE_REFRESH = dt.timedelta(hours=24)  # time zones are cached and refreshed daily
# How long a 'sending' claim is trusted before another pass checks Slack for the message. It must
# outlast a claimed batch's posting, even when Slack is slow: a pass claims at most two batches
# ahead of its posts (2 x BATCH / CONCURRENCY = 32 posts per thread), and each post can take its
# 10 s timeout plus the client's retries. Too short, and a live pass's row is "recovered" and sent
# twice; too long only delays recovery after a crash (check-ins may be up to 12 hours late).
CLAIM_LEASE = dt.timedelta(minutes=10)
ZONE_LOOKUPS_PER_PASS = 2000
REMINDER_CHUNK = 256  # reminders claimed per transaction


def refresh_zones(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Fetch each rep's IANA zone from users.info when unknown or older than a day."""
    with services.sessions.begin() as session:
        stale = _stale_reps(session, services.team_id, now - ZONE_REFRESH)
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
    from scheduling.dispatch import park

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
            if zone and _valid_zone(zone):
                old_zone = zone_of(user, services.config)
                user.tz = zone
                user.tz_refreshed_at = now
                if old_zone != ZoneInfo(zone):
                    report.add("retimed", _retime_pending(session, services, user, old_zone))
            if name:
                user.display_name = name[:255]
            report.add("zones_refreshed")


def _stale_reps(session: Session, team_id: str, before: dt.datetime) -> list[str]:
    """The first ZONE_LOOKUPS_PER_PASS enrolled reps (by id) whose zone is unknown or last read
    before `before`. Two range scans of ix_users_tz_refreshed find them: an idle pass reads no
    rep at all, however many there are."""
    stale = session.execute(union(
        select(User.id, User.slack_id).where(User.team_id == team_id, User.tz_refreshed_at.is_(None)),
        select(User.id, User.slack_id).where(User.team_id == team_id, User.tz_refreshed_at <= before),
    ).order_by("id")).all()
    found: list[str] = []
    for start in range(0, len(stale), ZONE_LOOKUPS_PER_PASS):
        chunk = [row.slack_id for row in stale[start:start + ZONE_LOOKUPS_PER_PASS]]
        found += session.scalars(enrolled_query(team_id, chunk).order_by(User.id)
                                 .with_only_columns(User.slack_id)).all()
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
        result = session.execute(
            update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state == "scheduled")
            .values(due_at=due).execution_options(synchronize_session=False))
        moved += getattr(result, "rowcount", 0)
    return moved


def _valid_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def recover_stuck(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Rows left 'sending' by a crashed pass: mark sent if Slack has the message, else release."""
    with services.sessions.begin() as session:
        stuck: list[tuple[int, str, dt.datetime | None, int]] = [
            (r.id, r.rep_id, r.claimed_at, r.attempts) for r in session.execute(
                select(CheckIn.id, CheckIn.rep_id, CheckIn.claimed_at, CheckIn.attempts)
                .where(CheckIn.team_id == services.team_id, CheckIn.state == "sending",
                       CheckIn.claimed_at < now - CLAIM_LEASE))]
    if not stuck:
        return

    def look(row: tuple[int, str, dt.datetime | None, int]) -> tuple[str, str] | None | LookupError:
        checkin_id, rep_id, claimed_at, _ = row
        oldest = (claimed_at - dt.timedelta(minutes=1)).timestamp() if claimed_at else 0.0
        try:
            return find_sent(services.client, rep_id, "checkin_prompt", "checkin_id", checkin_id, oldest)
        except LookupError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="recover") as pool:
        found_all = list(pool.map(look, stuck))
    for (checkin_id, rep_id, _, attempts), found in zip(stuck, found_all, strict=True):
        if isinstance(found, LookupError):
            continue  # can't tell yet; leave it claimed rather than risk a duplicate
        with services.sessions.begin() as session:
            values: dict[str, object]
            if found:
                # sent_at is when Slack posted it (the message ts), which reminders count from.
                sent_at = dt.datetime.fromtimestamp(float(found[1]), dt.UTC)
                values = {"state": "sent", "channel": found[0], "message_ts": found[1], "sent_at": sent_at,
                          "claimed_by": None}
            else:
                # Never reached Slack: let the normal send path (and its lateness rule) decide.
                values = {"state": "scheduled", "claimed_by": None, "claimed_at": None}
            # Only the claim we looked at: every claim bumps `attempts`, so if another pass has
            # meanwhile released and re-claimed the row (and may be posting it now), leave it be.
            result = session.execute(
                update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state == "sending",
                                      CheckIn.attempts == attempts)
                .values(**values).execution_options(synchronize_session=False))
            if getattr(result, "rowcount", 0):
                report.add("recovered" if found else "released")
                if found:  # as after any send, older unanswered check-ins are superseded
                    expire_older_open(session, services.team_id, {rep_id: checkin_id}, now)
                    # sent_at is in the past, maybe before the last pass's mark: say so explicitly.
                    touch_reps(session, services.team_id, [rep_id])


def send_reminders(services: Services, now: dt.datetime, report: PassReport) -> None:
    """At most one gentle reminder per scheduled check-in, after `reminder_after_hours`, in allowed hours.

    A reminder is claimed (reminder_sent_at set) before it is posted, so two passes never both send
    it; a crash in between loses it rather than sending it twice.
    """
    with services.sessions.begin() as session:
        candidates = list(session.execute(
            select(CheckIn, User).join(User, (User.team_id == CheckIn.team_id) & (User.slack_id == CheckIn.rep_id))
            .where(CheckIn.team_id == services.team_id, CheckIn.state == "sent", CheckIn.kind == "scheduled",
                   CheckIn.reminder_sent_at.is_(None), CheckIn.sent_at <= now - dt.timedelta(hours=1))
        ).all())
        schedules = schedules_for(session, services.config, list({u.slack_id: u for _, u in candidates}.values()))
        due: list[tuple[int, str, int | None, str, str | None]] = []
        for checkin, user in candidates:
            schedule = schedules[user.slack_id]
            hours = schedule.reminder_after_hours
            if hours == 0 or checkin.sent_at is None or now - checkin.sent_at < dt.timedelta(hours=hours):
                continue
            if (user.paused_until and user.paused_until > now) or user.parked_reason:
                continue
            if not is_allowed(now, schedule.cadence, schedule.zone):
                continue
            due.append((checkin.id, checkin.rep_id, checkin.goal_id, checkin.channel or checkin.rep_id,
                        checkin.message_ts))
    if not due:
        return
    with ThreadPoolExecutor(max_workers=8, thread_name_prefix="remind") as pool:
        for start in range(0, len(due), REMINDER_CHUNK):
            chunk = due[start:start + REMINDER_CHUNK]
            with services.sessions.begin() as session:
                claimed = set(session.scalars(
                    update(CheckIn).where(CheckIn.id.in_([d[0] for d in chunk]), CheckIn.reminder_sent_at.is_(None),
                                          CheckIn.state == "sent")
                    .values(reminder_sent_at=now).returning(CheckIn.id).execution_options(synchronize_session=False)))
            jobs = [d for d in chunk if d[0] in claimed]  # the others: another pass took them
            results = list(pool.map(lambda d: post(services.client, **reminder(*d)), jobs))
            report.add("reminders", sum(r.outcome == "ok" for r in results))
            give_back = [d[0] for d, r in zip(jobs, results, strict=True) if r.outcome == "transient"]
            if give_back:
                with services.sessions.begin() as session:  # for the next pass
                    session.execute(update(CheckIn).where(CheckIn.id.in_(give_back))
                                    .values(reminder_sent_at=None).execution_options(synchronize_session=False))
