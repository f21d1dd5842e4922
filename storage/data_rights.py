"""A person's own data: export everything about them, and let a rep delete what they wrote."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from storage import leave
from storage.changes import touch_reps
from storage.models import (
    Answer,
    AnswerPart,
    AnswerRelay,
    CadenceAgreement,
    CheckIn,
    CoachingNote,
    Goal,
    HelpRequest,
    ManagerQuestion,
    Membership,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    RelayedMessage,
    Team,
    User,
)
from storage.outbox import Claimed, enqueue
from storage.people import managers_of_rep

EXPORT_VERSION = 1


def _when(value: dt.datetime | dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def export_data(session: Session, team_id: str, user_id: str, now: dt.datetime) -> dict[str, Any]:
    """Everything stored about `user_id` as a rep, and what they wrote as a manager. Nobody else's answers."""
    user = session.scalar(select(User).where(User.team_id == team_id, User.slack_id == user_id))
    goals = session.scalars(select(Goal).where(Goal.team_id == team_id, Goal.rep_id == user_id).order_by(Goal.id))
    checkins = session.scalars(select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.rep_id == user_id)
                               .order_by(CheckIn.due_at, CheckIn.id))
    answers = session.scalars(select(Answer).where(Answer.team_id == team_id, Answer.rep_id == user_id)
                              .order_by(Answer.created_at, Answer.id))
    received = session.scalars(select(CoachingNote).where(CoachingNote.team_id == team_id,
                                                          CoachingNote.rep_id == user_id).order_by(CoachingNote.id))
    written = session.scalars(select(CoachingNote).where(CoachingNote.team_id == team_id,
                                                         CoachingNote.manager_id == user_id).order_by(CoachingNote.id))
    asked = session.scalars(select(ManagerQuestion).where(ManagerQuestion.team_id == team_id,
                                                          ManagerQuestion.manager_id == user_id)
                            .order_by(ManagerQuestion.id))
    questions_to_me = session.scalars(select(ManagerQuestion).where(
        ManagerQuestion.team_id == team_id, ManagerQuestion.rep_id == user_id, ManagerQuestion.status == "sent")
        .order_by(ManagerQuestion.id))
    agreements = session.scalars(select(CadenceAgreement).where(
        CadenceAgreement.team_id == team_id,
        (CadenceAgreement.rep_id == user_id) | (CadenceAgreement.manager_id == user_id)).order_by(CadenceAgreement.id))
    # Replies and notes passed on between a rep and a manager: what they wrote, and what reached them.
    relayed = list(session.scalars(select(RelayedMessage).where(
        RelayedMessage.team_id == team_id, RelayedMessage.status != "deleted",
        (RelayedMessage.sender == user_id) | ((RelayedMessage.recipient == user_id)
                                              & (RelayedMessage.status == "queued")))
        .order_by(RelayedMessage.id)))
    memberships = session.execute(select(Team.name, Team.manager_id, Membership.status)
                                  .join(Membership, Membership.team_pk == Team.id)
                                  .where(Team.team_id == team_id, Membership.rep_id == user_id))
    managed = session.execute(select(Team.name, Membership.rep_id, Membership.status)
                              .join(Membership, Membership.team_pk == Team.id)
                              .where(Team.team_id == team_id, Team.manager_id == user_id))
    return {
        "export_version": EXPORT_VERSION,
        "exported_at": now.isoformat(),
        "workspace": team_id,
        "user": {
            "slack_id": user_id,
            "display_name": user.display_name if user else None,
            "time_zone": user.tz if user else None,
            "paused_until": _when(user.paused_until) if user else None,
            "created_at": _when(user.created_at) if user else None,
        },
        "leave": [{"first_day": r.first.isoformat(), "last_day": r.last.isoformat()}
                  for r in leave.ranges_of(session, team_id, [user_id], dt.date.min).get(user_id, [])],
        "goals": [{"id": g.id, "text": g.text, "position": g.position, "created_at": _when(g.created_at),
                   "archived_at": _when(g.archived_at), "last_discussed_at": _when(g.last_discussed_at)}
                  for g in goals],
        "checkins": [{"id": c.id, "kind": c.kind, "state": c.state, "due_at": _when(c.due_at),
                      "sent_at": _when(c.sent_at), "closed_at": _when(c.closed_at), "goal_id": c.goal_id,
                      "question_template": c.prompt} for c in checkins],
        "answers": [{"id": a.id, "checkin_id": a.checkin_id, "goal_id": a.goal_id, "text": a.text,
                     "confidence": a.confidence, "help_wanted": a.help_wanted, "source": a.source,
                     "created_at": _when(a.created_at), "updated_at": _when(a.updated_at)} for a in answers],
        "notes_received": [{"from": n.manager_id, "kind": n.kind, "text": n.text, "answer_id": n.answer_id,
                            "created_at": _when(n.created_at)} for n in received],
        "notes_written": [{"to": n.rep_id, "kind": n.kind, "text": n.text, "answer_id": n.answer_id,
                           "created_at": _when(n.created_at)} for n in written],
        "replies_written": [{"to": r.recipient, "text": r.text, "status": r.status, "created_at": _when(r.created_at)}
                            for r in relayed if r.sender == user_id],
        "replies_received": [{"from": r.sender, "text": r.text, "created_at": _when(r.created_at)}
                             for r in relayed if r.recipient == user_id and r.sender != user_id],
        "questions_received": [{"from": q.manager_id, "text": q.text, "sent_at": _when(q.sent_at)}
                               for q in questions_to_me],
        "questions_asked": [{"to": q.rep_id, "text": q.text, "status": q.status, "created_at": _when(q.created_at),
                             "sent_at": _when(q.sent_at)} for q in asked],
        "cadence_agreements": [{"rep": a.rep_id, "manager": a.manager_id, "every": a.every, "day": a.day,
                                "time": a.time, "status": a.status, "created_at": _when(a.created_at),
                                "decided_at": _when(a.decided_at)} for a in agreements],
        "teams": [{"team": name, "manager": manager, "status": status} for name, manager, status in memberships],
        "team_members": [{"team": name, "rep": rep, "status": status} for name, rep, status in managed],
    }


def count_answers(session: Session, team_id: str, rep_id: str) -> int:
    return session.scalar(select(func.count()).select_from(Answer)
                          .where(Answer.team_id == team_id, Answer.rep_id == rep_id)) or 0


@dataclass(frozen=True)
class Stored:
    """What `forget` would delete: the rep's answers, goals, and the notes and thanks they received."""

    answers: int
    goals: int
    notes: int

    @property
    def empty(self) -> bool:
        return not (self.answers or self.goals or self.notes)


def stored_of(session: Session, team_id: str, rep_id: str) -> Stored:
    def count(model: type[Answer] | type[Goal] | type[CoachingNote]) -> int:
        return session.scalar(select(func.count()).select_from(model)
                              .where(model.team_id == team_id, model.rep_id == rep_id)) or 0
    return Stored(count(Answer), count(Goal), count(CoachingNote))


@dataclass(frozen=True)
class Copy:
    """A message the bot posted that shows the rep's words: to be edited (RETRACT) until it doesn't.

    `what` is "relay", "digest" or "page"; `source` the outbox row that posted it, if known."""

    recipient: str
    channel: str
    ts: str
    what: str
    source: int | None


@dataclass(frozen=True)
class Forgotten:
    deleted: Stored
    copies: list[Copy]
    managers: list[str]  # whose Home showed the rep's answers


def forget_rep(session: Session, team_id: str, rep_id: str, page_block_id: str,
               page_replacement: dict[str, Any]) -> Forgotten:
    """Delete a rep's answers, goals and the notes they received, and find every posted copy of
    their answers (relays, digests, summary pages). Check-ins stay, as a record of what the bot sent.

    Summary pages hold their rendered blocks in the outbox: the rep's row (block `page_block_id`) is
    replaced by `page_replacement` there now, so no stored row keeps their words.
    """
    # A help request holds the rep's own words too (what they were blocked on): it goes with them.
    session.execute(delete(HelpRequest).where(HelpRequest.team_id == team_id, HelpRequest.rep_id == rep_id))
    stored = stored_of(session, team_id, rep_id)
    ids = set(session.scalars(select(Answer.id).where(Answer.team_id == team_id, Answer.rep_id == rep_id)))
    copies: dict[tuple[str, str], Copy] = {}
    if ids:
        for manager, channel, ts in session.execute(
                select(AnswerRelay.manager_id, AnswerRelay.channel, AnswerRelay.message_ts)
                .where(AnswerRelay.answer_id.in_(ids))):
            if channel and ts:
                copies[(channel, ts)] = Copy(manager, channel, ts, "relay", None)
    first = session.scalar(select(func.min(Answer.created_at)).where(Answer.id.in_(ids))) if ids else None
    # Only what was queued since the rep's first answer can show it.
    posted = list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.team_id == team_id, OutboxMessage.created_at >= first,
        OutboxMessage.kind.in_([OutboxKind.ANSWER_RELAY, OutboxKind.TEAM_DIGEST, OutboxKind.SUMMARY_PAGE])))
    ) if first is not None else []
    # The rep's replies in a note's thread, passed on to a manager, carry their words too.
    posted += list(session.scalars(select(OutboxMessage).where(
        OutboxMessage.team_id == team_id, OutboxMessage.kind == OutboxKind.NOTE_REPLY,
        OutboxMessage.recipient != rep_id, OutboxMessage.state == OutboxState.SENT)))
    for row in posted:
        payload = json.loads(row.payload or "{}")
        shown = bool(row.state == OutboxState.SENT and row.channel and row.ts)
        if row.kind == OutboxKind.ANSWER_RELAY and int(payload.get("answer_id", 0)) in ids and shown:
            copies[(str(row.channel), str(row.ts))] = Copy(row.recipient, str(row.channel), str(row.ts), "relay",
                                                           row.id)
        elif row.kind == OutboxKind.TEAM_DIGEST and ids & {int(i) for i in payload.get("answer_ids", [])} and shown:
            copies[(str(row.channel), str(row.ts))] = Copy(row.recipient, str(row.channel), str(row.ts), "digest",
                                                           row.id)
        elif row.kind == OutboxKind.NOTE_REPLY and payload.get("rep") == rep_id and shown:
            copies[(str(row.channel), str(row.ts))] = Copy(row.recipient, str(row.channel), str(row.ts), "reply",
                                                           row.id)
        elif row.kind == OutboxKind.SUMMARY_PAGE:
            blocks = payload.get("message", {}).get("blocks") or []
            kept = [page_replacement if b.get("block_id") == page_block_id else b for b in blocks]
            if kept != blocks:
                payload["message"]["blocks"] = kept
                row.payload = json.dumps(payload, separators=(",", ":"), sort_keys=True)
                if shown:
                    copies[(str(row.channel), str(row.ts))] = Copy(row.recipient, str(row.channel), str(row.ts),
                                                                   "page", row.id)
    managers = set(managers_of_rep(session, team_id, rep_id)) | {c.recipient for c in copies.values()}
    goals = list(session.scalars(select(Goal.id).where(Goal.team_id == team_id, Goal.rep_id == rep_id)))
    if ids:
        session.execute(delete(AnswerRelay).where(AnswerRelay.answer_id.in_(ids)))
        session.execute(update(CoachingNote).where(CoachingNote.answer_id.in_(ids)).values(answer_id=None)
                        .execution_options(synchronize_session=False))
        session.execute(delete(Answer).where(Answer.id.in_(ids)))
    if ids:  # not left to ON DELETE CASCADE, for SQLite's sake
        session.execute(delete(AnswerPart).where(AnswerPart.answer_id.in_(ids)))
    session.execute(delete(RelayedMessage).where(RelayedMessage.team_id == team_id, RelayedMessage.rep_id == rep_id))
    session.execute(delete(CoachingNote).where(CoachingNote.team_id == team_id, CoachingNote.rep_id == rep_id))
    if goals:
        # Not left to ON DELETE SET NULL: SQLite enforces foreign keys only when asked to.
        session.execute(update(CheckIn).where(CheckIn.goal_id.in_(goals)).values(goal_id=None)
                        .execution_options(synchronize_session=False))
        session.execute(delete(Goal).where(Goal.id.in_(goals)))
    touch_reps(session, team_id, [rep_id])
    return Forgotten(stored, sorted(copies.values(), key=lambda c: (c.recipient, c.ts)), sorted(managers))


def retract_late_copies(session: Session, team_id: str, sent: Sequence[tuple[Claimed, str | None, str | None]],
                        now: dt.datetime) -> None:
    """A relay, digest or summary page rendered before its rep forgot, and posted after: the forget
    found no copy to edit yet (the row was claimed, not sent), so its retraction is queued here."""
    pages = {row.id: (row, channel, ts) for row, channel, ts in sent
             if channel and ts and row.kind is OutboxKind.SUMMARY_PAGE}
    if pages:  # a page scrubbed since it was claimed went out as it was before
        for outbox_id, payload in session.execute(select(OutboxMessage.id, OutboxMessage.payload)
                                                  .where(OutboxMessage.id.in_(list(pages)))):
            page, at, page_ts = pages[outbox_id]
            if json.loads(payload or "{}") != page.payload:
                enqueue(session, team_id=team_id, kind=OutboxKind.RETRACT, recipient=page.recipient,
                        dedupe_key=f"retract:late:{page.id}", now=now,
                        payload={"channel": at, "ts": page_ts, "source": page.id, "what": "page"})
    shown = {row.id: [int(row.payload["answer_id"])] if row.kind is OutboxKind.ANSWER_RELAY
             else [int(i) for i in row.payload["answer_ids"]]
             for row, channel, ts in sent
             if channel and ts and row.kind in (OutboxKind.ANSWER_RELAY, OutboxKind.TEAM_DIGEST)}
    if not shown:
        return
    wanted = {i for ids in shown.values() for i in ids}
    kept = set(session.scalars(select(Answer.id).where(Answer.id.in_(wanted))))
    for row, channel, ts in sent:
        if row.id in shown and set(shown[row.id]) - kept:
            enqueue(session, team_id=team_id, kind=OutboxKind.RETRACT, recipient=row.recipient,
                    dedupe_key=f"retract:late:{row.id}", now=now,
                    payload={"channel": channel, "ts": ts, "source": row.id,
                             "what": "relay" if row.kind is OutboxKind.ANSWER_RELAY else "digest"})

