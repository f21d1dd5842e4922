"""Check-ins and manager questions as the worker posts them: decided and rendered in batches.

At 10,000 reps a pass posts thousands of check-ins, so this works a batch at a time: users and
goals are loaded together, check-ins and goals as plain columns, and the choices written back with
executemany UPDATEs, a handful of queries per batch rather than per row.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from coaching.prompts import all_prompts, carry_prompt, choose_prompt
from core.config import AdminConfig
from handlers.render.checkin import checkin_prompt
from handlers.render.guard import question_dm
from handlers.text import safe
from scheduling.plan import MAX_LATENESS
from scheduling.report import PassReport
from storage import conversation, lifecycle
from storage.goals import pick_goal
from storage.models import CheckIn, CheckInKind, Goal, OutboxKind, StepState, User
from storage.outbox import Claimed

_USERS = cast(Table, User.__table__)

CHECKIN_KINDS = frozenset({OutboxKind.CHECKIN_PROMPT, OutboxKind.CHECKIN_NOW, OutboxKind.MANAGER_QUESTION})


@dataclass(slots=True)
class _GoalRow:
    """The columns of a goal that a check-in needs. last_discussed_at moves on as the batch picks
    it, so a rep with two check-ins in one batch is asked about two different goals."""
    id: int
    text: str
    position: int
    last_discussed_at: dt.datetime | None


@dataclass
class Decided:
    """What to post, and which rows to cancel (their check-in will not be sent), for one batch."""

    messages: list[tuple[Claimed, dict[str, Any]]]
    cancelled: list[tuple[int, str]]


def prepare(session: Session, config: AdminConfig, team_id: str, rows: list[Claimed], now: dt.datetime,
            report: PassReport, users: Mapping[str, User]) -> Decided:
    """Claim each row's check-in, then send, expire or drop it; fix its goal and prompt first."""
    decided = Decided([], [])
    by_checkin = {r.checkin_id: r for r in rows if r.checkin_id is not None}
    decided.cancelled += [(r.id, "no check-in") for r in rows if r.checkin_id is None]
    won = lifecycle.claim(session, list(by_checkin))
    # A check-in skipped, answered, or sent by an older row meanwhile: this row has nothing to post.
    decided.cancelled += [(r.id, "check-in no longer due") for c, r in by_checkin.items() if c not in won]
    if not won:
        return decided
    checkins = session.execute(
        select(CheckIn.id, CheckIn.rep_id, CheckIn.kind, CheckIn.due_at, CheckIn.goal_id, CheckIn.prompt)
        .where(CheckIn.id.in_(won)).order_by(CheckIn.id)).all()
    rep_ids = {c.rep_id for c in checkins}  # their rows are in `users`: the worker loaded them
    goals: dict[str, list[_GoalRow]] = {}
    # storage.goals.active_goals, for every rep of the batch at once (same filter and order).
    for loaded in session.execute(
        select(Goal.rep_id, Goal.id, Goal.text, Goal.position, Goal.last_discussed_at)
        .where(Goal.team_id == team_id, Goal.rep_id.in_(rep_ids), Goal.archived_at.is_(None))
        .order_by(Goal.position, Goal.id)
    ):
        goals.setdefault(loaded.rep_id, []).append(
            _GoalRow(loaded.id, loaded.text, loaded.position, loaded.last_discussed_at))
    templates = all_prompts(config.prompts)
    # Carry-forward: a step the rep named last time on a goal is what its next check-in asks about.
    steps = conversation.pending_steps(session, team_id, sorted(rep_ids))
    expired: list[tuple[int, str]] = []
    paused: list[int] = []
    choices: list[tuple[int, str | None, int | None]] = []
    sequences: dict[str, int] = {}  # rep -> their prompt_sequence after this batch's prompts
    for c in checkins:
        row = by_checkin[c.id]
        user = users.get(c.rep_id)
        if user is None or user.parked_reason:
            reason = user.parked_reason if user and user.parked_reason else "unknown_user"
            expired.append((c.id, reason))
            decided.cancelled.append((row.id, reason))
            continue
        if c.kind == CheckInKind.SCHEDULED and user.paused_until and user.paused_until > now:
            paused.append(c.id)
            decided.cancelled.append((row.id, "paused"))
            continue
        if c.kind == CheckInKind.SCHEDULED and now - c.due_at > MAX_LATENESS:
            expired.append((c.id, "late"))
            decided.cancelled.append((row.id, "late"))
            continue
        if row.kind is OutboxKind.MANAGER_QUESTION:
            decided.messages.append((row, question_dm(c.id, c.rep_id, str(row.payload.get("manager")),
                                                      c.prompt or "")))
            continue
        rep_goals = goals.get(c.rep_id, [])
        goal = next((g for g in rep_goals if g.id == c.goal_id), None) or pick_goal(rep_goals)
        prompt = c.prompt
        carried = steps.pop((c.rep_id, goal.id), None) if goal is not None and prompt is None else None
        if carried is not None and carried.next_step:
            # Still one open question, quoting the rep's own words (escaped: they are user text).
            prompt = carry_prompt(user.slack_id, user.prompt_sequence, safe(carried.next_step, 300))
            carried.next_step_state, carried.next_step_checkin = StepState.CARRIED, c.id
        elif prompt is None:
            carried = None
            sequence = sequences.get(user.slack_id, user.prompt_sequence)
            prompt = choose_prompt(user.slack_id, sequence, templates)
            sequences[user.slack_id] = sequence + 1
        if goal is not None:
            goal.last_discussed_at = now
        choices.append((c.id, prompt, goal.id if goal else None))
        decided.messages.append((row, checkin_prompt(c.id, c.rep_id, (goal.id, goal.text) if goal else None,
                                                     prompt, [(g.id, g.text) for g in rep_goals],
                                                     step_answer=carried.id if carried is not None else None)))
    report.add("expired", len(expired))
    report.add("paused", len(paused))
    lifecycle.expire(session, expired, now)
    lifecycle.close_paused(session, paused, now)
    lifecycle.choose(session, choices)
    if sequences:
        session.execute(update(_USERS).where(_USERS.c.id == bindparam("_id"))
                        .values(prompt_sequence=bindparam("_seq")),
                        [{"_id": users[rep].id, "_seq": n} for rep, n in sequences.items()])
    discussed = [g.id for rep_goals in goals.values() for g in rep_goals if g.last_discussed_at == now]
    if discussed:
        session.execute(update(Goal).where(Goal.id.in_(discussed)).values(last_discussed_at=now)
                        .execution_options(synchronize_session=False))
    return decided
