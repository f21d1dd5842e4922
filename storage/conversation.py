"""Help requests and carried next steps (issue 13): the state changes, each idempotent.

A help request belongs to one check-in. The rep opens it (a button, the form, or their own words
in a DM, read by `coaching.conversation`) and may clear it; a manager's note or thanks on its
answer, or their "Mark resolved", closes it. `Answer.help_wanted` mirrors "open" so everything
rendered from an answer tells the truth. Every change marks the rep for the drift guard, whose
feedback signal counts a help request answered (or left unanswered).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from coaching.conversation import help_request, next_step
from storage.changes import touch_reps
from storage.models import Answer, CheckIn, HelpRequest, HelpState, StepState

SOURCES = ("button", "form", "words")


def request_of(session: Session, checkin_id: int) -> HelpRequest | None:
    return session.scalar(select(HelpRequest).where(HelpRequest.checkin_id == checkin_id))


def _mirror(session: Session, checkin_id: int, wanted: bool) -> None:
    session.execute(update(Answer).where(Answer.checkin_id == checkin_id).values(help_wanted=wanted)
                    .execution_options(synchronize_session="fetch"))


def ask(session: Session, checkin: CheckIn, source: str, now: dt.datetime, detail: str | None = None) -> bool:
    """Open (or reopen) the check-in's help request. False if it was open already."""
    found = request_of(session, checkin.id)
    if found is not None and found.state == HelpState.OPEN:
        if detail and not found.detail:
            found.detail = detail[:400]
        return False
    if found is None:
        found = HelpRequest(team_id=checkin.team_id, rep_id=checkin.rep_id, checkin_id=checkin.id,
                            goal_id=checkin.goal_id, source=source, created_at=now)
        session.add(found)
    # Asking again is a new request: its own clock for the nudge, and a new nudge if it comes to that.
    found.state, found.source, found.created_at = HelpState.OPEN, source, now
    found.detail = detail[:400] if detail else None
    found.resolved_at = found.resolved_by = found.nudged_at = None
    session.flush()
    _mirror(session, checkin.id, True)
    touch_reps(session, checkin.team_id, [checkin.rep_id])
    return True


def withdraw(session: Session, checkin: CheckIn, now: dt.datetime) -> bool:
    """The rep clears their request. False if none was open."""
    found = request_of(session, checkin.id)
    if found is None or found.state != HelpState.OPEN:
        return False
    found.state, found.resolved_at, found.resolved_by = HelpState.WITHDRAWN, now, checkin.rep_id
    _mirror(session, checkin.id, False)
    touch_reps(session, checkin.team_id, [checkin.rep_id])
    return True


def resolve(session: Session, found: HelpRequest, manager: str, now: dt.datetime) -> bool:
    """A manager responded to the request, or marked it resolved. False if it wasn't open."""
    if found.state != HelpState.OPEN:
        return False
    found.state, found.resolved_at, found.resolved_by = HelpState.RESOLVED, now, manager
    _mirror(session, found.checkin_id, False)
    touch_reps(session, found.team_id, [found.rep_id])
    return True


def responded(session: Session, answer: Answer, manager: str, now: dt.datetime) -> bool:
    """A manager's note, thanks or reply on an answer closes the help request on its check-in."""
    found = request_of(session, answer.checkin_id)
    return found is not None and resolve(session, found, manager, now)


def open_requests(session: Session, team_id: str, reps: Sequence[str]) -> list[HelpRequest]:
    """The open help requests of these reps, oldest first."""
    if not reps:
        return []
    return list(session.scalars(select(HelpRequest).where(
        HelpRequest.team_id == team_id, HelpRequest.rep_id.in_(list(reps)), HelpRequest.state == HelpState.OPEN)
        .order_by(HelpRequest.created_at, HelpRequest.id)))


def read_answer(session: Session, checkin: CheckIn, answer: Answer, source: str, help_wanted: bool | None,
                now: dt.datetime) -> None:
    """What an answer just saved says about help and the next step.

    The form's checkbox is the rep's explicit choice (so unticking it clears the request); a DM or
    thread reply can only open one, from clear wording. A named next step waits for the next
    check-in on the goal, unless the rep dropped it or it was already asked about.
    """
    if help_wanted is True:
        ask(session, checkin, "form", now)
    elif help_wanted is False:
        withdraw(session, checkin, now)
    elif source != "modal" and request_of(session, checkin.id) is None \
            and (words := help_request(answer.text)) is not None:
        # Only a first reading: once the rep undid it (or a manager answered it), an edit of the
        # same words doesn't bring it back; the button does.
        ask(session, checkin, "words", now, words)
    found = request_of(session, checkin.id)
    answer.help_wanted = found is not None and found.state == HelpState.OPEN
    step = next_step(answer.text)
    if step is not None and answer.next_step_state != StepState.CARRIED and step != answer.next_step:
        answer.next_step, answer.next_step_state = step, StepState.PENDING
        if answer.goal_id is not None:  # the newest step on a goal is the one worth asking about
            session.execute(update(Answer).where(
                Answer.team_id == answer.team_id, Answer.rep_id == answer.rep_id, Answer.goal_id == answer.goal_id,
                Answer.id != answer.id, Answer.next_step_state == StepState.PENDING)
                .values(next_step_state=StepState.SUPERSEDED).execution_options(synchronize_session="fetch"))


def set_step(session: Session, answer: Answer, text: str | None) -> None:
    """The rep edits (text) or drops (None or blank) the step carried from an answer."""
    text = " ".join((text or "").split())[:400]
    if text:
        answer.next_step = text
        if answer.next_step_state != StepState.CARRIED:
            answer.next_step_state = StepState.PENDING
    else:
        answer.next_step_state = StepState.DROPPED


def pending_steps(session: Session, team_id: str, reps: Sequence[str]) -> dict[tuple[str, int], Answer]:
    """Each (rep, goal)'s latest answer with a step still waiting to be asked about."""
    out: dict[tuple[str, int], Answer] = {}
    if not reps:
        return out
    for answer in session.scalars(select(Answer).where(
            Answer.team_id == team_id, Answer.rep_id.in_(list(reps)), Answer.goal_id.is_not(None),
            Answer.next_step_state == StepState.PENDING).order_by(Answer.created_at, Answer.id)):
        if answer.goal_id is not None:
            out[(answer.rep_id, answer.goal_id)] = answer  # the latest wins
    return out


def carried_by(session: Session, checkin_id: int) -> Answer | None:
    """The earlier answer whose step this check-in quotes, if it quotes one."""
    return session.scalar(select(Answer).where(Answer.next_step_checkin == checkin_id,
                                               Answer.next_step_state == StepState.CARRIED).limit(1))
