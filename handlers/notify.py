"""Passing answers on to managers, and the small helpers the manager features share.

An answer passed on is a claim row (`answer_relays`, unique per answer and manager) and an outbox
row, written together; the outbox worker posts it in the manager's working hours. A retried
event, an edited answer or two processes at once never DM a manager twice. Digests are queued by
the dispatch pass (`scheduling.digests`).
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.services import Services
from handlers.delivery import deliver_now
from handlers.zones import fill_names
from storage import outbox
from storage.db import insert_ignore
from storage.models import Answer, AnswerRelay, OutboxKind
from storage.people import managers_of_rep
from storage.replies import queue_refreshes

log = logging.getLogger(__name__)


def queue_relays(session: Session, team_id: str, answer: Answer, now: dt.datetime) -> list[int]:
    """Claim and queue a new answer for each of the rep's managers. Returns the outbox ids."""
    ids: list[int] = []
    for manager in managers_of_rep(session, team_id, answer.rep_id):
        relay = insert_ignore(session, AnswerRelay, {"team_id": team_id, "answer_id": answer.id,
                                                     "manager_id": manager, "created_at": now},
                              returning=AnswerRelay.id)
        if not relay:
            continue  # already passed on to this manager
        queued = outbox.enqueue(session, team_id=team_id, kind=OutboxKind.ANSWER_RELAY, recipient=manager,
                                dedupe_key=f"relay:{relay[0]}", now=now,
                                payload={"answer_id": answer.id, "relay_id": relay[0]})
        ids += [queued] if queued is not None else []
    return ids


def relay_answer(services: Services, client: WebClient, answer_id: int, created: bool) -> None:
    """ANSWER_HOOK: pass a new answer to each manager; refresh their copy when it is edited."""
    if created and services.config.deliver_answers != "immediately":
        return  # the digest step passes it on (an edit still refreshes a digest already posted)
    now = services.now()
    with services.sessions.begin() as session:
        answer = session.get(Answer, answer_id)
        if answer is None or answer.team_id != services.team_id:
            return
        rep_id = answer.rep_id
        managers = managers_of_rep(session, services.team_id, rep_id)
        # Only a new answer is passed on; an edit refreshes the copies already sent, through the
        # outbox so a passing fault is retried (a manager who joined since then sees it in summaries,
        # not as a DM out of the blue; an ex-manager's copy is left alone).
        queued = (queue_relays(session, services.team_id, answer, now) if created else
                  queue_refreshes(session, services.team_id, answer, f"edit:{answer.updated_at.isoformat()}", now))
    if not managers:
        return
    fill_names(services, [rep_id, *managers])
    if queued:
        deliver_now(services, queued)


def refresh_relays(services: Services, answer_id: int, manager_id: str) -> None:
    """After a note or thanks, replace the buttons on the manager's copy with what they did: a silent
    outbox edit (`relay_refresh`, rendered when sent from what the database says then), retried
    until Slack takes it."""
    try:
        with services.sessions.begin() as session:
            answer = session.get(Answer, answer_id)
            relay = session.scalar(select(AnswerRelay).where(AnswerRelay.answer_id == answer_id,
                                                             AnswerRelay.manager_id == manager_id))
            if (answer is None or answer.team_id != services.team_id or relay is None
                    or not (relay.channel and relay.message_ts)):
                return
            queued = outbox.enqueue(session, team_id=answer.team_id, kind=OutboxKind.RELAY_REFRESH,
                                    recipient=manager_id, dedupe_key=f"refresh:{relay.id}:{uuid.uuid4().hex}",
                                    now=services.now(),
                                    payload={"answer_id": answer.id, "checkin_id": answer.checkin_id,
                                             "rep": answer.rep_id, "channel": relay.channel, "ts": relay.message_ts})
    except SQLAlchemyError:  # the note or thanks is saved; only their copy's refresh is not queued
        log.exception("could not queue the refresh of a passed-on answer")
        return
    if queued is not None:
        deliver_now(services, [queued])
