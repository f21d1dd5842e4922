"""Events: a rep's DM (or thread reply) answers their open check-in; App Home opens.

Slack delivers events at least once, so the event_id is recorded in the same transaction as
the answer: a retried delivery stores nothing twice. An answer may come with a file
(`file_share`, linked by its permalink, not copied) or as a thread reply also sent to the
conversation (`thread_broadcast`); bots' messages and other subtypes are not answers.

Nothing a person writes is dropped (`storage.replies`): a reply in the thread of a note, a thanks
or a passed-on reply goes to the other person; a reply in an answered check-in's thread is added
to its answer (never replacing it); a DM after the check-in was answered is added to that answer
or offered to the managers as a note; an edit or deletion in Slack of the DM that
carried an answer changes or removes the stored answer and the managers' copies.
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

from core.services import Services
from handlers.checkin_flow import answered
from handlers.context import services_of
from handlers.home import publish_home
from handlers.replies import acknowledge_late, acknowledge_reply, acknowledge_revision
from handlers.text import quote, unescape
from handlers.zones import Profile, apply_profiles
from scheduling.report import PassReport
from storage import checkins, replies
from storage.models import CheckIn, CheckInState

log = logging.getLogger(__name__)

# Subtypes that are still a person writing to us: an answer sent with a file, or a thread reply
# also sent to the conversation. Every other subtype is not an answer.
ANSWER_SUBTYPES = (None, "file_share", "thread_broadcast")


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
    added: replies.LateOutcome | None = None  # a reply in an answered check-in's thread, added to its answer


def answer_text(event: dict[str, Any]) -> str:
    """What the rep wrote, plus a link to each file they attached (linked by permalink, not copied)."""
    text = unescape(event.get("text") or "")
    links = []
    for file in event.get("files") or []:
        if isinstance(file, dict) and isinstance(file.get("permalink"), str) and file["permalink"]:
            name = str(file.get("title") or file.get("name") or "file")[:200]
            links.append(f"Attached: {name} {file['permalink']}")
    return "\n".join([text.strip(), *links]).strip()


def record_dm(session: Session, team_id: str, user_id: str, event_id: str, thread_ts: str | None, text: str,
              now: dt.datetime, message_ts: str | None = None) -> DmOutcome:
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
    if checkin.state == CheckInState.ANSWERED:  # more words in its thread add to the answer, never replace it
        added = replies.add_in_thread(session, team_id, checkin, text, message_ts or event_id, event_id, now)
        if added is not None:
            return DmOutcome(DmResult.RECORDED, checkin, added.answer_id, added=added)
    recorded = checkins.record_answer(session, checkin, text, "thread" if thread_ts else "dm", now,
                                      event_id=event_id, message_ts=message_ts)
    return DmOutcome(DmResult.RECORDED, checkin, recorded.answer.id, recorded.created)


def _from_a_bot(event: dict[str, Any], bot_user_id: str | None) -> bool:
    return bool(event.get("bot_id") or event.get("subtype") == "bot_message"
                or (bot_user_id and event.get("user") == bot_user_id))


def on_message(event: dict[str, Any], body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    if event.get("channel_type") != "im":
        return  # the app only listens to its own DMs
    services = services_of(context)
    subtype = event.get("subtype")
    if _from_a_bot(event, services.bot_user_id):
        log.debug("ignored a bot's message")
        return
    if subtype in ("message_changed", "message_deleted"):
        _edited_or_deleted(services, client, event, body)
        return
    if subtype not in ANSWER_SUBTYPES:
        log.debug("ignored a %s message", subtype)
        return
    user_id, text = event.get("user"), answer_text(event)
    if not user_id:
        return
    event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
    now, ts, thread_ts = services.now(), str(event.get("ts") or ""), event.get("thread_ts")
    reply: replies.ReplyOutcome | None = None
    late: replies.LateOutcome | None = None
    try:
        with services.sessions.begin() as session:
            reply = _thread_reply(session, services.team_id, user_id, event_id, thread_ts, text, ts, now)
            outcome = DmOutcome(DmResult.DUPLICATE) if reply is not None else record_dm(
                session, services.team_id, user_id, event_id, thread_ts, text, now, message_ts=ts or None)
            if outcome.result is DmResult.NO_CHECKIN:  # nothing open: never dropped, see storage.replies
                late = replies.after_answering(session, services.team_id, user_id, text, ts, event_id, now,
                                               dt.timedelta(days=services.config.checkins.append_window_days))
            late = late or outcome.added
    except checkins.CheckInError as exc:
        _reply(client, event, f"{exc}\n{_quote(text)}")
        return
    except SQLAlchemyError:
        log.exception("could not store a DM answer")
        _reply(client, event, "Sorry, I couldn't save your answer just now. Here it is so nothing is lost; "
                              f"please send it again in a minute:\n{_quote(text)}")
        return
    # Every reply below happens after the transaction: no Slack call while holding the database.
    if reply is not None:
        acknowledge_reply(services, client, event, user_id, reply)
    elif late is not None:
        acknowledge_late(services, client, event, user_id, late)
    elif outcome.result is DmResult.RECORDED and outcome.checkin is not None and outcome.answer_id is not None:
        _thank(client, event)  # an edit sent as a new DM is thanked too
        answered(services, client, outcome.checkin, outcome.answer_id, outcome.created)


def _thread_reply(session: Session, team_id: str, user_id: str, event_id: str, thread_ts: str | None, text: str,
                  ts: str, now: dt.datetime) -> replies.ReplyOutcome | None:
    """A reply in the thread of a note, thanks or passed-on message: for the other person. None: not one."""
    root = replies.thread_root(session, team_id, user_id, thread_ts) if thread_ts and ts else None
    if root is None:
        return None
    if not checkins.first_delivery(session, team_id, event_id, now):
        return replies.ReplyOutcome(replies.ReplyResult.DUPLICATE)
    return replies.reply_in_thread(session, team_id, user_id, root, text, ts, now)


def _edited_or_deleted(services: Services, client: WebClient, event: dict[str, Any], body: dict[str, Any]) -> None:
    """An edit or deletion in Slack of a DM that carried an answer changes or removes the stored answer.

    Other edits (Slack adding a link preview, a message that was never an answer) change nothing.
    """
    deleted = event.get("subtype") == "message_deleted"
    before = event.get("previous_message") or {}
    after = event.get("message") or {}
    user_id = before.get("user") or after.get("user")
    ts = event.get("deleted_ts") if deleted else (before.get("ts") or after.get("ts"))
    if not isinstance(user_id, str) or not isinstance(ts, str) or before.get("bot_id") or after.get("bot_id"):
        return
    if not deleted and before.get("text") == after.get("text") and before.get("files") == after.get("files"):
        return  # an unfurl or attachment change, not the rep's words
    event_id = str(body.get("event_id") or f"{event.get('channel')}:{event.get('ts')}")
    now = services.now()
    try:
        with services.sessions.begin() as session:
            if not checkins.first_delivery(session, services.team_id, event_id, now):
                return
            changed = None if deleted else answer_text(after)
            revision = (replies.revise(session, services.team_id, user_id, ts, answer_text(before), changed,
                                       event_id, now)
                        or replies.revise_reply(session, services.team_id, user_id, ts, changed, event_id, now))
    except checkins.CheckInError as exc:
        _reply(client, {**event, "user": user_id, "thread_ts": None}, str(exc))
        return
    except SQLAlchemyError:  # Slack won't send the edit again: say so, rather than keep the old text quietly
        log.exception("could not apply an edited or deleted DM")
        _reply(client, {**event, "user": user_id, "thread_ts": None},
               "Sorry, I couldn't apply your change to your check-in answer just now. Please edit or delete "
               "the message again in a minute.")
        return
    if revision is None:
        log.debug("ignored an edit of a message that was not an answer")
        return
    acknowledge_revision(services, client, event, user_id, revision)


def on_home(event: dict[str, Any], context: BoltContext) -> None:
    if event.get("tab", "home") != "home" or not isinstance(event.get("user"), str):
        return
    publish_home(services_of(context), str(event["user"]))


def on_user_change(event: dict[str, Any], context: BoltContext) -> None:
    """Slack says someone's profile changed: keep their zone and name without asking Slack again."""
    member = event.get("user")
    if not isinstance(member, dict) or not isinstance(member.get("id"), str):
        return
    services = services_of(context)
    with services.sessions.begin() as session:
        apply_profiles(session, services, [Profile.of(member)], services.now(), PassReport())


def register(app: App) -> None:
    app.event("message")(on_message)
    app.event("app_home_opened")(on_home)
    app.event("user_change")(on_user_change)


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
