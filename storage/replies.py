"""Replies that land: what a person writes after the bot spoke for someone else, kept and passed on.

- A reply in the thread of a coaching note, a thanks or a passed-on reply goes to the other person
  of that conversation (`relayed_messages` + a `note_reply` outbox row).
- A manager's reply in the thread of an answer they were passed becomes a coaching note to the rep.
- A DM after the check-in was answered is added to that answer, or offered to the rep's managers.
- An edit or deletion in Slack of the DM that carried an answer changes or removes the stored answer,
  and the managers' copies already posted are refreshed through the outbox (`relay_refresh`).

Functions take a session; the caller owns the transaction. Nothing here talks to Slack.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
from dataclasses import dataclass, field

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from storage import outbox
from storage.changes import touch_reps
from storage.checkins import MAX_ANSWER_CHARS, CheckInError
from storage.db import insert_ignore
from storage.models import (
    Answer,
    AnswerPart,
    AnswerRelay,
    CheckIn,
    CheckInState,
    CoachingNote,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    RelayedMessage,
)
from storage.people import managers_of_rep, manages

# Messages whose thread is a conversation between a rep and a manager, carried by the bot.
REPLYABLE = (OutboxKind.COACHING_NOTE, OutboxKind.THANKS, OutboxKind.NOTE_REPLY, OutboxKind.ANSWER_RELAY)
# A DM this soon after the rep's latest check-in was answered is taken as more of that answer: the
# default of the admin config's `[checkins] append_window_days`.
APPEND_WINDOW = dt.timedelta(days=3)


class ReplyResult(enum.Enum):
    RELAYED = "relayed"  # queued for the other person
    NOTE = "note"  # a manager's reply to an answer, sent to the rep as a coaching note
    NOT_ALLOWED = "not_allowed"  # the writer no longer manages the rep
    DUPLICATE = "duplicate"  # the same message again (a retried event)


@dataclass(frozen=True)
class ReplyOutcome:
    result: ReplyResult
    recipient: str | None = None
    outbox_id: int | None = None
    answer_id: int | None = None  # for NOTE: the answer whose manager copy now shows "you sent a note"


class LateResult(enum.Enum):
    APPENDED = "appended"
    OFFERED = "offered"  # stored, waiting for the rep to choose whether their managers get it
    NOWHERE = "nowhere"  # no recent answer and nobody to pass it to


@dataclass(frozen=True)
class LateOutcome:
    result: LateResult
    answer_id: int | None = None
    checkin_id: int | None = None
    managers: list[str] = field(default_factory=list)
    outbox_ids: list[int] = field(default_factory=list)
    text: str = ""  # OFFERED: the words offered, shown in the offer


def _checked(text: str) -> str:
    text = text.strip()
    if not text:
        raise CheckInError("Your message was empty, so there was nothing to pass on.")
    if len(text) > MAX_ANSWER_CHARS:
        raise CheckInError(f"That message is {len(text)} characters; the limit is {MAX_ANSWER_CHARS}. "
                           "Nothing was changed or sent; please shorten it a little.")
    return text


def thread_root(session: Session, team_id: str, user_id: str, thread_ts: str) -> OutboxMessage | None:
    """The conversation message (note, thanks, passed-on reply or answer) that `user_id` got at `thread_ts`."""
    return session.scalar(select(OutboxMessage).where(
        OutboxMessage.team_id == team_id, OutboxMessage.ts == thread_ts, OutboxMessage.recipient == user_id,
        OutboxMessage.state == OutboxState.SENT, OutboxMessage.kind.in_([str(k) for k in REPLYABLE])).limit(1))


def _queue(session: Session, team_id: str, sender: str, recipient: str, rep_id: str, note_id: int | None,
           text: str, message_ts: str, now: dt.datetime, status: str = "queued") -> int | None:
    """Store the words, then (unless only offered) queue them. Returns the relayed_messages id, None if stored already."""
    found = insert_ignore(session, RelayedMessage, {
        "team_id": team_id, "sender": sender, "recipient": recipient, "rep_id": rep_id, "note_id": note_id,
        "text": text, "message_ts": message_ts, "status": status, "created_at": now}, returning=RelayedMessage.id)
    return found[0] if found else None


def _enqueue(session: Session, team_id: str, relayed_id: int, sender: str, recipient: str, rep_id: str,
             context: str, now: dt.datetime) -> int | None:
    manager = recipient if sender == rep_id else sender
    return outbox.enqueue(session, team_id=team_id, kind=OutboxKind.NOTE_REPLY, recipient=recipient,
                          dedupe_key=f"note_reply:{relayed_id}", now=now,
                          payload={"reply_id": relayed_id, "rep": rep_id, "manager": manager, "context": context})


def reply_in_thread(session: Session, team_id: str, sender: str, root: OutboxMessage, text: str,
                    message_ts: str, now: dt.datetime) -> ReplyOutcome | None:
    """Pass a reply in a conversation message's thread to the other person. None: not a conversation."""
    text = _checked(text)
    payload = json.loads(root.payload or "{}")
    if root.kind == OutboxKind.ANSWER_RELAY:
        return _note_on_answer(session, team_id, sender, int(payload["answer_id"]), text, message_ts, now)
    note_id: int | None = None
    if root.kind == OutboxKind.COACHING_NOTE:
        note = session.get(CoachingNote, int(payload["note_id"]))
        if note is None or note.team_id != team_id:
            return None
        recipient, rep_id, note_id, context = note.manager_id, note.rep_id, note.id, "note"
    elif root.kind == OutboxKind.THANKS:
        recipient, rep_id, context = str(payload["manager"]), sender, "thanks"
    else:
        earlier = session.get(RelayedMessage, int(payload["reply_id"]))
        if earlier is None or earlier.team_id != team_id:
            return None
        recipient, rep_id, note_id, context = earlier.sender, earlier.rep_id, earlier.note_id, "reply"
    if sender != rep_id and not manages(session, team_id, sender, rep_id):
        return ReplyOutcome(ReplyResult.NOT_ALLOWED, rep_id)
    relayed_id = _queue(session, team_id, sender, recipient, rep_id, note_id, text, message_ts, now)
    if relayed_id is None:
        return ReplyOutcome(ReplyResult.DUPLICATE, recipient)
    queued = _enqueue(session, team_id, relayed_id, sender, recipient, rep_id, context, now)
    if sender != rep_id:
        touch_reps(session, team_id, [rep_id])  # a manager writing back counts for the guard, as a note does
    return ReplyOutcome(ReplyResult.RELAYED, recipient, queued)


def _note_on_answer(session: Session, team_id: str, manager: str, answer_id: int, text: str, message_ts: str,
                    now: dt.datetime) -> ReplyOutcome | None:
    """A manager's reply in the thread of an answer they were passed: a coaching note, as from the form."""
    answer = session.get(Answer, answer_id)
    if answer is None or answer.team_id != team_id:
        return None
    if not manages(session, team_id, manager, answer.rep_id):
        return ReplyOutcome(ReplyResult.NOT_ALLOWED, answer.rep_id)
    note = CoachingNote(team_id=team_id, answer_id=answer.id, manager_id=manager, rep_id=answer.rep_id,
                        kind="note", text=text, created_at=now)
    session.add(note)
    session.flush()
    touch_reps(session, team_id, [answer.rep_id])  # a manager's response counts for the guard
    queued = outbox.enqueue(session, team_id=team_id, kind=OutboxKind.COACHING_NOTE, recipient=answer.rep_id,
                            dedupe_key=f"note_thread:{manager}:{message_ts}", now=now,
                            payload={"note_id": note.id, "checkin_id": answer.checkin_id, "goal_id": answer.goal_id})
    return ReplyOutcome(ReplyResult.NOTE, answer.rep_id, queued, answer.id)


# ---- A DM after the check-in was answered ----------------------------------------------------------


def recent_answer(session: Session, team_id: str, rep_id: str, now: dt.datetime,
                  window: dt.timedelta = APPEND_WINDOW) -> Answer | None:
    """The answer to the rep's latest check-in, if that one is answered, within `window` of `now`."""
    latest = session.scalar(select(CheckIn).where(
        CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.sent_at.is_not(None))
        .order_by(CheckIn.sent_at.desc(), CheckIn.id.desc()).limit(1))
    if latest is None or latest.state != CheckInState.ANSWERED:
        return None
    answer = session.scalar(select(Answer).where(Answer.checkin_id == latest.id))
    if answer is None or window <= dt.timedelta(0) or answer.updated_at < now - window:
        return None
    return answer


def _append(session: Session, team_id: str, answer: Answer, text: str, message_ts: str, event_key: str,
            now: dt.datetime) -> LateOutcome:
    """Add the rep's later words after the answer (as a part their own edit or deletion changes), and
    refresh the managers' copies and digests that show it."""
    answer.text = f"{answer.text}\n\n{text}"
    answer.updated_at = now
    insert_ignore(session, AnswerPart, {"team_id": team_id, "answer_id": answer.id, "rep_id": answer.rep_id,
                                        "message_ts": message_ts, "created_at": now})
    refreshes = queue_refreshes(session, team_id, answer, event_key, now)
    return LateOutcome(LateResult.APPENDED, answer.id, answer.checkin_id, outbox_ids=refreshes)


def add_in_thread(session: Session, team_id: str, checkin: CheckIn, text: str, message_ts: str, event_key: str,
                  now: dt.datetime) -> LateOutcome | None:
    """A reply in the thread of a check-in already answered: added to its answer, never replacing it
    (the rep's first wording was theirs and may have been read already). None: no answer to add to.

    No time window: the rep chose this check-in's thread themselves. Re-wording goes through Slack's
    edit (`revise`) or the answer form's "Edit answer", which are explicit replacements.
    """
    answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id, Answer.team_id == team_id))
    if answer is None:
        return None
    text = _checked(text)
    if answer.message_ts == message_ts or session.scalar(select(AnswerPart.id).where(
            AnswerPart.team_id == team_id, AnswerPart.rep_id == answer.rep_id,
            AnswerPart.message_ts == message_ts)) is not None:
        return LateOutcome(LateResult.APPENDED, answer.id, answer.checkin_id)  # the same message again
    if len(answer.text) + 2 + len(text) > MAX_ANSWER_CHARS:
        raise CheckInError(f"Added to your answer, that would be {len(answer.text) + 2 + len(text)} characters; "
                           f"the limit is {MAX_ANSWER_CHARS}. Nothing was changed; please shorten it, or edit "
                           "your answer instead.")
    return _append(session, team_id, answer, text, message_ts, event_key, now)


def after_answering(session: Session, team_id: str, rep_id: str, text: str, message_ts: str, event_key: str,
                    now: dt.datetime, window: dt.timedelta = APPEND_WINDOW) -> LateOutcome:
    """A DM while no check-in is open: more of the answer given within `window`, else offered to the managers."""
    text = _checked(text)
    answer = recent_answer(session, team_id, rep_id, now, window)
    if answer is not None and len(answer.text) + 2 + len(text) <= MAX_ANSWER_CHARS:
        return _append(session, team_id, answer, text, message_ts, event_key, now)
    managers = managers_of_rep(session, team_id, rep_id)
    for manager in managers:
        _queue(session, team_id, rep_id, manager, rep_id, None, text, message_ts, now, status="offered")
    return LateOutcome(LateResult.OFFERED if managers else LateResult.NOWHERE, managers=managers, text=text)


def decide_offer(session: Session, team_id: str, rep_id: str, message_ts: str, send: bool,
                 now: dt.datetime) -> list[tuple[str, int]] | None:
    """The rep's choice on an offered DM: [(manager, outbox id)] queued, [] discarded, None if already decided."""
    offered = list(session.scalars(select(RelayedMessage).where(
        RelayedMessage.team_id == team_id, RelayedMessage.sender == rep_id,
        RelayedMessage.message_ts == message_ts, RelayedMessage.status == "offered")))
    if not offered:
        return None
    if not send:  # not wanted: the words are not kept either
        session.execute(delete(RelayedMessage).where(RelayedMessage.id.in_([r.id for r in offered])))
        return []
    queued: list[tuple[str, int]] = []
    managers = set(managers_of_rep(session, team_id, rep_id))
    for row in offered:
        if row.recipient not in managers:  # no longer their manager since the offer
            session.delete(row)
            continue
        row.status = "queued"
        found = _enqueue(session, team_id, row.id, rep_id, row.recipient, rep_id, "dm", now)
        if found is not None:
            queued.append((row.recipient, found))
    return queued


# ---- Edits and deletions in Slack of the DM that carried an answer -----------------------------------


@dataclass(frozen=True)
class Revision:
    answer_id: int | None  # None: the message was a reply passed on, not an answer
    deleted: bool  # the whole answer (or the reply) is gone, not only one part of it
    managers: list[str]  # whose copy follows (for a reply: the person it was passed on to)
    outbox_ids: list[int]
    offered: list[str] = field(default_factory=list)  # a DM only offered to these managers, not sent yet
    text: str | None = None  # a reply's words now (None: deleted)


def queue_refreshes(session: Session, team_id: str, answer: Answer, event_key: str, now: dt.datetime,
                    everyone: bool = False) -> list[int]:
    """Refresh each manager's posted copy of this answer (a relay not posted yet renders the new text itself).

    Only current managers' copies change with an edit; `everyone`: a deletion reaches ex-managers' too.
    """
    managers = set(managers_of_rep(session, team_id, answer.rep_id))
    rows: list[dict[str, object]] = []
    for relay in session.scalars(select(AnswerRelay).where(AnswerRelay.answer_id == answer.id)):
        if not (relay.channel and relay.message_ts) or not (everyone or relay.manager_id in managers):
            continue
        rows.append({"team_id": team_id, "kind": OutboxKind.RELAY_REFRESH, "recipient": relay.manager_id,
                     "dedupe_key": f"refresh:{relay.id}:{event_key}",
                     "payload": {"answer_id": answer.id, "checkin_id": answer.checkin_id, "rep": answer.rep_id,
                                 "channel": relay.channel, "ts": relay.message_ts}})
    rows += _digest_refreshes(session, team_id, answer, managers, event_key, everyone)
    return outbox.enqueue_many(session, rows, now)


def _digest_refreshes(session: Session, team_id: str, answer: Answer, managers: set[str], event_key: str,
                      everyone: bool) -> list[dict[str, object]]:
    """A digest already posted with this answer is rendered again from the database (the answer's words
    now, or without it once deleted), as a forget does it: one silent `retract` edit per digest and change.

    Only digests queued since the answer was given can hold it.
    """
    rows: list[dict[str, object]] = []
    for digest in session.scalars(select(OutboxMessage).where(
            OutboxMessage.team_id == team_id, OutboxMessage.kind == OutboxKind.TEAM_DIGEST,
            OutboxMessage.state == OutboxState.SENT, OutboxMessage.created_at >= answer.created_at)):
        if not (digest.channel and digest.ts) or not (everyone or digest.recipient in managers):
            continue
        if answer.id not in {int(i) for i in json.loads(digest.payload or "{}").get("answer_ids", [])}:
            continue
        rows.append({"team_id": team_id, "kind": OutboxKind.RETRACT, "recipient": digest.recipient,
                     "dedupe_key": f"refresh_digest:{digest.id}:{event_key}",
                     "payload": {"channel": digest.channel, "ts": digest.ts, "source": digest.id, "what": "digest"}})
    return rows


def revise(session: Session, team_id: str, rep_id: str, message_ts: str, before: str, after: str | None,
           event_key: str, now: dt.datetime) -> Revision | None:
    """Apply an edit (`after`) or a deletion (`after` None) of the rep's message to the answer it carried.

    Only that message's part changes: words the rep added later by DM stay. None if it carried no answer.
    """
    answer = session.scalar(select(Answer).where(Answer.team_id == team_id, Answer.rep_id == rep_id,
                                                 Answer.message_ts == message_ts).limit(1))
    part = None if answer is not None else session.scalar(select(AnswerPart).where(
        AnswerPart.team_id == team_id, AnswerPart.rep_id == rep_id, AnswerPart.message_ts == message_ts))
    if part is not None:
        answer = session.get(Answer, part.answer_id)
    if answer is None:
        return None
    before = before.strip()
    found = bool(before) and before in answer.text
    if after is not None:
        after = after.strip()
        text = answer.text.replace(before, after, 1) if found else after
        if not text.strip():
            after = None  # edited down to nothing: the same as deleting it
        else:
            answer.text = _checked(text)
            answer.updated_at = now
            managers = managers_of_rep(session, team_id, rep_id)
            return Revision(answer.id, False, managers, queue_refreshes(session, team_id, answer, event_key, now))
    rest = answer.text.replace(before, "", 1).strip() if found else ""
    if rest:  # the deleted message was one part of the answer; the rest stays
        answer.text, answer.updated_at = rest, now
        if part is not None:
            session.delete(part)
        else:
            answer.message_ts = None
        managers = managers_of_rep(session, team_id, rep_id)
        return Revision(answer.id, False, managers, queue_refreshes(session, team_id, answer, event_key, now))
    copies = queue_refreshes(session, team_id, answer, event_key, now, everyone=True)
    managers = list(session.scalars(select(AnswerRelay.manager_id).where(AnswerRelay.answer_id == answer.id)))
    session.execute(update(CoachingNote).where(CoachingNote.answer_id == answer.id).values(answer_id=None)
                    .execution_options(synchronize_session=False))
    session.execute(delete(Answer).where(Answer.id == answer.id))
    touch_reps(session, team_id, [rep_id])
    return Revision(answer.id, True, managers, copies)


def revise_reply(session: Session, team_id: str, sender: str, message_ts: str, after: str | None,
                 event_key: str, now: dt.datetime) -> Revision | None:
    """An edit or deletion of a reply passed on (or offered): the stored words follow, and so does the
    copy already posted (a copy still waiting renders the new words, or is not sent at all)."""
    rows = list(session.scalars(select(RelayedMessage).where(
        RelayedMessage.team_id == team_id, RelayedMessage.sender == sender, RelayedMessage.message_ts == message_ts,
        RelayedMessage.status.in_(("queued", "offered")))))
    if not rows:
        return None
    text = None if after is None or not after.strip() else _checked(after)
    shown = [r.recipient for r in rows if r.status == "queued"]  # an offered one was never seen
    offered = [r.recipient for r in rows if r.status == "offered"]
    refreshes: list[dict[str, object]] = []
    for row in rows:
        if text is None:  # kept as a row so the thread still leads somewhere, without the words
            row.status, row.text = "deleted", ""
        else:
            row.text = text
        posted = session.execute(select(OutboxMessage.channel, OutboxMessage.ts, OutboxMessage.payload).where(
            OutboxMessage.team_id == team_id, OutboxMessage.dedupe_key == f"note_reply:{row.id}",
            OutboxMessage.state == OutboxState.SENT)).one_or_none()
        if posted is not None and posted.channel and posted.ts:
            refreshes.append({"team_id": team_id, "kind": OutboxKind.RELAY_REFRESH, "recipient": row.recipient,
                              "dedupe_key": f"refresh_reply:{row.id}:{event_key}",
                              "payload": {**json.loads(posted.payload or "{}"), "reply_id": row.id,
                                          "channel": posted.channel, "ts": posted.ts}})
    ids = outbox.enqueue_many(session, refreshes, now)
    if text is None and any(row.rep_id != sender for row in rows):
        touch_reps(session, team_id, [rows[0].rep_id])  # a manager's reply taken back no longer counts
    return Revision(None, text is None, shown, ids, offered, text)
