"""A person's own data: export everything about them, and let a rep delete their answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from storage import leave
from storage.changes import touch_reps
from storage.models import (
    Answer,
    AnswerRelay,
    CadenceAgreement,
    CheckIn,
    CoachingNote,
    Goal,
    ManagerQuestion,
    Membership,
    Team,
    User,
)

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


def forget_answers(session: Session, team_id: str, rep_id: str) -> tuple[int, list[tuple[str, str]]]:
    """Delete all of a rep's answers. Returns how many, and the managers' copies (channel, ts) to retract.

    Check-ins stay (they record what the bot sent, not what the rep said); notes lose their link.
    """
    ids = list(session.scalars(select(Answer.id).where(Answer.team_id == team_id, Answer.rep_id == rep_id)))
    if not ids:
        return 0, []
    copies = [(c, t) for c, t in session.execute(
        select(AnswerRelay.channel, AnswerRelay.message_ts).where(AnswerRelay.answer_id.in_(ids)))
        if c and t]
    session.execute(delete(AnswerRelay).where(AnswerRelay.answer_id.in_(ids)))
    session.execute(delete(Answer).where(Answer.id.in_(ids)))
    touch_reps(session, team_id, [rep_id])
    return len(ids), copies
