"""Events: a rep's plain DM (or thread reply) answers their open check-in; App Home opens.

Slack delivers events at least once, so the event_id is recorded in the same transaction as
the answer: a retried delivery stores nothing twice.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import App, BoltContext
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from handlers.checkin_flow import answered
from handlers.context import services_of
from handlers.home import publish_home
from handlers.text import escape, excerpt, unescape
from storage import checkins
from storage.models import CheckIn

log = logging.getLogger(__name__)


class DmResult(enum.Enum):
    DUPLICATE = "duplicate"  # a retried delivery of an event already handled
    NO_CHECKIN = "no_checkin"  # nothing open to answer: the message is not stored
    RECORDED = "recorded"


@dataclass(frozen=True)
class DmOutcome:
    result: DmResult
    checkin: CheckIn | None = None
    answer_id: int | None = None
    created: bool = False


def record_dm(session: Session, team_id: str, user_id: str, event_id: str, thread_ts: str | None, text: str,
              now: dt.datetime) -> DmOutcome:
    """Store a DM (or a reply in a check-in's thread) as the answer to the check-in it belongs to.

    Raises CheckInError for an answer that breaks a rule (e.g. too long), so that the caller's
    transaction rolls back and a retried delivery is judged afresh.
    """
    if not checkins.first_delivery(session, team_id, event_id, now):
        return DmOutcome(DmResult.DUPLICATE)
    checkin = checkins.checkin_by_message(session, team_id, user_id, thread_ts) if thread_ts else None
    checkin = checkin or checkins.open_checkin(session, team_id, user_id)
    if checkin is None:
        return DmOutcome(DmResult.NO_CHECKIN)
    recorded = checkins.record_answer(session, checkin, text, "thread" if thread_ts else "dm", now,
                                      event_id=event_id)
    return DmOutcome(DmResult.RECORDED, checkin, recorded.answer.id, recorded.created)


def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return  # edits, joins and bots' messages are not answers
    user_id, text = event.get("user"), unescape(event.get("text") or "")
    if not user_id:
        return
    services = services_of(context)
    event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
    try:
        with services.sessions.begin() as session:
            outcome = record_dm(session, services.team_id, user_id, event_id, event.get("thread_ts"), text,
                                services.now())
    except checkins.CheckInError as exc:
        _reply(client, event, f"{exc}\n{_quote(text)}")
        return
    except SQLAlchemyError:
        log.exception("could not store a DM answer from %s", user_id)
        _reply(client, event, "Sorry, I couldn't save your answer just now. Here it is so nothing is lost; "
                              f"please send it again in a minute:\n{_quote(text)}")
        return
    # Every reply below happens after the transaction: no Slack call while holding the database.
    if outcome.result is DmResult.NO_CHECKIN:
        _reply(client, event, "Thanks for the message! There's no check-in open right now, so I haven't "
                              "saved it. `/checkin now` starts one whenever you like.")
    elif outcome.result is DmResult.RECORDED and outcome.checkin is not None and outcome.answer_id is not None:
        _thank(client, event)  # an edit sent as a new DM is thanked too
        answered(services, client, outcome.checkin, outcome.answer_id, outcome.created)


def on_home(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home":
        return
    publish_home(services_of(context), str(event["user"]))


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home)


def _reply(client: WebClient, event: dict[str, Any], text: str) -> None:
    """A private reply in the DM (ephemeral): not a check-in message, so it carries no metadata."""
    client.chat_postEphemeral(channel=event["channel"], user=event["user"], text=text,
                              thread_ts=event.get("thread_ts"))


def _quote(text: str) -> str:
    return "> " + escape(excerpt(text, 2800)).replace("\n", "\n> ")


def _thank(client: WebClient, event: dict[str, Any]) -> None:
    try:
        client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="white_check_mark")
    except SlackApiError as exc:
        log.info("could not react to an answer: %s", exc.response.get("error"))
