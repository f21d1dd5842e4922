"""Queries behind team summaries, the manager's Home section and admin aggregates.

Every per-team query filters by `team_id` and the rep ids (or answer ids) first, so it walks the
(team_id, rep_id, time) indexes rather than the tables: a summary costs the same whether the
database holds one team or a whole year of fifty workspaces.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from coaching.summary import AnswerFact, CheckinFact, HelpFact, OrgAggregates, RepFacts, org_aggregates
from coaching.summary_csv import CheckinRow
from core.config import AdminConfig
from storage import leave
from storage.conversation import open_requests
from storage.models import Answer, CheckIn, CoachingNote, Goal, ManagerQuestion, Team, User
from storage.schedules import enrolled_query, schedules_for

# A check-in sent inside the period may have been due a little before it (late claim, snooze).
DUE_SLACK = dt.timedelta(days=2)


def names_of(session: Session, team_id: str, user_ids: Sequence[str]) -> dict[str, str]:
    """Display names where known, else the Slack ID (shown as plain text, never as a mention)."""
    names = {u: u for u in user_ids}
    if user_ids:
        rows = session.execute(select(User.slack_id, User.display_name)
                               .where(User.team_id == team_id, User.slack_id.in_(list(user_ids))))
        names.update({sid: name for sid, name in rows if name})
    return names


def _checkins(session: Session, team_id: str, rep_ids: Sequence[str], since: dt.datetime) -> list[CheckinFact]:
    rows = session.execute(
        select(CheckIn.rep_id, CheckIn.kind, CheckIn.state, CheckIn.due_at, CheckIn.sent_at, CheckIn.closed_at)
        .where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(list(rep_ids)), CheckIn.due_at >= since - DUE_SLACK))
    return [CheckinFact(*row) for row in rows]


def _answers(session: Session, team_id: str, manager_id: str, rep_ids: Sequence[str],
             since: dt.datetime) -> list[AnswerFact]:
    rows = list(session.scalars(
        select(Answer).where(Answer.team_id == team_id, Answer.rep_id.in_(list(rep_ids)),
                             Answer.created_at >= since)))
    if not rows:
        return []
    goal_ids = {a.goal_id for a in rows if a.goal_id is not None}
    goals = dict(session.execute(select(Goal.id, Goal.text).where(Goal.id.in_(goal_ids))).all()) \
        if goal_ids else {}
    notes: dict[int, set[tuple[str, str]]] = defaultdict(set)
    for answer_id, author, kind in session.execute(
            select(CoachingNote.answer_id, CoachingNote.manager_id, CoachingNote.kind)
            .where(CoachingNote.answer_id.in_([a.id for a in rows]))):
        if answer_id is not None:
            notes[answer_id].add((author, kind))
    return [AnswerFact(
        id=a.id, rep_id=a.rep_id, checkin_id=a.checkin_id, goal_id=a.goal_id,
        goal_text=goals.get(a.goal_id) if a.goal_id is not None else None, text=a.text,
        confidence=a.confidence, help_wanted=a.help_wanted, created_at=a.created_at,
        thanked_by_manager=(manager_id, "thanks") in notes[a.id],
        noted_by_manager=(manager_id, "note") in notes[a.id],
        noted_by_anyone=any(kind == "note" for _, kind in notes[a.id]),
    ) for a in rows]


def _questions(session: Session, team_id: str, manager_id: str, rep_ids: Sequence[str],
               since: dt.datetime) -> dict[str, list[dt.datetime]]:
    out: dict[str, list[dt.datetime]] = defaultdict(list)
    rows = session.execute(
        select(ManagerQuestion.rep_id, ManagerQuestion.sent_at)
        .where(ManagerQuestion.team_id == team_id, ManagerQuestion.manager_id == manager_id,
               ManagerQuestion.rep_id.in_(list(rep_ids)), ManagerQuestion.created_at >= since - DUE_SLACK,
               ManagerQuestion.status == "sent"))
    for rep_id, sent_at in rows:
        if sent_at is not None and sent_at >= since:
            out[rep_id].append(sent_at)
    return out


def _notes_by(session: Session, team_id: str, manager_id: str, rep_ids: Sequence[str],
              since: dt.datetime) -> dict[str, dt.datetime]:
    rows = session.execute(
        select(CoachingNote.rep_id, func.max(CoachingNote.created_at))
        .where(CoachingNote.team_id == team_id, CoachingNote.manager_id == manager_id,
               CoachingNote.rep_id.in_(list(rep_ids)), CoachingNote.created_at >= since)
        .group_by(CoachingNote.rep_id))
    return {rep: when for rep, when in rows if when is not None}


def _help(session: Session, team_id: str, rep_ids: Sequence[str]) -> dict[str, list[HelpFact]]:
    """Each rep's open help requests, whenever asked (open until answered or resolved)."""
    requests = open_requests(session, team_id, rep_ids)
    if not requests:
        return {}
    goal_ids = {r.goal_id for r in requests if r.goal_id is not None}
    goals = dict(session.execute(select(Goal.id, Goal.text).where(Goal.id.in_(goal_ids))).all()) if goal_ids else {}
    answers = {checkin: (answer_id, text) for checkin, answer_id, text in session.execute(
        select(Answer.checkin_id, Answer.id, Answer.text).where(Answer.checkin_id.in_([r.checkin_id for r in requests])))}
    out: dict[str, list[HelpFact]] = defaultdict(list)
    for r in requests:
        answer_id, text = answers.get(r.checkin_id, (None, None))
        out[r.rep_id].append(HelpFact(id=r.id, rep_id=r.rep_id, checkin_id=r.checkin_id,
                                      goal_text=goals.get(r.goal_id) if r.goal_id is not None else None,
                                      detail=r.detail, created_at=r.created_at, answer_id=answer_id,
                                      answer_text=text))
    return out


def _last_sent_before(session: Session, team_id: str, rep_ids: Sequence[str]) -> dict[str, dt.datetime]:
    """Last check-in ever sent, for reps with no contact in the period (rare, so queried apart)."""
    if not rep_ids:
        return {}
    rows = session.execute(
        select(CheckIn.rep_id, func.max(CheckIn.sent_at))
        .where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(list(rep_ids)), CheckIn.sent_at.is_not(None))
        .group_by(CheckIn.rep_id))
    return {rep: when for rep, when in rows if when is not None}


def rep_facts(session: Session, config: AdminConfig, team_id: str, manager_id: str, rep_ids: Sequence[str],
              since: dt.datetime, now: dt.datetime) -> list[RepFacts]:
    """Everything a manager's summary needs about these reps since `since` (rep order kept)."""
    rep_ids = list(dict.fromkeys(rep_ids))
    if not rep_ids:
        return []
    users = {u.slack_id: u for u in session.scalars(
        select(User).where(User.team_id == team_id, User.slack_id.in_(rep_ids)))}
    checkins: dict[str, list[CheckinFact]] = defaultdict(list)
    for fact in _checkins(session, team_id, rep_ids, since):
        checkins[fact.rep_id].append(fact)
    answers: dict[str, list[AnswerFact]] = defaultdict(list)
    for answer in _answers(session, team_id, manager_id, rep_ids, since):
        answers[answer.rep_id].append(answer)
    questions = _questions(session, team_id, manager_id, rep_ids, since)
    notes = _notes_by(session, team_id, manager_id, rep_ids, since)
    help_requests = _help(session, team_id, rep_ids)
    contact: dict[str, dt.datetime] = {}
    for rep in rep_ids:
        moments = [c.sent_at for c in checkins[rep] if c.sent_at is not None and c.sent_at <= now]
        moments += [a.created_at for a in answers[rep]] + questions.get(rep, [])
        moments += [notes[rep]] if rep in notes else []
        if moments:
            contact[rep] = max(moments)
    contact.update(_last_sent_before(session, team_id, [r for r in rep_ids if r not in contact]))
    schedules = schedules_for(session, config, list(users.values()))
    away = leave.ranges_of(session, team_id, rep_ids, (now - dt.timedelta(days=2)).date())
    out: list[RepFacts] = []
    for rep in rep_ids:
        user = users.get(rep)
        agreed = schedules[rep].touches_per_week if rep in schedules else 0.0
        # Leave is in the rep's own calendar days.
        today = now.astimezone(schedules[rep].zone).date() if rep in schedules else now.date()
        ranges = away.get(rep, [])
        on_leave = leave.current(ranges, today)
        out.append(RepFacts(
            rep_id=rep, name=(user.display_name if user and user.display_name else rep),
            checkins=tuple(checkins[rep]), answers=tuple(answers[rep]), questions_sent=len(questions.get(rep, [])),
            last_contact=contact.get(rep), agreed_per_week=agreed,
            paused_until=user.paused_until if user else None, help_requests=tuple(help_requests.get(rep, ())),
            leave_until=on_leave.last if on_leave else None,
            leave_booked=next(((r.first, r.last) for r in ranges if r.first > today), None)))
    return out


def next_checkins(session: Session, team_id: str, rep_ids: Sequence[str]) -> dict[str, dt.datetime]:
    """Each rep's next planned check-in (not yet sent)."""
    if not rep_ids:
        return {}
    rows = session.execute(
        select(CheckIn.rep_id, func.min(CheckIn.due_at))
        .where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(list(rep_ids)), CheckIn.state == "scheduled")
        .group_by(CheckIn.rep_id))
    return {rep: when for rep, when in rows if when is not None}


def org_figures(session: Session, team_id: str, weeks: int, now: dt.datetime) -> OrgAggregates:
    """Org-wide counts for admins: no names, no text."""
    since = now - dt.timedelta(weeks=weeks)
    recent = (CheckIn.team_id == team_id) & (CheckIn.due_at >= since - DUE_SLACK)
    sent = session.scalar(select(func.count()).select_from(CheckIn)
                          .where(recent, CheckIn.sent_at >= since, CheckIn.sent_at <= now)) or 0
    counts = {"sent": sent}
    for state in ("skipped", "paused"):
        counts[state] = session.scalar(select(func.count()).select_from(CheckIn).where(
            recent, CheckIn.state == state, CheckIn.closed_at >= since, CheckIn.closed_at <= now)) or 0
    counts["answered"] = session.scalar(select(func.count()).select_from(Answer).where(
        Answer.team_id == team_id, Answer.created_at >= since, Answer.created_at <= now)) or 0
    teams = session.scalar(select(func.count()).select_from(Team).where(Team.team_id == team_id)) or 0
    # Counted by the database: App Home opens shouldn't load every rep.
    reps = session.scalar(select(func.count()).select_from(enrolled_query(team_id).subquery())) or 0
    return org_aggregates(weeks, teams, reps, counts)


def checkin_rows(session: Session, team_id: str, rep_ids: Sequence[str], since: dt.datetime, now: dt.datetime,
                 zones: dict[str, str]) -> list[CheckinRow]:
    """The CSV summary's rows: each check-in of these reps due or sent in [since, now], with its answer.

    Only what the summary itself draws on: these reps (the caller passes the manager's own), this
    workspace, answers still stored (a rep's `forget` deleted theirs). `zones` maps a rep to their
    IANA zone.
    """
    rep_ids = list(dict.fromkeys(rep_ids))
    if not rep_ids:
        return []
    names = names_of(session, team_id, rep_ids)
    rows = session.execute(
        select(CheckIn.rep_id, CheckIn.kind, CheckIn.state, CheckIn.due_at, CheckIn.sent_at, Answer.created_at,
               Answer.text, Answer.confidence, Answer.help_wanted, Goal.text)
        .outerjoin(Answer, and_(Answer.checkin_id == CheckIn.id, Answer.team_id == team_id))
        .outerjoin(Goal, and_(Goal.id == func.coalesce(Answer.goal_id, CheckIn.goal_id), Goal.team_id == team_id))
        .where(CheckIn.team_id == team_id, CheckIn.rep_id.in_(rep_ids), CheckIn.due_at >= since - DUE_SLACK,
               or_(CheckIn.due_at.between(since, now), CheckIn.sent_at.between(since, now)))
        .order_by(CheckIn.rep_id, CheckIn.due_at, CheckIn.id))
    return [CheckinRow(rep_id=rep, rep_name=names[rep], rep_zone=zones[rep], goal=goal, kind=kind, state=state,
                       due_at=due, sent_at=sent, answered_at=answered, answer=text, confidence=confidence,
                       help_wanted=help_wanted if answered is not None else None)
            for rep, kind, state, due, sent, answered, text, confidence, help_wanted, goal in rows]


def zones_of(session: Session, team_id: str, rep_ids: Sequence[str], default: str) -> dict[str, str]:
    """Each rep's IANA zone from Slack, else `default` (an unknown name also falls back)."""
    known = dict(session.execute(select(User.slack_id, User.tz).where(
        User.team_id == team_id, User.slack_id.in_(list(rep_ids)))).all()) if rep_ids else {}
    out: dict[str, str] = {}
    for rep in rep_ids:
        name = known.get(rep)
        try:
            out[rep] = ZoneInfo(name).key if name else default
        except (ZoneInfoNotFoundError, ValueError):
            out[rep] = default
    return out
