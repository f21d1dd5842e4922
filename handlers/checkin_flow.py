"""What happens after a rep acts on a check-in: the DM is updated, answers are passed on.

Shared by the button, modal and DM listeners so that each stays thin.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core.services import Services
from handlers.delivery import deliver_now
from handlers.notify import relay_answer
from handlers.render import help as help_view
from handlers.render.outbox import checkin_question
from storage import outbox
from storage.conversation import request_of
from storage.models import Answer, CheckIn, HelpState, OutboxKind

log = logging.getLogger(__name__)

ANSWERED_NOTE = "✅ Answered, thank you. You can edit it any time."


def question_of(services: Services, checkin: CheckIn) -> tuple[str, str]:
    """(mrkdwn, plain) question text of a check-in, as the rep saw it."""
    with services.sessions.begin() as session:
        return checkin_question(session, checkin)


def update_checkin_message(services: Services, checkin: CheckIn, note: str, allow_edit: bool = False) -> None:
    """Replace the check-in DM's buttons with a short note, now (the rep is looking at it): a silent
    outbox edit (`checkin_closed`), retried until Slack takes it, so an outage can't leave live
    buttons under a check-in already skipped or snoozed."""
    if not (checkin.channel and checkin.message_ts):
        return
    try:
        with services.sessions.begin() as session:
            queued = queue_closed(session, checkin, note, allow_edit, services.now())
    except SQLAlchemyError:  # the skip or snooze is saved; only the message's refresh is not queued
        log.exception("could not queue the refresh of check-in %s", checkin.id)
        return
    if queued is not None:
        deliver_now(services, [queued])


def queue_closed(session: Session, checkin: CheckIn, note: str, allow_edit: bool, now: dt.datetime) -> int | None:
    """The `checkin_closed` edit of this check-in's DM. One per change, even within one clock tick
    (a later change must show too); an edit repeated by a retried event is harmless."""
    return outbox.enqueue(session, team_id=checkin.team_id, kind=OutboxKind.CHECKIN_CLOSED, recipient=checkin.rep_id,
                          dedupe_key=f"checkin_closed:{checkin.id}:{uuid.uuid4().hex}", now=now,
                          payload={"checkin_id": checkin.id, "note": note, "allow_edit": allow_edit,
                                   "channel": checkin.channel, "ts": checkin.message_ts})


def show_answered(services: Services, checkin: CheckIn) -> str | None:
    """Queue the answered check-in DM's refresh (a silent outbox edit, `checkin_closed`, retried
    until Slack takes it, so an outage can't leave live buttons behind): the note, what it says about
    help and the next step, and the controls to change them (`closed_checkin` renders it at send
    time from what the database holds then). Returns the rep's words if they were just read as a
    request for help."""
    if not (checkin.channel and checkin.message_ts):
        return None
    now = services.now()
    try:
        with services.sessions.begin() as session:
            answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
            found = request_of(session, checkin.id)
            # Read from their words by this very save (the same `now` stamps both): confirm, with an undo.
            just_read = (found.detail if found is not None and found.state == HelpState.OPEN and found.source == "words"
                         and answer is not None and found.created_at == answer.updated_at else None)
            queued = queue_closed(session, checkin, ANSWERED_NOTE, True, now)
    except SQLAlchemyError:  # the answer is saved; only the message's refresh is not queued
        log.exception("could not queue the answered refresh of check-in %s", checkin.id)
        return None
    if queued is not None:
        deliver_now(services, [queued])
    return just_read


def answered(services: Services, client: WebClient, checkin: CheckIn, answer_id: int, created: bool) -> None:
    words = show_answered(services, checkin)
    if words and checkin.channel:
        text, blocks = help_view.words_confirmation(checkin.id, words)
        try:
            client.chat_postEphemeral(channel=checkin.channel, user=checkin.rep_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.info("could not confirm a help request: %s", exc.response.get("error"))
    relay_answer(services, client, answer_id, created)  # pass it on to the rep's managers
