"""What happens after a rep acts on a check-in: the DM is updated, answers are passed on.

Shared by the button, modal and DM listeners so that each stays thin.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from core.services import Services
from handlers.delivery import deliver_now
from handlers.notify import relay_answer
from handlers.render.outbox import checkin_question, closed_checkin
from storage import outbox
from storage.models import CheckIn, OutboxKind

log = logging.getLogger(__name__)

ANSWERED_NOTE = "✅ Answered, thank you. You can edit it any time."


def question_of(services: Services, checkin: CheckIn) -> tuple[str, str]:
    """(mrkdwn, plain) question text of a check-in, as the rep saw it."""
    with services.sessions.begin() as session:
        return checkin_question(session, checkin)


def update_checkin_message(services: Services, client: WebClient, checkin: CheckIn, note: str,
                           allow_edit: bool = False) -> None:
    """Replace the check-in DM's buttons with a short note, now (the rep is looking at it)."""
    if not (checkin.channel and checkin.message_ts):
        return
    with services.sessions.begin() as session:
        shown = closed_checkin(session, checkin, note, allow_edit)
    try:
        client.chat_update(channel=checkin.channel, ts=checkin.message_ts, **shown)
    except SlackApiError as exc:
        # The state change is already saved, and the rep was told; a stale DM is cosmetic.
        log.warning("could not update check-in message %s: %s", checkin.id, exc.response.get("error"))


def close_answered(services: Services, checkin: CheckIn) -> None:
    """The answered check-in's DM shows "Answered" instead of its buttons: a silent outbox edit
    (`checkin_closed`), retried until Slack takes it, so an outage can't leave live buttons behind."""
    if not (checkin.channel and checkin.message_ts):
        return
    try:
        with services.sessions.begin() as session:
            queued = outbox.enqueue(session, team_id=checkin.team_id, kind=OutboxKind.CHECKIN_CLOSED,
                                    recipient=checkin.rep_id, dedupe_key=f"checkin_closed:{checkin.id}",
                                    now=services.now(),
                                    payload={"checkin_id": checkin.id, "note": ANSWERED_NOTE, "allow_edit": True})
    except SQLAlchemyError:  # the answer is saved; only the buttons' swap is not queued
        log.exception("could not queue the answered swap of check-in %s", checkin.id)
        return
    if queued is not None:
        deliver_now(services, [queued])


def answered(services: Services, client: WebClient, checkin: CheckIn, answer_id: int, created: bool) -> None:
    close_answered(services, checkin)
    relay_answer(services, client, answer_id, created)  # pass it on to the rep's managers
