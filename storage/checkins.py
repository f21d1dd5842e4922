"""Check-in state changes driven by the rep: answers, skips, snoozes, pauses. Idempotent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage import conversation, lifecycle, outbox
from storage.changes import touch_reps
from storage.db import insert_ignore
from storage.models import Answer, CheckIn, CheckInState, ProcessedEvent, User
from storage.ownership import owned

MAX_ANSWER_CHARS = 3000


class CheckInError(ValueError):
    """A polite reason the change was refused; nothing was changed."""


@dataclass(frozen=True)
class Recorded:
    answer: Answer
    created: bool  # False when the same answer was already stored (a retried event)


def first_delivery(session: Session, team_id: str, event_id: str, now: dt.datetime) -> bool:
    """Record a Slack event ID; False if we have seen it before (Slack retries deliver it again)."""
    return bool(insert_ignore(session, ProcessedEvent, {"event_id": event_id, "team_id": team_id, "received_at": now},
                              returning=ProcessedEvent.event_id))


def own_checkin(session: Session, team_id: str, rep_id: str, checkin_id: int) -> CheckIn | None:
    """The check-in if it is this rep's; another's is treated exactly like a missing one."""
    return owned(session, CheckIn, checkin_id, team_id, rep_id=rep_id)


def open_checkin(session: Session, team_id: str, rep_id: str) -> CheckIn | None:
    """The rep's most recent check-in awaiting an answer, if any."""
    return session.scalar(
        select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.state == CheckInState.SENT)
        .order_by(CheckIn.sent_at.desc(), CheckIn.id.desc()).limit(1))


def checkin_by_message(session: Session, team_id: str, rep_id: str, ts: str) -> CheckIn | None:
    return session.scalar(select(CheckIn).where(
        CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.message_ts == ts))


def record_answer(session: Session, checkin: CheckIn, text: str, source: str, now: dt.datetime,
                  event_id: str | None = None, confidence: int | None = None,
                  help_wanted: bool | None = None, message_ts: str | None = None) -> Recorded:
    """Store (or, when the rep edits, update) the one answer of a check-in.

    `help_wanted` is the form's explicit choice (None from a DM: only clear wording opens a request;
    see `storage.help.read_answer`, which also notes a next step the answer names).
    """
    text = text.strip()
    if not text:
        raise CheckInError("Your answer was empty, so I didn't save anything.")
    if len(text) > MAX_ANSWER_CHARS:
        raise CheckInError(f"That answer is {len(text)} characters; the limit is {MAX_ANSWER_CHARS}. "
                           "Nothing was saved; please shorten it a little.")
    if confidence is not None and not 1 <= confidence <= 5:
        raise CheckInError("Confidence is a number from 1 to 5.")
    existing = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
    if existing is not None:
        if event_id is not None and existing.event_id == event_id:
            return Recorded(existing, created=False)
        existing.text, existing.updated_at, existing.source = text, now, source
        existing.confidence = confidence if confidence is not None else existing.confidence
        existing.event_id = event_id or existing.event_id
        existing.message_ts = message_ts or existing.message_ts
        conversation.read_answer(session, checkin, existing, source, help_wanted, now)
        return Recorded(existing, created=False)
    if not lifecycle.answer(session, checkin.id, now):
        # Only a check-in that reached the rep can be answered; an upcoming one stays upcoming.
        raise CheckInError("This check-in hasn't reached you yet, so there's nothing to answer. "
                           "Nothing was saved.")
    answer = Answer(team_id=checkin.team_id, checkin_id=checkin.id, rep_id=checkin.rep_id,
                    goal_id=checkin.goal_id, text=text, confidence=confidence, help_wanted=False,
                    source=source, event_id=event_id, created_at=now, updated_at=now, message_ts=message_ts)
    session.add(answer)
    session.flush()
    conversation.read_answer(session, checkin, answer, source, help_wanted, now)
    session.refresh(checkin)
    return Recorded(answer, created=True)


def answer_by_message(session: Session, team_id: str, rep_id: str, message_ts: str) -> Answer | None:
    """The answer a rep's DM carried, if it carried one."""
    return session.scalar(select(Answer).where(Answer.team_id == team_id, Answer.rep_id == rep_id,
                                               Answer.message_ts == message_ts).limit(1))


def skip(session: Session, checkin: CheckIn, now: dt.datetime) -> bool:
    """Skip an open or upcoming check-in. False if it was already closed."""
    won = lifecycle.skip(session, checkin.id, now)
    session.refresh(checkin)
    return won


def snooze(session: Session, checkin: CheckIn, until: dt.datetime, now: dt.datetime) -> bool:
    """Bring an open check-in back later: it becomes scheduled again, same goal and question.

    A snooze into quiet hours lands where the window opens, which can be exactly the rep's next
    scheduled slot (a 09:00 cadence). The snoozed check-in then stands in for that slot: an
    upcoming one due no later than `until` and never sent is dropped. Otherwise the rep would get
    two at once, and the unique (rep, kind, due_at) row would make the snooze fail outright.
    """
    if checkin.state != CheckInState.SENT:
        return False
    session.execute(
        delete(CheckIn).where(CheckIn.team_id == checkin.team_id, CheckIn.rep_id == checkin.rep_id,
                              CheckIn.kind == checkin.kind, CheckIn.id != checkin.id, CheckIn.state == "scheduled",
                              CheckIn.due_at <= until, CheckIn.message_ts.is_(None))
        .execution_options(synchronize_session=False))
    won = lifecycle.snooze(session, checkin.id, until)
    touch_reps(session, checkin.team_id, [checkin.rep_id])  # a snoozed check-in is an outcome, and open again
    session.refresh(checkin)
    if won:  # it comes back through the outbox, like any check-in
        outbox.enqueue_many(session, [outbox.checkin_message(
            checkin.team_id, checkin.rep_id, checkin.id, checkin.kind, until, checkin.snooze_count)], now)
    return won


def next_checkin(session: Session, team_id: str, rep_id: str) -> CheckIn | None:
    """The open check-in if there is one, else the next scheduled one."""
    return open_checkin(session, team_id, rep_id) or session.scalar(
        select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.rep_id == rep_id,
                              CheckIn.state == "scheduled").order_by(CheckIn.due_at).limit(1))


def pause(session: Session, user: User, until: dt.datetime) -> None:
    user.paused_until = until
    touch_reps(session, user.team_id, [user.slack_id])


def resume(session: Session, user: User) -> bool:
    was_paused = user.paused_until is not None
    user.paused_until = None
    touch_reps(session, user.team_id, [user.slack_id])
    return was_paused
