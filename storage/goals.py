"""A rep's goals: their own, at most 10 active, each at most 280 characters (never cut silently)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.changes import touch_reps
from storage.models import Goal
from storage.ownership import owned

MAX_ACTIVE_GOALS = 10
MAX_GOAL_CHARS = 280


class GoalError(ValueError):
    """A polite reason a goal change was refused; nothing was changed."""


def active_goals(session: Session, team_id: str, rep_id: str) -> list[Goal]:
    return list(session.scalars(
        select(Goal).where(Goal.team_id == team_id, Goal.rep_id == rep_id, Goal.archived_at.is_(None))
        .order_by(Goal.position, Goal.id)
    ))


class Discussed(Protocol):
    """What choosing a goal looks at: a Goal, or the few columns the dispatcher loads instead."""

    @property
    def id(self) -> int: ...
    @property
    def position(self) -> int: ...
    @property
    def last_discussed_at(self) -> dt.datetime | None: ...


_G = TypeVar("_G", bound=Discussed)


def pick_goal(goals: Sequence[_G]) -> _G | None:
    """The least recently discussed goal (never-discussed first), ties broken by the rep's order."""
    if not goals:
        return None
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    return min(goals, key=lambda g: (g.last_discussed_at or never, g.position, g.id))


def check_goal_text(text: str) -> str:
    text = " ".join(text.split())
    if not text:
        raise GoalError("A goal needs a few words. Try `/checkin goal add Close the Acme renewal by March`.")
    if len(text) > MAX_GOAL_CHARS:
        raise GoalError(f"That goal is {len(text)} characters; please keep it to {MAX_GOAL_CHARS} "
                        "so it reads well in a check-in. Nothing was saved.")
    return text


def add_goal(session: Session, team_id: str, rep_id: str, text: str, now: dt.datetime) -> Goal:
    text = check_goal_text(text)
    count = session.scalar(select(func.count()).select_from(Goal).where(
        Goal.team_id == team_id, Goal.rep_id == rep_id, Goal.archived_at.is_(None))) or 0
    if count >= MAX_ACTIVE_GOALS:
        raise GoalError(f"You already have {MAX_ACTIVE_GOALS} active goals. Archive one with "
                        "`/checkin goals` before adding another. Nothing was saved.")
    position = (session.scalar(select(func.max(Goal.position)).where(
        Goal.team_id == team_id, Goal.rep_id == rep_id)) or 0) + 1
    goal = Goal(team_id=team_id, rep_id=rep_id, text=text, position=position, created_at=now)
    session.add(goal)
    session.flush()
    touch_reps(session, team_id, [rep_id])
    return goal


def own_goal(session: Session, team_id: str, rep_id: str, goal_id: int) -> Goal | None:
    """The goal if it belongs to this rep (anything else is treated as not found)."""
    return owned(session, Goal, goal_id, team_id, rep_id=rep_id)


def edit_goal(session: Session, team_id: str, rep_id: str, goal_id: int, text: str) -> Goal:
    goal = own_goal(session, team_id, rep_id, goal_id)
    if goal is None:
        raise GoalError("I couldn't find that goal.")
    goal.text = check_goal_text(text)
    touch_reps(session, team_id, [rep_id])  # the drift guard matches questions to goal words
    return goal


def archive_goal(session: Session, team_id: str, rep_id: str, goal_id: int, now: dt.datetime) -> Goal:
    goal = own_goal(session, team_id, rep_id, goal_id)
    if goal is None:
        raise GoalError("I couldn't find that goal.")
    goal.archived_at = now
    touch_reps(session, team_id, [rep_id])
    return goal


def move_goal(session: Session, team_id: str, rep_id: str, goal_id: int, delta: int) -> None:
    """Move a goal up (delta -1) or down (+1) in the rep's order."""
    goals = active_goals(session, team_id, rep_id)
    index = next((i for i, g in enumerate(goals) if g.id == goal_id), None)
    if index is None:
        raise GoalError("I couldn't find that goal.")
    target = index + delta
    if 0 <= target < len(goals):
        goals[index], goals[target] = goals[target], goals[index]
    for position, goal in enumerate(goals, start=1):
        goal.position = position
    touch_reps(session, team_id, [rep_id])
