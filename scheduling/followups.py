"""Gentle reminders: at most one per scheduled check-in, queued once it has waited long enough."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.services import Services
from scheduling.report import PassReport
from storage import leave, lifecycle, outbox
from storage.models import CheckIn, CheckInKind, CheckInState, OutboxKind, User
from storage.schedules import schedules_for

REMINDER_CHUNK = 256  # reminders claimed per transaction


def enqueue_reminders(services: Services, now: dt.datetime, report: PassReport) -> None:
    """At most one gentle reminder per scheduled check-in, after `reminder_after_hours`.

    The reminder is claimed on the check-in (reminder_sent_at) in the same transaction as its
    outbox row, so two passes never both queue it; the worker sends it in the rep's allowed hours,
    and drops it if the check-in was answered, skipped or snoozed meanwhile.
    """
    with services.sessions.begin() as session:
        candidates = list(session.execute(
            select(CheckIn, User).join(User, (User.team_id == CheckIn.team_id) & (User.slack_id == CheckIn.rep_id))
            .where(CheckIn.team_id == services.team_id, CheckIn.state == CheckInState.SENT,
                   CheckIn.kind == CheckInKind.SCHEDULED, CheckIn.reminder_sent_at.is_(None),
                   CheckIn.sent_at <= now - dt.timedelta(hours=1))
        ).all())
        schedules = schedules_for(session, services.config, list({u.slack_id: u for _, u in candidates}.values()))
        away = leave.ranges_of(session, services.team_id, schedules, (now - dt.timedelta(days=30)).date())
        due: list[tuple[int, str]] = []
        for checkin, user in candidates:
            hours = schedules[user.slack_id].reminder_after_hours
            if hours == 0 or checkin.sent_at is None or now - checkin.sent_at < dt.timedelta(hours=hours):
                continue
            if (user.paused_until and user.paused_until > now) or user.parked_reason:
                continue
            if _leave_since(away.get(user.slack_id, []), checkin.sent_at, now, schedules[user.slack_id].zone):
                continue  # no reminder about a check-in the rep's leave came after
            due.append((checkin.id, checkin.rep_id))
    for start in range(0, len(due), REMINDER_CHUNK):
        chunk = due[start:start + REMINDER_CHUNK]
        with services.sessions.begin() as session:
            claimed = lifecycle.claim_reminder(session, [d[0] for d in chunk], now)
            queued = outbox.enqueue_many(session, [
                {"team_id": services.team_id, "kind": OutboxKind.CHECKIN_REMINDER, "recipient": rep,
                 "checkin_id": checkin_id, "dedupe_key": f"reminder:{checkin_id}"}
                for checkin_id, rep in chunk if checkin_id in claimed], now)
        report.add("reminders_queued", len(queued))


def _leave_since(ranges: list[leave.Range], sent_at: dt.datetime, now: dt.datetime, zone: ZoneInfo) -> bool:
    first, last = sent_at.astimezone(zone).date(), now.astimezone(zone).date()
    return any(r.first <= last and r.last >= first for r in ranges)
