"""The one gentle nudge to a manager about a help request left unanswered (issue 13).

A request still open after `[guard] help_nudge_working_days` of the manager's own working days
(their holidays and days off don't count) gets each of the rep's managers one nudge, never the
rep. The outbox row is unique per request and manager, and `nudged_at` marks the request once
every manager's row is queued, so the nudge is queued once; the worker posts it within the
manager's working hours and drops it if the request was answered, resolved or cleared meanwhile.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from coaching.conversation import help_nudge_due
from core.services import Services
from scheduling.report import PassReport
from scheduling.respect import hours_of
from storage import outbox
from storage.models import HelpRequest, HelpState, OutboxKind
from storage.people import managers_of_rep


def enqueue_help_nudges(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Pass step: queue the nudge of each open request that has waited its working days."""
    days = services.config.guard.help_nudge_working_days
    if days <= 0:
        return
    team = services.team_id
    with services.sessions.begin() as session:
        # Working days are at least calendar days: anything younger can't be due yet.
        waiting = list(session.scalars(select(HelpRequest).where(
            HelpRequest.team_id == team, HelpRequest.state == HelpState.OPEN, HelpRequest.nudged_at.is_(None),
            HelpRequest.created_at <= now - dt.timedelta(days=days)).order_by(HelpRequest.id)))
        managers = {r.id: managers_of_rep(session, team, r.rep_id) for r in waiting}
        hours = hours_of(session, services.config, team, {m for ms in managers.values() for m in ms})
        for request in waiting:
            due = [m for m in managers[request.id]
                   if help_nudge_due(request.created_at, days, hours[m].cadence, hours[m].zone) <= now]
            for manager in due:
                queued = outbox.enqueue(session, team_id=team, kind=OutboxKind.HELP_NUDGE, recipient=manager,
                                        dedupe_key=f"help_nudge:{request.id}:{request.created_at.timestamp():.0f}:"
                                                   f"{manager}", now=now,
                                        payload={"help_id": request.id, "days": days, "zone": hours[manager].zone.key})
                report.add("help_nudges_queued", 1 if queued is not None else 0)
            if managers[request.id] and len(due) == len(managers[request.id]):
                request.nudged_at = now
