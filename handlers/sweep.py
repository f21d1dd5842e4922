"""The users.list sweep: everyone's zone and name, a thousand people a call, at most daily.

A pass runs `refresh_zones` after its first posts are under way (handlers.passes), so looking
people up never holds sending up. It:

- sweeps users.list (1000 members a page, Tier 2) when the workspace's daily slot has come, when
  it has never been swept, or when more people are new than a few users.info calls would cover;
  a page the budget can't take now is resumed from its cursor on a later pass;
- asks users.info (Tier 4) only about the few people the sweep has not seen, within the budget.

Between sweeps, Slack's `user_change` event keeps zones and names current (handlers.zones).
Each workspace's slot is its own moment of the day (a hash of its team_id), so many
workspaces' sweeps are spread over the day rather than all at midnight.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging

from core.services import Services
from handlers.zones import (
    EXTRA_SWEEP_GAP,
    INFO_AT_MOST,
    PAGE_WAIT,
    ZONE_REFRESH,
    lookup_one,
    sweep_users,
    unseen_people,
)
from scheduling.report import PassReport
from storage.budget import budget_for
from storage.models import UserSweep

log = logging.getLogger(__name__)



def slot_offset(team_id: str) -> dt.timedelta:
    """The moment of the UTC day at which this workspace's daily sweep falls."""
    digest = int.from_bytes(hashlib.sha256(team_id.encode()).digest()[:8], "big")
    return dt.timedelta(seconds=digest % 86_400)


def next_sweep(team_id: str, last_started: dt.datetime) -> dt.datetime:
    """The first slot at least a day after the last sweep started: daily at most, at the team's slot."""
    earliest = last_started + ZONE_REFRESH
    day = dt.datetime.combine(earliest.date(), dt.time(), dt.UTC)
    slot = day + slot_offset(team_id)
    return slot if slot >= earliest else slot + dt.timedelta(days=1)


def sweep_due(team_id: str, sweep: UserSweep | None, now: dt.datetime, unseen: int) -> bool:
    if sweep is None:
        return unseen > 0
    if sweep.finished_at is None:
        return True  # resume (or restart) the one under way
    if unseen > INFO_AT_MOST and now - sweep.started_at >= EXTRA_SWEEP_GAP:
        return True
    return now >= next_sweep(team_id, sweep.started_at)


def refresh_zones(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Zones and names: the sweep when due, then users.info for the few it has not seen."""
    team_id = services.team_id
    with services.sessions.begin() as session:
        unseen = unseen_people(session, team_id, now, INFO_AT_MOST + 1)
        sweep = session.get(UserSweep, team_id)
        due = sweep_due(team_id, sweep, now, len(unseen))
    if due:
        # New people wait for their zones, so their sweep waits for its budget; the daily refresh
        # takes a page only when the budget has one, and resumes on a later pass otherwise.
        if not sweep_users(services, now, report, page_wait=PAGE_WAIT if unseen else 0.0):
            return  # paused mid-way: the rest, and any users.info, on a later pass
        with services.sessions.begin() as session:
            unseen = unseen_people(session, team_id, now, INFO_AT_MOST + 1)
    for user_id in unseen[:INFO_AT_MOST]:
        if lookup_one(services, user_id, now, report, max_wait=1.0) is None and \
                budget_for(services.engine)[0].paused(team_id, "users.info"):
            break  # Slack said 429: the rest wait for a later pass
