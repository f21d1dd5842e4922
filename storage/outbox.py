"""The outbox: one table of messages to post, one claim, one set of outcomes.

Whatever causes a message (a due check-in, an answer to pass on, a warning) writes its row here in
the same transaction as the change itself, under a unique de-duplication key. A worker claims due
rows with a conditional UPDATE, posts them, and records the outcome with the functions below.
Nothing here talks to Slack: deciding *what* to post and posting it belong to the layers above.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from storage.db import insert_ignore
from storage.models import OutboxKind, OutboxMessage, OutboxState, User

_OUTBOX = cast(Table, OutboxMessage.__table__)

# How long a claim is trusted before another worker checks Slack for the message. It must outlast
# a claimed batch's posting even when Slack is slow (each post may take its 10 s timeout plus the
# client's retries); too long only delays recovery after a crash.
LEASE = dt.timedelta(minutes=10)
# A passing fault backs off 1, 2, 4 … minutes, at most this long, and gives up after MAX_ATTEMPTS
# claims (about six hours): long enough to ride out an outage, short enough to say so.
MAX_BACKOFF = dt.timedelta(minutes=30)
MAX_ATTEMPTS = 16


@dataclass(frozen=True)
class Claimed:
    """A claimed row, as plain columns: the worker may hold thousands in one pass."""

    id: int
    team_id: str
    kind: OutboxKind
    recipient: str
    checkin_id: int | None
    payload: dict[str, Any]
    not_before: dt.datetime
    attempts: int  # including this claim
    created_at: dt.datetime
    claimed_by: str | None = None  # set for rows read back as stuck or held by another worker
    deferrals: int = 0  # times held back for the recipient's hours (or zone) so far
    started: bool = True  # its post may have begun (see mark_started); False: provably not


def enqueue(session: Session, *, team_id: str, kind: OutboxKind, recipient: str, dedupe_key: str,
            now: dt.datetime, payload: dict[str, Any] | None = None, not_before: dt.datetime | None = None,
            checkin_id: int | None = None) -> int | None:
    """Add a message unless one with the same key exists. Returns the new row's id, else None."""
    ids = enqueue_many(session, [dict(team_id=team_id, kind=kind, recipient=recipient, dedupe_key=dedupe_key,
                                      payload=payload, not_before=not_before or now, checkin_id=checkin_id)], now)
    return ids[0] if ids else None


def enqueue_many(session: Session, rows: Sequence[dict[str, Any]], now: dt.datetime) -> list[int]:
    """`enqueue` for many rows in one statement (planning a thousand check-ins at once)."""
    if not rows:
        return []
    values = [{
        "team_id": r["team_id"], "kind": str(r["kind"]), "recipient": r["recipient"],
        "dedupe_key": r["dedupe_key"][:128], "checkin_id": r.get("checkin_id"),
        "payload": json.dumps(r.get("payload") or {}, separators=(",", ":"), sort_keys=True),
        "not_before": r.get("not_before") or now, "state": OutboxState.PENDING, "attempts": 0,
        "deferrals": 0, "created_at": now,
    } for r in rows]
    return insert_ignore(session, OutboxMessage, values, returning=OutboxMessage.id)


def claim_due(session: Session, now: dt.datetime, token: str, limit: int, *, team_id: str | None = None,
              kinds: Iterable[OutboxKind] | None = None, ids: Iterable[int] | None = None,
              claimed_at: dt.datetime | None = None, exclude: Iterable[OutboxKind] = ()) -> list[Claimed]:
    """Atomically claim up to `limit` due rows (or only `ids`, or only `kinds`, never `exclude`), oldest first."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now)
           .order_by(OutboxMessage.not_before, OutboxMessage.id).limit(limit))
    if team_id is not None:
        due = due.where(OutboxMessage.team_id == team_id)
    if kinds is not None:
        due = due.where(OutboxMessage.kind.in_([str(k) for k in kinds]))
    if ids is not None:
        due = due.where(OutboxMessage.id.in_(list(ids)))
    excluded = [str(k) for k in exclude]
    if excluded:
        due = due.where(OutboxMessage.kind.not_in(excluded))
    if session.get_bind().dialect.name == "postgresql":
        # Another worker's rows stay locked until it commits its claim: skip them, don't wait.
        due = due.with_for_update(skip_locked=True)
    # Two statements, not UPDATE … WHERE id IN (SELECT … LIMIT n): PostgreSQL may run such a
    # subquery more than once and update more than `limit` rows. The SELECT's row locks
    # (PostgreSQL) or the write lock taken by BEGIN IMMEDIATE (SQLite) hold until commit.
    found = list(session.scalars(due))
    if not found:
        return []
    stamp = claimed_at or now
    rows = session.execute(
        update(OutboxMessage).where(OutboxMessage.id.in_(found), OutboxMessage.state == OutboxState.PENDING)
        .values(state=OutboxState.CLAIMED, claimed_by=token, lease_until=stamp + LEASE,
                attempts=OutboxMessage.attempts + 1, started=False)
        .returning(OutboxMessage.id, OutboxMessage.team_id, OutboxMessage.kind, OutboxMessage.recipient,
                   OutboxMessage.checkin_id, OutboxMessage.payload, OutboxMessage.not_before,
                   OutboxMessage.attempts, OutboxMessage.created_at, OutboxMessage.deferrals)
        .execution_options(synchronize_session=False)).all()
    claimed = [Claimed(r.id, r.team_id, OutboxKind(r.kind), r.recipient, r.checkin_id, json.loads(r.payload or "{}"),
                       r.not_before, r.attempts, r.created_at, token, r.deferrals, False) for r in rows]
    return sorted(claimed, key=lambda c: (c.not_before, c.id))


def mark_started(session: Session, token: str, ids: Sequence[int]) -> set[int]:
    """The write-ahead mark: these claims' posts may now start. Returns the ids still held by
    `token` (a claim another worker took over meanwhile is not marked, and must not be posted).

    Until its row is marked, a claim has provably not reached Slack: recovery gives it back
    without looking (handlers.recovery). The worker marks a chunk of posts at a time, ahead of
    the posting (handlers.delivery), so this costs one UPDATE per chunk, not one per post.
    """
    if not ids:
        return set()
    return set(session.scalars(
        update(OutboxMessage).where(OutboxMessage.id.in_(list(ids)), OutboxMessage.state == OutboxState.CLAIMED,
                                    OutboxMessage.claimed_by == token)
        .values(started=True).returning(OutboxMessage.id).execution_options(synchronize_session=False)))


def dm_channels(session: Session, team_id: str, recipients: Iterable[str],
                kinds: Iterable[OutboxKind]) -> dict[str, str]:
    """Each recipient's DM channel as Slack told us when a post of `kinds` to them was sent (a
    DM's id starts with D), so recovery need not ask conversations.open for it again."""
    people = sorted(set(recipients))
    found: dict[str, str] = {}
    for start in range(0, len(people), 500):
        rows = session.execute(
            select(OutboxMessage.recipient, OutboxMessage.channel)
            .where(OutboxMessage.team_id == team_id, OutboxMessage.recipient.in_(people[start:start + 500]),
                   OutboxMessage.kind.in_([str(k) for k in kinds]), OutboxMessage.state == OutboxState.SENT,
                   OutboxMessage.channel.startswith("D"))
            .order_by(OutboxMessage.sent_at.desc()))
        for recipient, channel in rows:
            if channel:
                found.setdefault(recipient, channel)
    return found


def _update_claimed(session: Session, params: list[dict[str, Any]], values: dict[str, Any]) -> None:
    """UPDATE claimed rows by id ("_id"), each with its own bound values, in one executemany."""
    if not params:
        return
    session.execute(
        update(_OUTBOX).where(_OUTBOX.c.id == bindparam("_id"), _OUTBOX.c.state == OutboxState.CLAIMED)
        .values(**values), params)


def mark_sent(session: Session, sent: Sequence[tuple[int, str | None, str | None]], now: dt.datetime) -> None:
    """(id, channel, ts) for each row Slack accepted."""
    _update_claimed(session, [{"_id": i, "_channel": c, "_ts": t} for i, c, t in sent],
                    {"state": OutboxState.SENT, "channel": bindparam("_channel"), "ts": bindparam("_ts"),
                     "sent_at": now, "claimed_by": None, "lease_until": None})


def backoff(attempts: int) -> dt.timedelta:
    return min(MAX_BACKOFF, dt.timedelta(minutes=2 ** max(0, attempts - 1)))


def release(session: Session, rows: Sequence[tuple[int, int, str]], now: dt.datetime) -> list[int]:
    """(id, attempts, error) after a passing fault: back off, or give up after MAX_ATTEMPTS.

    Returns the ids given up on.
    """
    retry = [{"_id": i, "_nb": now + backoff(a), "_err": e[:128]} for i, a, e in rows if a < MAX_ATTEMPTS]
    given_up = [i for i, a, _ in rows if a >= MAX_ATTEMPTS]
    _update_claimed(session, retry, {"state": OutboxState.PENDING, "not_before": bindparam("_nb"),
                                     "last_error": bindparam("_err"), "claimed_by": None, "lease_until": None})
    fail(session, [(i, f"gave up: {e}") for i, a, e in rows if a >= MAX_ATTEMPTS])
    return given_up


def release_now(session: Session, ids: Sequence[int]) -> None:
    """Give claims back untouched (a pass stopped before posting them): due again at once."""
    _update_claimed(session, [{"_id": i} for i in ids],
                    {"state": OutboxState.PENDING, "claimed_by": None, "lease_until": None,
                     "attempts": _OUTBOX.c.attempts - 1})


def defer(session: Session, rows: Sequence[tuple[int, dt.datetime]]) -> None:
    """(id, moment): not allowed to land yet; wait for the recipient's next allowed moment."""
    _update_claimed(session, [{"_id": i, "_nb": moment} for i, moment in rows],
                    {"state": OutboxState.PENDING, "not_before": bindparam("_nb"), "claimed_by": None,
                     "lease_until": None, "attempts": _OUTBOX.c.attempts - 1,
                     "deferrals": _OUTBOX.c.deferrals + 1})


def fail(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """(id, error): Slack can't deliver it (or we gave up); it stays as a record, never retried."""
    _update_claimed(session, [{"_id": i, "_err": e[:128]} for i, e in rows],
                    {"state": OutboxState.FAILED, "last_error": bindparam("_err"), "claimed_by": None,
                     "lease_until": None})


def cancel(session: Session, rows: Sequence[tuple[int, str]]) -> None:
    """(id, reason): what the message was about is gone (a skipped or paused check-in)."""
    _update_claimed(session, [{"_id": i, "_err": e[:128]} for i, e in rows],
                    {"state": OutboxState.CANCELLED, "last_error": bindparam("_err"), "claimed_by": None,
                     "lease_until": None})


def unconfirmed(session: Session, rows: Sequence[tuple[int, str]], now: dt.datetime) -> None:
    """(id, error): the request went out but no answer came back, so Slack may have posted it.

    The row stays claimed, with its lease ended: the next pass looks for the message by its
    metadata before anything posts it again.
    """
    _update_claimed(session, [{"_id": i, "_err": e[:128]} for i, e in rows],
                    {"last_error": bindparam("_err"), "claimed_by": None, "lease_until": now})


def _as_claimed(r: OutboxMessage) -> Claimed:
    return Claimed(r.id, r.team_id, OutboxKind(r.kind), r.recipient, r.checkin_id, json.loads(r.payload or "{}"),
                   r.not_before, r.attempts, r.created_at, r.claimed_by, r.deferrals, r.started)


def stuck(session: Session, now: dt.datetime, team_id: str | None = None, limit: int = 500) -> list[Claimed]:
    """Claimed rows whose lease ran out: a crashed worker's, or posts whose answer was lost."""
    query = (select(OutboxMessage).where(OutboxMessage.state == OutboxState.CLAIMED,
                                         OutboxMessage.lease_until <= now)
             .order_by(OutboxMessage.id).limit(limit))
    if team_id is not None:
        query = query.where(OutboxMessage.team_id == team_id)
    return [_as_claimed(r) for r in session.scalars(query)]


def held_by_host(session: Session, host_prefix: str, now: dt.datetime, team_id: str | None = None,
                 limit: int = 500) -> list[Claimed]:
    """Rows still leased to a worker on this host (claimed_by starts with `host_prefix`)."""
    query = (select(OutboxMessage).where(OutboxMessage.state == OutboxState.CLAIMED,
                                         OutboxMessage.lease_until > now,
                                         OutboxMessage.claimed_by.startswith(host_prefix, autoescape=True))
             .order_by(OutboxMessage.id).limit(limit))
    if team_id is not None:
        query = query.where(OutboxMessage.team_id == team_id)
    return [_as_claimed(r) for r in session.scalars(query)]


def reclaim(session: Session, row: Claimed, token: str, now: dt.datetime, claimant_gone: bool = False,
            unstarted: bool = False) -> bool:
    """Take over a stuck claim, only as it was seen (the same attempt): True if this worker won.

    `claimant_gone`: the worker holding it is known to be dead, so its lease need not run out.
    `unstarted`: only while it is still not marked started (a live worker past its lease may be
    marking it right now; then it is that worker's to post, and recovery must look instead).
    """
    still = (OutboxMessage.claimed_by == row.claimed_by) if claimant_gone else (OutboxMessage.lease_until <= now)
    query = update(OutboxMessage).where(OutboxMessage.id == row.id, OutboxMessage.state == OutboxState.CLAIMED,
                                        OutboxMessage.attempts == row.attempts, still)
    if unstarted:
        query = query.where(OutboxMessage.started.is_(False))
    result = session.execute(
        query
        .values(claimed_by=token, lease_until=now + LEASE).execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0))


def depth(session: Session, now: dt.datetime, team_id: str | None = None) -> tuple[int, float]:
    """How many rows are due now, and how long the oldest of them has waited (seconds)."""
    query = (select(func.count(), func.min(OutboxMessage.not_before))
             .where(OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before <= now))
    if team_id is not None:
        query = query.where(OutboxMessage.team_id == team_id)
    count, oldest = session.execute(query).one()
    if oldest is not None and oldest.tzinfo is None:
        oldest = oldest.replace(tzinfo=dt.UTC)
    return int(count), (now - oldest).total_seconds() if oldest else 0.0


@dataclass(frozen=True)
class Status:
    state: OutboxState
    not_before: dt.datetime
    deferred: bool  # it waited (or waits) for its recipient's allowed hours
    last_error: str | None


def status_of(session: Session, outbox_id: int) -> Status | None:
    row = session.execute(select(OutboxMessage.state, OutboxMessage.not_before, OutboxMessage.deferrals,
                                 OutboxMessage.last_error).where(OutboxMessage.id == outbox_id)).one_or_none()
    return Status(OutboxState(row.state), row.not_before, row.deferrals > 0, row.last_error) if row else None


def of_checkin(session: Session, checkin_id: int) -> int | None:
    """The newest outbox row that posts this check-in."""
    return session.scalar(select(OutboxMessage.id).where(OutboxMessage.checkin_id == checkin_id)
                          .order_by(OutboxMessage.id.desc()).limit(1))


_CHECKIN_KINDS = {"scheduled": OutboxKind.CHECKIN_PROMPT, "rep_now": OutboxKind.CHECKIN_NOW,
                  "adhoc": OutboxKind.MANAGER_QUESTION}


def checkin_message(team_id: str, rep_id: str, checkin_id: int, kind: str, due_at: dt.datetime,
                    round_: int = 0, payload: dict[str, Any] | None = None) -> dict[str, Any]:
    """The outbox row that posts a check-in at its due moment; `round_` counts its snoozes."""
    return {"team_id": team_id, "kind": _CHECKIN_KINDS[kind], "recipient": rep_id, "checkin_id": checkin_id,
            "dedupe_key": f"checkin:{checkin_id}:{round_}", "not_before": due_at, "payload": payload}


def reconsider(session: Session, team_id: str, recipient: str, now: dt.datetime) -> int:
    """Rows held for someone's hours become due now, so the worker checks them again: their zone or
    hours changed, and the moment they were held for may no longer be the right one."""
    return _due_again(session, team_id, OutboxMessage.recipient == recipient, now)


def reconsider_zoned(session: Session, team_id: str, since: dt.datetime, now: dt.datetime) -> int:
    """Held rows of everyone whose zone was read since `since`, due now (the worker checks their
    hours again). A row a drain held for its recipient's unread zone while the lookup beside it was
    storing that zone was still claimed when the lookup made held rows due, so it missed that."""
    zoned = select(User.slack_id).where(User.team_id == team_id, User.tz_refreshed_at >= since)
    return _due_again(session, team_id, OutboxMessage.recipient.in_(zoned), now)


def reconsider_many(session: Session, team_id: str, recipients: Sequence[str], now: dt.datetime) -> int:
    """`reconsider` for many people at once (a users.list page that taught us their zones)."""
    people = list(recipients)
    return sum(_due_again(session, team_id, OutboxMessage.recipient.in_(people[start:start + 500]), now)
               for start in range(0, len(people), 500))


def _due_again(session: Session, team_id: str, whose: ColumnElement[bool], now: dt.datetime) -> int:
    """Pending rows held for their recipient's hours (`whose` picks the recipients), due now."""
    result = session.execute(
        update(OutboxMessage).where(OutboxMessage.team_id == team_id, whose, OutboxMessage.state == OutboxState.PENDING,
                                    OutboxMessage.deferrals > 0, OutboxMessage.not_before > now)
        .values(not_before=now).execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0))
