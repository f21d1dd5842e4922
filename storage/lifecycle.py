"""The check-in lifecycle: the only code that moves a check-in from one state to another.

    scheduled --claim--> sending --mark_sent--> sent --answer--> answered
        ^                   |                    |----skip-----> skipped
        |----release--------|                    |----snooze---> scheduled (again, later)
    scheduled|sending --expire / close_paused--> expired | paused
    sent --supersede (a newer one was sent)--> expired

Each transition is a conditional UPDATE on the state it leaves, and says whether (or which rows)
it won, so two workers, a click racing a pass, or a retried event can never both apply it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, update
from sqlalchemy.orm import Session

from storage.models import CheckIn, CheckInState, OutboxMessage, OutboxState

_CHECKINS = cast(Table, CheckIn.__table__)
S = CheckInState

# States in which the rep can still answer: the check-in reached them.
ANSWERABLE = (S.SENT, S.ANSWERED, S.SKIPPED, S.EXPIRED)
# Planned or being posted: not yet in front of the rep.
UNDELIVERED = (S.SCHEDULED, S.SENDING)


def _won(result: object) -> bool:
    return bool(getattr(result, "rowcount", 0))


def _each(session: Session, from_states: Sequence[str], params: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """One executemany UPDATE by id ("_id"), each row with its own bound values."""
    if params:
        # OR of equalities, not IN: an executemany can't expand an IN list.
        session.execute(update(_CHECKINS).where(_CHECKINS.c.id == bindparam("_id"),
                                                or_(*(_CHECKINS.c.state == state for state in from_states)))
                        .values(**values), params)


def claim(session: Session, ids: Sequence[int]) -> set[int]:
    """scheduled -> sending, for the check-ins whose outbox rows a worker just claimed."""
    if not ids:
        return set()
    return set(session.scalars(
        update(CheckIn).where(CheckIn.id.in_(list(ids)), CheckIn.state == S.SCHEDULED)
        .values(state=S.SENDING, attempts=CheckIn.attempts + 1)
        .returning(CheckIn.id).execution_options(synchronize_session=False)))


def choose(session: Session, choices: Sequence[tuple[int, str | None, int | None]]) -> None:
    """(id, prompt, goal id) fixed for check-ins about to be posted (a retry asks the same)."""
    _each(session, (S.SENDING,), [{"_id": i, "_prompt": p, "_goal": g} for i, p, g in choices],
          {"prompt": bindparam("_prompt"), "goal_id": bindparam("_goal")})


def mark_sent(session: Session, sent: Sequence[tuple[int, str | None, str | None, dt.datetime]]) -> None:
    """(id, channel, ts, sent_at): sending -> sent. sent_at is when Slack posted it."""
    _each(session, UNDELIVERED, [{"_id": i, "_ch": c, "_ts": t, "_at": at} for i, c, t, at in sent],
          {"state": S.SENT, "channel": bindparam("_ch"), "message_ts": bindparam("_ts"),
           "sent_at": bindparam("_at"), "claimed_by": None, "last_error": None})


def release(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """(id, error): sending -> scheduled, to be posted again when its outbox row comes round."""
    _each(session, (S.SENDING,), [{"_id": i, "_err": e[:128]} for i, e in rows],
          {"state": S.SCHEDULED, "claimed_by": None, "last_error": bindparam("_err")})


def expire(session: Session, rows: Sequence[tuple[int, str]], now: dt.datetime) -> None:
    """(id, reason): an undelivered check-in that will not be sent (too late, unreachable rep)."""
    _each(session, UNDELIVERED, [{"_id": i, "_err": e[:128]} for i, e in rows],
          {"state": S.EXPIRED, "closed_at": now, "claimed_by": None, "last_error": bindparam("_err")})


def close_paused(session: Session, ids: Sequence[int], now: dt.datetime) -> None:
    _each(session, UNDELIVERED, [{"_id": i} for i in ids], {"state": S.PAUSED, "closed_at": now, "claimed_by": None})


def supersede_older(session: Session, team_id: str, sent: dict[str, int], now: dt.datetime) -> None:
    """After sending rep -> check-in id, close that rep's older unanswered ones: one stays open.

    Newer ones (an ad-hoc question sent meanwhile) stay open too; only older ones are superseded.
    One SELECT for the whole batch, then one UPDATE of just the rows to close: a per-rep UPDATE
    let SQLite's planner walk every sent check-in of the workspace for each rep (quadratic in a
    pass of thousands).
    """
    if not sent:
        return
    open_rows = session.execute(
        select(CheckIn.id, CheckIn.rep_id).where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(list(sent)),
                                                 CheckIn.state == S.SENT)).all()
    older = [row.id for row in open_rows if row.id < sent[row.rep_id]]
    if older:
        session.execute(update(CheckIn).where(CheckIn.id.in_(older), CheckIn.state == S.SENT)
                        .values(state=S.EXPIRED, closed_at=now, last_error="superseded")
                        .execution_options(synchronize_session=False))


def answer(session: Session, checkin_id: int, now: dt.datetime) -> bool:
    """A delivered check-in becomes answered (also a late answer to a skipped or expired one)."""
    return _won(session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state.in_(ANSWERABLE))
        .values(state=S.ANSWERED, closed_at=now).execution_options(synchronize_session=False)))


def skip(session: Session, checkin_id: int, now: dt.datetime) -> bool:
    """An open or upcoming check-in is skipped, without penalty. False if it was already closed."""
    return _won(session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state.in_((S.SENT, S.SCHEDULED)))
        .values(state=S.SKIPPED, closed_at=now, claimed_by=None).execution_options(synchronize_session=False)))


def snooze(session: Session, checkin_id: int, until: dt.datetime) -> bool:
    """sent -> scheduled again at `until`, same goal and question, with no reminder sent yet."""
    return _won(session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state == S.SENT)
        .values(state=S.SCHEDULED, due_at=until, snoozed_until=until, snooze_count=CheckIn.snooze_count + 1,
                claimed_by=None, claimed_at=None, reminder_sent_at=None)
        .execution_options(synchronize_session=False)))


def claim_reminder(session: Session, ids: Sequence[int], now: dt.datetime) -> set[int]:
    """Mark that a sent check-in's one reminder is queued. Returns the ids this caller won."""
    if not ids:
        return set()
    return set(session.scalars(
        update(CheckIn).where(CheckIn.id.in_(list(ids)), CheckIn.reminder_sent_at.is_(None),
                              CheckIn.state == S.SENT)
        .values(reminder_sent_at=now).returning(CheckIn.id).execution_options(synchronize_session=False)))


def retime(session: Session, checkin_id: int, due: dt.datetime) -> int:
    """Move an upcoming check-in (and its waiting outbox row) to a new due moment. Returns 1 if moved."""
    moved = getattr(session.execute(
        update(CheckIn).where(CheckIn.id == checkin_id, CheckIn.state == S.SCHEDULED)
        .values(due_at=due).execution_options(synchronize_session=False)), "rowcount", 0)
    if moved:
        session.execute(update(OutboxMessage).where(OutboxMessage.checkin_id == checkin_id,
                                                    OutboxMessage.state == OutboxState.PENDING)
                        .values(not_before=due).execution_options(synchronize_session=False))
    return int(moved)
