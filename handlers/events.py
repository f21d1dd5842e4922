"""Events: a rep's plain DM (or thread reply) answers their open check-in; App Home opens.

Slack delivers events at least once, so the event_id is recorded in the same transaction as
the answer: a retried delivery stores nothing twice.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from core.services import Services
from handlers.checkin_flow import answered
from handlers.text import escape, excerpt, unescape
from storage import checkins
from storage.models import CheckIn

log = logging.getLogger(__name__)


def register(app: App, services: Services) -> None:
    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return  # edits, joins and bots' messages are not answers
        user_id, text = event.get("user"), unescape(event.get("text") or "")
        if not user_id:
            return
        event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
        thread_ts = event.get("thread_ts")
        now = services.now()
        checkin: CheckIn | None = None
        try:
            with services.sessions.begin() as session:
                if not checkins.first_delivery(session, services.team_id, event_id, now):
                    return  # a retry of an event we already handled
                if thread_ts:
                    checkin = checkins.checkin_by_message(session, services.team_id, user_id, thread_ts)
                checkin = checkin or checkins.open_checkin(session, services.team_id, user_id)
                if checkin is not None:
                    recorded = checkins.record_answer(session, checkin, text, "thread" if thread_ts else "dm",
                                                      now, event_id=event_id)
                    answer_id = recorded.answer.id
        except checkins.CheckInError as exc:
            _reply(client, event, f"{exc}\n{_quote(text)}")
            return
        except SQLAlchemyError:
            log.exception("could not store a DM answer from %s", user_id)
            _reply(client, event, "Sorry, I couldn't save your answer just now. Here it is so nothing is lost; "
                                  f"please send it again in a minute:\n{_quote(text)}")
            return
        if checkin is None:  # replied outside the transaction: no Slack call while holding the DB
            _reply(client, event, "Thanks for the message! There's no check-in open right now, so I haven't "
                                  "saved it. `/checkin now` starts one whenever you like.")
            return
        _thank(client, event)  # an edit sent as a new DM is thanked too
        answered(services, client, checkin, answer_id, recorded.created)

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        from handlers.home import publish_home

        publish_home(services, str(event["user"]))


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
