"""How much is waiting to be sent: the outbox depth metric, until the outbox itself lands.

Today the only queue is check-ins in state 'scheduled' whose time has come; the outbox will
replace this query with its own.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import CheckIn


def due_backlog(session: Session, team_id: str, now: dt.datetime) -> tuple[int, dt.datetime | None]:
    """(how many scheduled check-ins are due and unsent, the oldest one's due time)."""
    count, oldest = session.execute(
        select(func.count(CheckIn.id), func.min(CheckIn.due_at))
        .where(CheckIn.team_id == team_id, CheckIn.state == "scheduled", CheckIn.due_at <= now)).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)  # SQLite returns naive UTC from an aggregate
    return int(count), oldest
