"""The drift history of each manager-rep pair, built from the database for `coaching.drift`.

Touches are the scheduled check-ins a rep was sent plus the manager's own sent questions; the rep's
own `/checkin now` never counts as pressure (it does count as contact). Answers, acknowledgements
(a thanks, a note, or a reply written back to the rep) and outcomes come from the same check-ins.
Everything is read in a few queries for a whole set of reps, then grouped in memory, so a dispatch
pass stays cheap for big teams.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass, replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from coaching.drift import AnswerRecord, HelpRecord, PairHistory, RepOutcome, Touch
from coaching.drift import ManagerQuestion as DriftQuestion
from coaching.tone import PRESSURE_LABELS, confident_pressure
from core.config import AdminConfig
from storage import leave
from storage.guard import TOUCH_KINDS
from storage.models import (
    Answer,
    CheckIn,
    CoachingNote,
    Goal,
    HelpRequest,
    HelpState,
    ManagerQuestion,
    Membership,
    RelayedMessage,
    Team,
    User,
)
from storage.schedules import schedules_for

# The 28-day look-back plus one 7-day frequency window before it.
HISTORY_DAYS = 35
_WORD = re.compile(r"[^\W_]+")
_ALL_GOALS = re.compile(r"\b(?:all|every|each)\s+(?:of\s+)?(?:your\s+|the\s+)?goals?\b")
# Words too common to tie a question to one goal.
_COMMON = frozenset("""
about after again also back been before being could does doing done from going have help here into
just know last like make more much need next over really should some still than that their them then
there these they thing things this those today update week what when where which while will with work
working would your goal goals progress status team plan
""".split())


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.casefold()) if len(w) >= 4 and w not in _COMMON}


def goals_in(text: str, goals: list[tuple[int, str]]) -> tuple[int, ...]:
    """The active goals a question is about: one sharing a distinctive word, or all for "all your goals".

    Coverage asks whether the manager inspects every goal every time; a question naming each goal
    (or "all your goals") does, a question about one deal does not.
    """
    if _ALL_GOALS.search(text.casefold()):
        return tuple(goal_id for goal_id, _ in goals)
    words = _words(text)
    return tuple(goal_id for goal_id, goal in goals if _words(goal) & words)


def _utc(value: dt.datetime) -> dt.datetime:
    # Aggregates (max/min) can come back naive from SQLite; every stored value is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _outcome(checkin: CheckIn, answer: Answer | None) -> RepOutcome | None:
    """How a sent check-in ended for the rep, if it has."""
    sent = checkin.sent_at
    if sent is None:
        return None
    if answer is not None:
        return RepOutcome(at=answer.created_at, kind="answered",
                          latency=max(dt.timedelta(0), answer.created_at - sent))
    if checkin.state in ("skipped", "expired"):
        return RepOutcome(at=checkin.closed_at or sent, kind=checkin.state, latency=None)  # type: ignore[arg-type]
    if checkin.state == "scheduled" and checkin.snooze_count:
        return RepOutcome(at=sent, kind="snoozed", latency=None)
    return None


def _replied_to(session: Session, team_id: str, reps: list[str], answers: list[Answer], since: dt.datetime,
                now: dt.datetime) -> set[int]:
    """Answers a manager responded to by writing back to the rep (a reply passed on, `note_reply`): each
    such reply acknowledges the rep's latest answer given before it, as a coaching note on it would.

    A deleted reply (status "deleted") or an offered late DM (the rep's own words) counts for nothing.
    """
    by_rep: dict[str, list[Answer]] = defaultdict(list)
    for answer in sorted(answers, key=lambda a: _utc(a.created_at)):
        by_rep[answer.rep_id].append(answer)
    found: set[int] = set()
    for rep, at in session.execute(select(RelayedMessage.recipient, RelayedMessage.created_at).where(
            RelayedMessage.team_id == team_id, RelayedMessage.recipient.in_(reps),
            RelayedMessage.rep_id == RelayedMessage.recipient, RelayedMessage.sender != RelayedMessage.recipient,
            RelayedMessage.status == "queued", RelayedMessage.created_at > since, RelayedMessage.created_at <= now)):
        before = [a for a in by_rep.get(rep, []) if _utc(a.created_at) <= _utc(at)]
        if before:
            found.add(before[-1].id)
    return found


@dataclass
class _Loaded:
    """Everything read for a set of reps, grouped by rep, so each pair's history is built in memory."""

    users: dict[str, User]
    checkins: dict[str, list[CheckIn]]
    answers: dict[int, Answer]
    acknowledged: set[int]
    questions: dict[str, list[ManagerQuestion]]
    owner: dict[tuple[str, str], str]
    goals: dict[str, list[tuple[int, str]]]
    last_sent: dict[str, dt.datetime]
    starts: dict[tuple[str, str], dt.datetime]
    helps: dict[str, list[HelpRequest]]


def _load(session: Session, team_id: str, reps: list[str], since: dt.datetime, now: dt.datetime) -> _Loaded:
    users = {u.slack_id: u for u in session.scalars(
        select(User).where(User.team_id == team_id, User.slack_id.in_(reps)))}
    checkins: dict[str, list[CheckIn]] = defaultdict(list)
    for checkin in session.scalars(
            select(CheckIn).where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(reps),
                                  CheckIn.kind.in_(TOUCH_KINDS), CheckIn.sent_at > since, CheckIn.sent_at <= now)
            .order_by(CheckIn.sent_at)):
        checkins[checkin.rep_id].append(checkin)
    ids = [c.id for rows in checkins.values() for c in rows]
    answers = {a.checkin_id: a for a in session.scalars(select(Answer).where(Answer.checkin_id.in_(ids)))}
    acknowledged = {answer_id for answer_id in session.scalars(
        select(CoachingNote.answer_id).where(CoachingNote.answer_id.in_([a.id for a in answers.values()])))
        if answer_id is not None}
    acknowledged |= _replied_to(session, team_id, reps, list(answers.values()), since, now)
    questions: dict[str, list[ManagerQuestion]] = defaultdict(list)
    for question in session.scalars(
            select(ManagerQuestion).where(ManagerQuestion.team_id == team_id, ManagerQuestion.rep_id.in_(reps),
                                          ManagerQuestion.status == "sent", ManagerQuestion.sent_at > since,
                                          ManagerQuestion.sent_at <= now)):
        questions[question.rep_id].append(question)
    # A sent question and its check-in share the DM's ts: that is how an answer finds its asker.
    owner = {(q.rep_id, q.message_ts): q.manager_id for rows in questions.values() for q in rows if q.message_ts}
    goals: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for goal in session.scalars(select(Goal).where(Goal.team_id == team_id, Goal.rep_id.in_(reps),
                                                   Goal.archived_at.is_(None)).order_by(Goal.position, Goal.id)):
        goals[goal.rep_id].append((goal.id, goal.text))
    # Any check-in counts as contact, the rep's own `/checkin now` included: it is a conversation
    # about their goals, just not manager pressure.
    last_sent = {rep: _utc(at) for rep, at in session.execute(
        select(CheckIn.rep_id, func.max(CheckIn.sent_at))
        .where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(reps), CheckIn.sent_at <= now)
        .group_by(CheckIn.rep_id)) if at is not None}
    starts = {(manager, rep): _utc(at) for manager, rep, at in session.execute(
        select(Team.manager_id, Membership.rep_id, func.min(Membership.created_at))
        .join(Membership, Membership.team_pk == Team.id)
        .where(Team.team_id == team_id, Membership.rep_id.in_(reps), Membership.status == "active")
        .group_by(Team.manager_id, Membership.rep_id)) if at is not None}
    # Requests for help the rep didn't withdraw: answered (resolved) counts as a response.
    helps: dict[str, list[HelpRequest]] = defaultdict(list)
    for request in session.scalars(select(HelpRequest).where(
            HelpRequest.team_id == team_id, HelpRequest.rep_id.in_(reps), HelpRequest.created_at > since,
            HelpRequest.created_at <= now, HelpRequest.state != HelpState.WITHDRAWN)):
        helps[request.rep_id].append(request)
    return _Loaded(users, checkins, answers, acknowledged, questions, owner, goals, last_sent, starts, helps)


def pair_histories(session: Session, config: AdminConfig, team_id: str, pairs: list[tuple[str, str]],
                   now: dt.datetime, days: int = HISTORY_DAYS) -> dict[tuple[str, str], PairHistory]:
    """The drift history of each (manager, rep) pair, from the database, as of `now`.

    Touches are the scheduled check-ins the rep was sent plus this manager's own sent questions;
    the rep's own `/checkin now` never counts. Answers and outcomes cover the same check-ins.
    """
    reps = sorted({rep for _, rep in pairs})
    if not reps:
        return {}
    data = _load(session, team_id, reps, now - dt.timedelta(days=days), now)
    # A rep the bot has not seen yet follows the config's cadence; a transient row says so.
    people = [data.users.get(rep) or User(team_id=team_id, slack_id=rep, role="rep", created_at=now,
                                          prompt_sequence=0) for rep in reps]
    schedules = schedules_for(session, config, people)
    agreed = {rep: schedule.touches_per_week for rep, schedule in schedules.items()}
    # Leave within the history's reach and ahead, as UTC intervals on the rep's own calendar.
    away = {rep: tuple(r.utc_interval(schedules[rep].zone) for r in ranges) for rep, ranges in
            leave.ranges_of(session, team_id, reps, (now - dt.timedelta(days=days + 1)).date()).items()}
    threshold = config.guard.tone_hold_confidence
    return {(manager, rep): replace(_history(data, manager, rep, data.users.get(rep), agreed[rep], threshold),
                                    leave=away.get(rep, ()))
            for manager, rep in pairs}


def _history(data: _Loaded, manager: str, rep: str, user: User | None, agreed: float,
             tone_threshold: float) -> PairHistory:
    goals = data.goals.get(rep, [])
    mine = [c for c in data.checkins.get(rep, [])
            if c.kind == "scheduled" or data.owner.get((rep, c.message_ts or "")) == manager]
    touches = [Touch(at=c.sent_at, kind="scheduled", goal_ids=(c.goal_id,) if c.goal_id else ())
               for c in mine if c.kind == "scheduled" and c.sent_at is not None]
    questions: list[DriftQuestion] = []
    for q in data.questions.get(rep, []):
        if q.manager_id != manager or q.sent_at is None:
            continue
        sent_text = q.suggestion if q.used_suggestion and q.suggestion else q.text
        touches.append(Touch(at=q.sent_at, kind="adhoc", goal_ids=goals_in(sent_text, goals)))
        # The rep received the coaching rewrite, so that is the tone they experienced; a pressure
        # reading below the hold threshold was only a hint, so it does not count against the manager.
        as_coaching = q.used_suggestion or (q.label in PRESSURE_LABELS
                                        and not confident_pressure(q.label, q.tone_confidence, tone_threshold))
        questions.append(DriftQuestion(at=q.sent_at, label="coaching" if as_coaching else q.label))
    answers: list[AnswerRecord] = []
    outcomes: list[RepOutcome] = []
    for checkin in mine:
        if checkin.sent_at is None:
            continue
        answer = data.answers.get(checkin.id)
        answers.append(AnswerRecord(asked_at=checkin.sent_at, answered_at=answer.created_at if answer else None,
                                    acknowledged=answer is not None and answer.id in data.acknowledged))
        outcome = _outcome(checkin, answer)
        if outcome is not None:
            outcomes.append(outcome)
    # With no check-in yet, the gap runs from when the pair (or the rep) first appeared.
    known = [at for at in (data.starts.get((manager, rep)), user.created_at if user else None) if at]
    contact = [at for at in (data.last_sent.get(rep), min(known) if known else None) if at]
    return PairHistory(manager=manager, rep=rep, agreed_touches_per_week=agreed, touches=tuple(touches),
                       questions=tuple(questions), answers=tuple(answers), outcomes=tuple(outcomes),
                       active_goal_count=len(goals), paused_until=user.paused_until if user else None,
                       last_contact_at=max(contact) if contact else None,
                       help_requests=tuple(HelpRecord(asked_at=_utc(h.created_at), answered=h.state == HelpState.RESOLVED)
                                           for h in data.helps.get(rep, [])))
