"""Answers passed on as a daily or weekly digest (`deliver_answers = "daily" | "weekly"`).

One digest per manager and period, claimed by a unique row (`digests_sent`) written with its
outbox row. It is put together when the manager's working day has begun, in their own zone, and
covers the answers since their previous digest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.services import Services
from scheduling.report import PassReport
from scheduling.respect import hours_of
from storage import outbox
from storage.db import insert_ignore
from storage.models import Answer, DigestSent, OutboxKind, Team
from storage.people import reps_of_manager

PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}


def period_key(mode: str, local: dt.date) -> str:
    if mode == "daily":
        return f"day:{local.isoformat()}"
    year, week, _ = local.isocalendar()
    return f"week:{year}-W{week:02d}"


def enqueue_digests(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Pass step: with deliver_answers daily/weekly, one `team_digest` per manager and period."""
    mode = services.config.deliver_answers
    if mode not in PERIODS:
        return
    team = services.team_id
    with services.sessions.begin() as session:
        managers = sorted(set(session.scalars(select(Team.manager_id).where(Team.team_id == team))))
        hours = hours_of(session, services.config, team, managers)
    for manager in managers:
        if not hours[manager].allowed(now):
            continue  # put together once their day has begun, so it covers the night's answers
        zone = hours[manager].zone
        period = period_key(mode, now.astimezone(zone).date())
        with services.sessions.begin() as session:
            claimed = insert_ignore(session, DigestSent, {"team_id": team, "manager_id": manager, "period": period,
                                                          "answers": 0, "created_at": now}, returning=DigestSent.id)
            if not claimed:
                continue  # this period's digest is done (or another pass is doing it)
            previous = session.scalar(select(DigestSent.created_at).where(
                DigestSent.team_id == team, DigestSent.manager_id == manager, DigestSent.id != claimed[0])
                .order_by(DigestSent.created_at.desc()).limit(1))
            since = previous or now - PERIODS[mode]
            reps = reps_of_manager(session, team, manager)
            answers = list(session.scalars(select(Answer.id).where(
                Answer.team_id == team, Answer.rep_id.in_(reps), Answer.created_at > since,
                Answer.created_at <= now).order_by(Answer.created_at, Answer.id))) if reps else []
            if not answers:
                # Nothing new: the claim stays, so the period is done without a message.
                continue
            outbox.enqueue(session, team_id=team, kind=OutboxKind.TEAM_DIGEST, recipient=manager,
                                    dedupe_key=f"digest:{claimed[0]}", now=now, payload={
                                        "digest_id": claimed[0], "answer_ids": answers, "since": since.isoformat(),
                                        "zone": zone.key})
        report.add("digests_queued")
