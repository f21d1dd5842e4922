"""Passing answers on to managers: right away (an ANSWER_HOOK) or as a daily/weekly digest (a
dispatch step), plus the small DM helpers the manager features share.

Each send is claimed first with a unique row (`answer_relays`, `digests_sent`), so a retried
event, an edited answer or two dispatch passes at once never DM a manager twice.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from core.services import Services
from handlers.render.checkin import prompt_text
from handlers.render.manager import RelayedAnswer, answer_blocks, answer_message, answer_text, digest_message
from handlers.text import escape, local_time
from scheduling.sender import post
from storage.db import insert_ignore
from storage.models import Answer, AnswerRelay, CheckIn, CoachingNote, DigestSent, Goal, Team, User
from storage.people import managers_of_rep, reps_of_manager
from storage.schedules import in_working_hours, zone_of
from storage.summary import names_of

if TYPE_CHECKING:
    from scheduling.dispatch import PassReport

log = logging.getLogger(__name__)
PERIODS = {"daily": dt.timedelta(days=1), "weekly": dt.timedelta(days=7)}


def insert_once(session: Session, model: type[Any], values: dict[str, Any]) -> int | None:
    """Insert unless a unique constraint says the row exists. Returns the new id, else None."""
    inserted = insert_ignore(session, model, values, returning=model.id)
    return inserted[0] if inserted else None


def fill_names(services: Services, user_ids: Sequence[str]) -> dict[str, str]:
    """Display names for people we name in messages; unknown ones are looked up once and kept."""
    with services.sessions.begin() as session:
        names = names_of(session, services.team_id, user_ids)
    for user_id in [u for u, name in names.items() if name == u]:
        try:
            info = services.client.users_info(user=user_id)["user"]
        except (SlackApiError, SlackRequestError, OSError) as exc:
            log.info("no name for %s: %s", user_id, type(exc).__name__)
            continue
        name = str(info.get("real_name") or info.get("name") or "")[:255]
        if not name:
            continue
        names[user_id] = name
        with services.sessions.begin() as session:
            session.execute(update(User).where(User.team_id == services.team_id, User.slack_id == user_id)
                            .values(display_name=name).execution_options(synchronize_session=False))
    return names


def dm(client: WebClient, payload: dict[str, Any]) -> tuple[str, str] | None:
    """Post a DM; (channel, ts) on success. A failure is logged: the state change is already saved."""
    result = post(client, **payload)
    if result.outcome != "ok" or not result.channel or not result.ts:
        log.warning("could not post %s: %s", payload["metadata"].event_type, result.error)
        return None
    return result.channel, result.ts


def relayed(session: Session, answer: Answer, names: dict[str, str]) -> RelayedAnswer:
    checkin = session.get(CheckIn, answer.checkin_id)
    goal = session.get(Goal, answer.goal_id) if answer.goal_id is not None else None
    goal_text = goal.text if goal is not None and goal.team_id == answer.team_id else None
    question = None
    if checkin is not None and checkin.prompt:
        # As `checkin_flow.question_of`: an ad-hoc check-in's prompt is the manager's own literal
        # question, not a template.
        question = escape(checkin.prompt) if checkin.kind == "adhoc" else prompt_text(checkin.prompt, goal_text)
    return RelayedAnswer(answer_id=answer.id, checkin_id=answer.checkin_id, rep_id=answer.rep_id,
                         rep_name=names.get(answer.rep_id, answer.rep_id), goal_id=answer.goal_id,
                         goal_text=goal_text, question=question, text=answer.text,
                         confidence=answer.confidence, help_wanted=answer.help_wanted)


def handled_note(session: Session, answer_id: int, manager_id: str) -> str | None:
    kinds = set(session.scalars(select(CoachingNote.kind).where(CoachingNote.answer_id == answer_id,
                                                                CoachingNote.manager_id == manager_id)))
    if "note" in kinds:
        return "✓ You sent a note."
    return "✓ You said thanks." if "thanks" in kinds else None


def relay_answer(services: Services, client: WebClient, answer_id: int, created: bool) -> None:
    """ANSWER_HOOK: pass a new answer to each manager now; refresh their copy when it is edited."""
    if services.config.deliver_answers != "immediately":
        return  # the digest step passes it on
    with services.sessions.begin() as session:
        answer = session.get(Answer, answer_id)
        if answer is None or answer.team_id != services.team_id:
            return
        rep_id = answer.rep_id
        managers = managers_of_rep(session, services.team_id, rep_id)
    if not managers:
        return
    names = fill_names(services, [rep_id])
    now = services.now()
    with services.sessions.begin() as session:
        answer = session.get(Answer, answer_id)
        if answer is None:
            return
        item = relayed(session, answer, names)
        # Only a new answer is passed on; an edit refreshes the copies already sent (a manager who
        # joined since then sees it in summaries, not as a DM out of the blue).
        claimed = [m for m in managers if created and insert_once(session, AnswerRelay, {
            "team_id": services.team_id, "answer_id": answer_id, "manager_id": m, "created_at": now})]
        earlier = [] if created else [
            (r.manager_id, r.channel, r.message_ts, handled_note(session, answer_id, r.manager_id))
            for r in session.scalars(select(AnswerRelay).where(AnswerRelay.answer_id == answer_id))
            if r.manager_id in managers and r.channel and r.message_ts]  # never to an ex-manager
    for manager in claimed:
        sent = dm(client, answer_message(item, manager, manager))
        with services.sessions.begin() as session:
            where = (AnswerRelay.answer_id == answer_id) & (AnswerRelay.manager_id == manager)
            if sent is None:  # give the claim back; the answer still shows in summaries and Home
                session.execute(delete(AnswerRelay).where(where))
            else:
                session.execute(update(AnswerRelay).where(where).values(channel=sent[0], message_ts=sent[1])
                                .execution_options(synchronize_session=False))
    for _manager, channel, ts, note in earlier:  # an edit: show the manager the new text
        try:
            client.chat_update(channel=channel, ts=ts, text=answer_text(item), blocks=answer_blocks(item, note))
        except SlackApiError as exc:
            log.info("could not refresh a passed-on answer: %s", exc.response.get("error"))


def refresh_relays(services: Services, client: WebClient, answer_id: int, manager_id: str) -> None:
    """After a note or thanks, replace the buttons on the manager's copy with what they did."""
    with services.sessions.begin() as session:
        relay = session.scalar(select(AnswerRelay).where(AnswerRelay.answer_id == answer_id,
                                                         AnswerRelay.manager_id == manager_id))
        answer = session.get(Answer, answer_id)
        if relay is None or answer is None or not (relay.channel and relay.message_ts):
            return
        names = names_of(session, services.team_id, [answer.rep_id])
        item = relayed(session, answer, names)
        note = handled_note(session, answer_id, manager_id)
        channel, ts = relay.channel, relay.message_ts
    try:
        client.chat_update(channel=channel, ts=ts, text=answer_text(item), blocks=answer_blocks(item, note))
    except SlackApiError as exc:
        log.info("could not mark a passed-on answer as handled: %s", exc.response.get("error"))


def _period_key(mode: str, local: dt.date) -> str:
    if mode == "daily":
        return f"day:{local.isoformat()}"
    year, week, _ = local.isocalendar()
    return f"week:{year}-W{week:02d}"


def send_digests(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Dispatch step: with deliver_answers daily/weekly, one `team_digest` per manager and period."""
    mode = services.config.deliver_answers
    if mode not in PERIODS:
        return
    with services.sessions.begin() as session:
        managers = sorted(set(session.scalars(select(Team.manager_id).where(Team.team_id == services.team_id))))
        users = {u.slack_id: u for u in session.scalars(
            select(User).where(User.team_id == services.team_id, User.slack_id.in_(managers)))}
    for manager in managers:
        user = users.get(manager)
        if not in_working_hours(services.config, user, now):
            continue
        zone = zone_of(user, services.config)
        _digest_for(services, manager, _period_key(mode, now.astimezone(zone).date()), PERIODS[mode], zone,
                    now, report)


def _digest_for(services: Services, manager: str, period: str, length: dt.timedelta, zone: ZoneInfo,
                now: dt.datetime, report: PassReport) -> None:
    team = services.team_id
    with services.sessions.begin() as session:
        claim = insert_once(session, DigestSent, {"team_id": team, "manager_id": manager, "period": period,
                                                  "answers": 0, "created_at": now})
        if claim is None:
            return  # this period's digest is already done (or another pass is doing it)
        previous = session.scalar(select(DigestSent.created_at).where(
            DigestSent.team_id == team, DigestSent.manager_id == manager, DigestSent.id != claim)
            .order_by(DigestSent.created_at.desc()).limit(1))
        since = previous or now - length
        reps = reps_of_manager(session, team, manager)
        answers = list(session.scalars(select(Answer).where(
            Answer.team_id == team, Answer.rep_id.in_(reps), Answer.created_at > since, Answer.created_at <= now)
            .order_by(Answer.created_at, Answer.id))) if reps else []
        rep_ids = sorted({a.rep_id for a in answers})
    if not answers:
        return  # nothing new: the claim stays, so the period is done without a message
    names = fill_names(services, rep_ids)
    with services.sessions.begin() as session:
        items = [relayed(session, a, names) for a in answers]
    label = f"since {local_time(since, zone.key)}"
    sent = dm(services.client, digest_message(manager, manager, items, label))
    with services.sessions.begin() as session:
        if sent is None:  # release the claim: the next pass tries again
            session.execute(delete(DigestSent).where(DigestSent.id == claim))
            report.add("digests_retry")
            return
        session.execute(update(DigestSent).where(DigestSent.id == claim)
                        .values(answers=len(items), message_ts=sent[1]).execution_options(synchronize_session=False))
    report.add("digests")
