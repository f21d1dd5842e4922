"""Events: a rep's plain DM (or thread reply) answers their open check-in; App Home opens.

Slack delivers events at least once, so the event_id is recorded in the same transaction as
the answer: a retried delivery stores nothing twice.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy.exc import SQLAlchemyError

from core.services import Services
from handlers.background import runner
from handlers.checkin_flow import answered
from handlers.home import publish_home
from handlers.text import quote, unescape
from storage import checkins
from storage.models import CheckIn

log = logging.getLogger(__name__)


# Subtypes that are still a person writing to us: an answer sent with a file, or a thread reply
# also sent to the conversation. Every other subtype is not an answer.
ANSWER_SUBTYPES = (None, "file_share", "thread_broadcast")
EDIT_NOTE = ("I saw you edited a message I had saved as your check-in answer. I've kept the version you "
             "first sent; to change it, reply in the check-in's thread or tap *Answer* on it.")
DELETE_NOTE = ("You deleted a message I had saved as your check-in answer. The saved answer is still there; "
               "`/checkin forget` deletes your stored answers.")


def answer_text(event: dict[str, Any]) -> str:
    """What the rep wrote, plus a link to each file they attached (linked by permalink, not copied)."""
    text = unescape(event.get("text") or "")
    links = []
    for file in event.get("files") or []:
        if isinstance(file, dict) and isinstance(file.get("permalink"), str) and file["permalink"]:
            name = str(file.get("title") or file.get("name") or "file")[:200]
            links.append(f"Attached: {name} {file['permalink']}")
    return "\n".join([text.strip(), *links]).strip()


def _from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message"
                or (bot_user_id and event.get("user") == bot_user_id))


def register(app: App, services: Services, executor: Executor | None = None) -> None:
    run = runner(executor)

    @app.event("message")
    def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient) -> None:
        run(_on_message, services, client, event, body)

    @app.event("app_home_opened")
    def on_home(event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
            return
        run(publish_home, services, event["user"])


def _on_message(services: Services, client: WebClient, event: dict[str, Any], body: dict[str, Any]) -> None:
    subtype = event.get("subtype")
    if event.get("channel_type") != "im":
        return  # the app only listens to its own DMs
    if _from_a_bot(event, services.bot_user_id):
        log.debug("ignored a bot's message")
        return
    if subtype in ("message_changed", "message_deleted"):
        _edited_or_deleted(services, client, event)
        return
    if subtype not in ANSWER_SUBTYPES:
        log.debug("ignored a %s message", subtype)
        return
    _answer(services, client, event, body)


def _answer(services: Services, client: WebClient, event: dict[str, Any], body: dict[str, Any]) -> None:
    user_id, text = event.get("user"), answer_text(event)
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
                                                  now, event_id=event_id, message_ts=event.get("ts"))
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


def _edited_or_deleted(services: Services, client: WebClient, event: dict[str, Any]) -> None:
    """An edit or deletion in Slack of a DM that carried an answer gets a short private note.

    Other edits (Slack adding a link preview, a message that was never an answer) change nothing.
    """
    deleted = event.get("subtype") == "message_deleted"
    before = event.get("previous_message") or {}
    after = event.get("message") or {}
    user_id = before.get("user") or after.get("user")
    ts = event.get("deleted_ts") if deleted else (before.get("ts") or after.get("ts"))
    if not isinstance(user_id, str) or not isinstance(ts, str) or before.get("bot_id") or after.get("bot_id"):
        return
    if not deleted and before.get("text") == after.get("text"):
        return  # an unfurl or attachment change, not the rep's words
    with services.sessions.begin() as session:
        answer = checkins.answer_by_message(session, services.team_id, user_id, ts)
    if answer is None:
        log.debug("ignored an edit of a message that was not an answer")
        return
    try:
        client.chat_postEphemeral(channel=event["channel"], user=user_id, text=DELETE_NOTE if deleted else EDIT_NOTE)
    except SlackApiError as exc:
        log.info("could not acknowledge an edited answer: %s", exc.response.get("error"))


def _reply(client: WebClient, event: dict[str, Any], text: str) -> None:
    """A private reply in the DM (ephemeral): not a check-in message, so it carries no metadata."""
    client.chat_postEphemeral(channel=event["channel"], user=event["user"], text=text,
                              thread_ts=event.get("thread_ts"))


def _quote(text: str) -> str:
    return quote(text, 2800)


def _thank(client: WebClient, event: dict[str, Any]) -> None:
    try:
        client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="white_check_mark")
    except SlackApiError as exc:
        log.info("could not react to an answer: %s", exc.response.get("error"))
