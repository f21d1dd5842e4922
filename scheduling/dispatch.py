"""One dispatch pass: plan, claim due check-ins atomically, send, follow up. Safe to repeat.

`serve`'s APScheduler job and the `dispatch` command both call `run_pass`. Work is claimed with
a conditional UPDATE (state 'scheduled' -> 'sending', stamped with this pass's token), so two
processes running at once never claim the same row; a crash after the Slack send leaves the row
'sending', and a later pass finds the message by its metadata instead of sending again.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from coaching.prompts import choose_prompt
from core.services import Services
from handlers.render.checkin import checkin_prompt
from scheduling.cadence import is_allowed
from scheduling.plan import plan_next, schedules_for
from scheduling.sender import SendResult, post
from storage.changes import touch_reps
from storage.checkins import expire_older_open
from storage.goals import pick_goal
from storage.models import CheckIn, Goal, User

log = logging.getLogger(__name__)
_CHECKINS, _USERS = cast(Table, CheckIn.__table__), cast(Table, User.__table__)

# A check-in whose time passed while the bot was down is still worth sending within this window.
MAX_LATENESS = dt.timedelta(hours=12)
# Rows claimed per transaction. Small enough that a claimed batch is posted well within
# followups.CLAIM_LEASE; large enough that the per-batch queries cost little per check-in.
BATCH = 256
CONCURRENCY = 16
MAX_ATTEMPTS = 5

PassStep = Callable[[Services, dt.datetime, "PassReport"], None]


def follow_up_steps() -> list[PassStep]:
    """What a pass does after sending due check-ins, in order.

    Listed here rather than registered by the listeners, so `checkin-bot dispatch` (which builds
    no Bolt app) runs exactly the same pass as `serve`'s scheduler.
    """
    from handlers.notify import send_digests
    from scheduling.followups import send_reminders
    from scheduling.warnings import send_warnings

    return [send_reminders, send_warnings, send_digests]


@dataclass
class PassReport:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, n: int = 1) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def get(self, key: str) -> int:
        return self.counts.get(key, 0)

    def summary(self) -> str:
        if not self.counts:
            return "dispatch: nothing was due"
        return "dispatch: " + ", ".join(f"{k} {v}" for k, v in sorted(self.counts.items()))


@dataclass(frozen=True)
class Job:
    checkin_id: int
    rep_id: str
    kwargs: dict[str, Any]
    team_id: str
    attempts: int  # as claimed: apply_results gives up after MAX_ATTEMPTS


def pass_token() -> str:
    # claimed_by is 64 characters; container host names alone can be 63.
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_pass(services: Services, now: dt.datetime | None = None, concurrency: int = CONCURRENCY) -> PassReport:
    from scheduling import followups

    now = now or services.now()
    report = PassReport()
    # Config teams were synced when the services were built (the config is fixed per process).
    followups.refresh_zones(services, now, report)
    with services.sessions.begin() as session:
        report.add("planned", plan_next(session, services.config, services.team_id, now))
    followups.recover_stuck(services, now, report)
    send_due(services, now, report, concurrency)
    for step in follow_up_steps():
        step(services, now, report)
    log.info("%s", report.summary())
    return report


def claim_batch(session: Session, team_id: str, now: dt.datetime, token: str, limit: int = BATCH,
                rep_id: str | None = None, claimed_at: dt.datetime | None = None) -> list[int]:
    """Atomically claim up to `limit` check-ins due at `now`. Returns the claimed ids.

    `claimed_at` (default `now`) starts the claim's lease: a later batch of a long pass is stamped
    with the time it was really claimed, so other passes don't take it for a crashed one.
    """
    due = (select(CheckIn.id)
           .where(CheckIn.team_id == team_id, CheckIn.state == "scheduled", CheckIn.due_at <= now,
                  # A row released after a transient error this pass waits for the next pass.
                  (CheckIn.claimed_at.is_(None)) | (CheckIn.claimed_at < now))
           .order_by(CheckIn.due_at, CheckIn.id).limit(limit))
    if rep_id is not None:
        due = due.where(CheckIn.rep_id == rep_id)
    if session.get_bind().dialect.name == "postgresql":
        # Another pass's rows stay locked until it commits its claim: skip them, don't wait.
        due = due.with_for_update(skip_locked=True)
    # Two statements, not UPDATE ... WHERE id IN (SELECT ... LIMIT n): PostgreSQL may run such a
    # subquery more than once and update more than `limit` rows. The SELECT's row locks
    # (PostgreSQL) or the write lock taken by BEGIN IMMEDIATE (SQLite) hold until commit.
    ids = list(session.scalars(due))
    if not ids:
        return []
    # RETURNING gives exactly this batch's rows (earlier batches of the pass may still be 'sending').
    claimed = session.scalars(
        update(CheckIn).where(CheckIn.id.in_(ids), CheckIn.state == "scheduled")
        .values(state="sending", claimed_by=token, claimed_at=claimed_at or now, attempts=CheckIn.attempts + 1)
        .returning(CheckIn.id).execution_options(synchronize_session=False)
    )
    return sorted(claimed)


@dataclass
class _Batch:
    jobs: list[Job]
    futures: list[Future[SendResult]]


def send_due(services: Services, now: dt.datetime, report: PassReport, concurrency: int = CONCURRENCY,
             rep_id: str | None = None) -> None:
    """Send everything due (or, with `rep_id`, only that rep's), in claimed batches.

    Pipelined: while one batch is being posted, the previous batch's results are written and the
    next batch is claimed and prepared, so the posting threads never wait for the database.
    """
    token = pass_token()
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dispatch") as pool:
        in_flight: _Batch | None = None
        while True:
            with services.sessions.begin() as session:
                ids = claim_batch(session, services.team_id, now, token, rep_id=rep_id,
                                  claimed_at=max(now, services.now()))
                jobs = prepare(session, services, ids, now, report) if ids else []
            batch = _Batch(jobs, [pool.submit(post, services.client, **job.kwargs) for job in jobs])
            fatal = _finish(services, in_flight, now, report) if in_flight else None
            if fatal:
                for future in batch.futures:
                    future.cancel()  # not started yet: released below, unsent
                _finish(services, batch, now, report)
                log.error("Slack refused the bot token (%s); stopping this pass", fatal)
                return
            if not ids:
                return
            in_flight = batch


def _finish(services: Services, batch: _Batch, now: dt.datetime, report: PassReport) -> str | None:
    """Wait for a batch's posts and record the outcomes. Returns a fatal error, if Slack gave one."""
    results = [SendResult("transient", error="not sent: pass stopped") if f.cancelled() else f.result()
               for f in batch.futures]
    if not batch.jobs:
        return None
    with services.sessions.begin() as session:
        return apply_results(session, batch.jobs, results, now, report)


def _closed(checkin_id: int, state: str, now: dt.datetime, report: PassReport,
            reason: str | None = None) -> dict[str, Any]:
    """The changes that close a claimed row (for `_update_each`)."""
    report.add(state)
    values: dict[str, Any] = {"_id": checkin_id, "state": state, "closed_at": now, "claimed_by": None}
    if reason:
        values["last_error"] = reason
    return values


def _update_each(session: Session, table: Table, changes: list[dict[str, Any]]) -> None:
    """UPDATE rows by primary key ("_id"), each with its own values.

    One executemany per distinct set of columns: at thousands of check-ins a pass, loading ORM
    objects only to set a few attributes on them cost more CPU than the sending.
    """
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for values in changes:
        groups.setdefault(tuple(sorted(values)), []).append(values)
    for params in groups.values():
        # No .values(): the SET clause is the parameters' keys other than "_id".
        session.execute(update(table).where(table.c.id == bindparam("_id")), params)


@dataclass(slots=True)
class _GoalRow:
    """The columns of a goal that a check-in needs. last_discussed_at moves on as the batch picks
    it, so a rep with two check-ins in one batch is asked about two different goals, as before."""
    id: int
    text: str
    position: int
    last_discussed_at: dt.datetime | None


def prepare(session: Session, services: Services, ids: list[int], now: dt.datetime,
            report: PassReport) -> list[Job]:
    """Decide, for each claimed row, to send, expire or hold it; fix the goal and prompt before sending.

    A handful of queries per batch, not per row: users, schedules and goals are loaded together,
    check-ins and goals as plain columns, and the choices written back with executemany UPDATEs.
    """
    rows = session.execute(
        select(CheckIn.id, CheckIn.team_id, CheckIn.rep_id, CheckIn.kind, CheckIn.due_at, CheckIn.goal_id,
               CheckIn.prompt, CheckIn.attempts).where(CheckIn.id.in_(ids)).order_by(CheckIn.id)).all()
    rep_ids = {r.rep_id for r in rows}
    users = {u.slack_id: u for u in session.scalars(
        select(User).where(User.team_id == services.team_id, User.slack_id.in_(rep_ids)))}
    schedules = schedules_for(session, services.config, [u for u in users.values() if not u.parked_reason])
    goals: dict[str, list[_GoalRow]] = {}
    # storage.goals.active_goals, for every rep of the batch at once (same filter and order).
    for loaded in session.execute(
        select(Goal.rep_id, Goal.id, Goal.text, Goal.position, Goal.last_discussed_at)
        .where(Goal.team_id == services.team_id, Goal.rep_id.in_(rep_ids), Goal.archived_at.is_(None))
        .order_by(Goal.position, Goal.id)
    ):
        goals.setdefault(loaded.rep_id, []).append(
            _GoalRow(loaded.id, loaded.text, loaded.position, loaded.last_discussed_at))
    templates = services.config.all_prompts()
    changes: list[dict[str, Any]] = []
    sequences: dict[str, int] = {}  # rep -> their prompt_sequence after this batch's prompts
    jobs: list[Job] = []
    for row in rows:
        user = users.get(row.rep_id)
        if user is None or user.parked_reason:
            changes.append(_closed(row.id, "expired", now, report,
                                   reason=user.parked_reason if user else "unknown_user"))
            continue
        if user.paused_until and user.paused_until > now and row.kind == "scheduled":
            changes.append(_closed(row.id, "paused", now, report))
            continue
        schedule = schedules[user.slack_id]
        on_time = now - row.due_at <= MAX_LATENESS
        # The rep asked for this one themselves, so their quiet hours don't hold it back.
        allowed = row.kind == "rep_now" or is_allowed(now, schedule.cadence, schedule.zone)
        if not (on_time and allowed):
            changes.append(_closed(row.id, "expired", now, report,
                                   reason="late" if not on_time else "outside_allowed_hours"))
            continue
        rep_goals = goals.get(row.rep_id, [])
        goal = next((g for g in rep_goals if g.id == row.goal_id), None) or pick_goal(rep_goals)
        prompt = row.prompt
        if prompt is None:
            sequence = sequences.get(user.slack_id, user.prompt_sequence)
            prompt = choose_prompt(user.slack_id, sequence, templates)
            sequences[user.slack_id] = sequence + 1
        if goal is not None:
            goal.last_discussed_at = now
        changes.append({"_id": row.id, "prompt": prompt, "goal_id": goal.id if goal else None})
        kwargs = checkin_prompt(row.id, row.rep_id, (goal.id, goal.text) if goal else None, prompt,
                                [(g.id, g.text) for g in rep_goals])
        jobs.append(Job(checkin_id=row.id, rep_id=row.rep_id, kwargs=kwargs, team_id=row.team_id,
                        attempts=row.attempts))
    _update_each(session, _CHECKINS, changes)
    _update_each(session, _USERS, [{"_id": users[rep].id, "prompt_sequence": n} for rep, n in sequences.items()])
    discussed = [g.id for rep_goals in goals.values() for g in rep_goals if g.last_discussed_at == now]
    if discussed:
        session.execute(update(Goal).where(Goal.id.in_(discussed)).values(last_discussed_at=now)
                        .execution_options(synchronize_session=False))
    return jobs


def apply_results(session: Session, jobs: list[Job], results: list[SendResult], now: dt.datetime,
                  report: PassReport) -> str | None:
    fatal: str | None = None
    changes: list[dict[str, Any]] = []
    newest: dict[str, int] = {}  # rep -> the check-in just sent to them
    for job, result in zip(jobs, results, strict=True):
        if result.outcome == "ok":
            changes.append({"_id": job.checkin_id, "state": "sent", "channel": result.channel,
                            "message_ts": result.ts, "sent_at": now, "claimed_by": None})
            newest[job.rep_id] = max(newest.get(job.rep_id, 0), job.checkin_id)
            report.add("sent")
        elif result.outcome == "unknown":
            # Slack may have posted it (the answer was lost): keep the row 'sending' so that, once
            # the claim lease runs out, recover_stuck looks for the message before any new post.
            changes.append({"_id": job.checkin_id, "claimed_by": None, "last_error": result.error})
            report.add("unconfirmed")
        elif result.outcome == "permanent":
            park(session, job.team_id, job.rep_id, result.error or "unreachable", now)
            changes.append(_closed(job.checkin_id, "expired", now, report, reason=result.error))
            report.add("parked")
        else:
            # Transient (or the token failed): release the claim; the next pass tries again.
            # `attempts` is the claim's own count, read in prepare (a claim bumps it).
            if job.attempts >= MAX_ATTEMPTS:
                changes.append(_closed(job.checkin_id, "expired", now, report, reason=f"gave up: {result.error}"))
            else:
                changes.append({"_id": job.checkin_id, "state": "scheduled", "claimed_by": None,
                                "last_error": result.error})
                report.add("retry_later")
            if result.outcome == "fatal":
                fatal = result.error
    _update_each(session, _CHECKINS, changes)
    if newest:
        expire_older_open(session, jobs[0].team_id, newest, now)
    return fatal


def park(session: Session, team_id: str, rep_id: str, reason: str, now: dt.datetime) -> None:
    """Stop scheduling a rep Slack says we can't reach; logged once, when it first happens."""
    result = session.execute(
        update(User).where(User.team_id == team_id, User.slack_id == rep_id, User.parked_reason.is_(None))
        .values(parked_reason=reason, parked_at=now).execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0):
        log.warning("parked the schedule of %s: Slack said %s", rep_id, reason)
        touch_reps(session, team_id, [rep_id])  # their pairs leave the drift guard
