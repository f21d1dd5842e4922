"""Replies that land, the Slack side: telling the writer what became of their words, and the buttons
on a DM sent after the check-in was answered ("send it to my manager as a note?").

The rules live in `storage.replies`; `handlers.events` calls them inside its transaction and then
one of the `acknowledge_*` functions here, after the commit.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, MarkdownTextObject, SectionBlock

from core.services import Services
from handlers.context import action_value, services_of
from handlers.delivery import deliver_now, waiting_note
from handlers.notify import refresh_relays
from handlers.render.summary import name_of
from handlers.text import quote
from handlers.zones import fill_names
from storage import replies
from storage.replies import LateOutcome, LateResult, ReplyOutcome, ReplyResult, Revision

log = logging.getLogger(__name__)

OFFER_SEND, OFFER_DISCARD = "late_dm_send", "late_dm_discard"
_TS = re.compile(r"^\d{1,12}\.\d{1,8}$")


def _ephemeral(client: WebClient, event: dict[str, Any], user: str, text: str,
               blocks: list[Block] | None = None) -> None:
    try:
        client.chat_postEphemeral(channel=event["channel"], user=user, text=text, blocks=blocks,
                                  thread_ts=event.get("thread_ts"))
    except SlackApiError as exc:
        log.info("could not tell %s what became of their message: %s", user, exc.response.get("error"))


def _names(services: Services, people: list[str]) -> str:
    names = fill_names(services, people)
    return " and ".join(name_of(names[p]) for p in people)


def acknowledge_reply(services: Services, client: WebClient, event: dict[str, Any], user: str,
                      outcome: ReplyOutcome) -> None:
    """A reply in a conversation's thread: passed on (now, or at the start of their day), or refused."""
    if outcome.result is ReplyResult.DUPLICATE or outcome.recipient is None:
        return
    who = _names(services, [outcome.recipient])
    if outcome.result is ReplyResult.NOT_ALLOWED:
        _ephemeral(client, event, user, f"{who} isn't on your team any more, so I haven't passed this on.")
        return
    states = deliver_now(services, [outcome.outbox_id]) if outcome.outbox_id is not None else {}
    waiting = waiting_note(services, states, outcome.outbox_id, outcome.recipient)
    if outcome.result is ReplyResult.NOTE and outcome.answer_id is not None:
        refresh_relays(services, outcome.answer_id, user)  # their copy shows "you sent a note"
        _ephemeral(client, event, user, f"Sent to {who} as a note on their answer.{waiting}")
    else:
        _ephemeral(client, event, user, f"Passed on to {who}.{waiting}")


def offer_blocks(text: str, message_ts: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(block_id="late_dm_offer", elements=[
                ButtonElement(text="Send as a note", action_id=OFFER_SEND, value=message_ts, style="primary"),
                ButtonElement(text="Don't send", action_id=OFFER_DISCARD, value=message_ts)])]


def acknowledge_late(services: Services, client: WebClient, event: dict[str, Any], user: str,
                     outcome: LateOutcome) -> None:
    """A DM while no check-in was open: say where it went, or offer to pass it on."""
    if outcome.result is LateResult.APPENDED:
        if outcome.outbox_ids:
            deliver_now(services, outcome.outbox_ids)
        _react(client, event)
        _ephemeral(client, event, user, "I've added this to your check-in answer, after what you wrote before; "
                                        "whoever sees that answer sees this too. To change it, edit or delete "
                                        "your messages here.")
    elif outcome.result is LateResult.OFFERED:
        _offer(services, client, event, user, outcome.managers, outcome.text,
               "There's no check-in open right now. ")
    else:
        _ephemeral(client, event, user, "Thanks for the message! There's no check-in open right now and no "
                                        "manager to pass it to, so I've nothing to do with it. "
                                        "`/checkin now` starts a check-in whenever you like.")


def _offer(services: Services, client: WebClient, event: dict[str, Any], user: str, managers: list[str],
           words: str, lead: str) -> None:
    """The private offer of a DM as a note, quoting the words that would be sent (its buttons carry
    the DM's ts, so an older offer of the same DM sends the same, current words)."""
    text = (f"{lead}Shall I pass this on to {_names(services, managers)} as a note? It's kept until you "
            f"choose.\n{quote(words, 2500)}")
    _ephemeral(client, event, user, text, offer_blocks(text, str(event.get("ts") or "")))


def acknowledge_revision(services: Services, client: WebClient, event: dict[str, Any], user: str,
                         revision: Revision) -> None:
    """An edit or deletion of the DM that carried an answer: the managers' copies follow it."""
    if revision.outbox_ids:
        deliver_now(services, revision.outbox_ids)
    if revision.answer_id is None and revision.offered and not revision.managers:  # offered, never sent
        if revision.deleted or revision.text is None:
            _ephemeral(client, {**event, "thread_ts": None}, user,
                       "You deleted the message I offered to pass on, so I won't send it, and I haven't kept it.")
        else:  # the offer shows the words as they stand now
            _offer(services, client, {**event, "user": user, "thread_ts": None, "ts": _edited_ts(event)}, user,
                   revision.offered, revision.text, "You edited the message I offered to pass on. ")
        return
    seen = f" {_names(services, revision.managers)} now sees" if revision.managers else ""
    if revision.answer_id is None:  # a reply passed on
        text = ("You deleted your message, so I've taken it back" if revision.deleted
                else "I've updated the message I passed on") + (
            f" ({_names(services, revision.managers)} sees the change)." if revision.managers else ".")
    elif revision.deleted:
        text = "You deleted your check-in answer, so I've removed it" + (
            f" and taken it out of {_names(services, revision.managers)}'s messages." if revision.managers else ".")
    else:
        text = "I've updated your check-in answer with your change." + (f"{seen} the new version." if seen else "")
    _ephemeral(client, {**event, "thread_ts": None}, user, text)


def _edited_ts(event: dict[str, Any]) -> str:
    """The ts of the rep's own message that an edit event changed."""
    for inner in (event.get("message"), event.get("previous_message")):
        if isinstance(inner, dict) and isinstance(inner.get("ts"), str):
            return str(inner["ts"])
    return str(event.get("ts") or "")


def _react(client: WebClient, event: dict[str, Any]) -> None:
    try:
        client.reactions_add(channel=event["channel"], timestamp=event["ts"], name="white_check_mark")
    except SlackApiError as exc:
        log.info("could not react to a message: %s", exc.response.get("error"))


def _decide(services: Services, body: dict[str, Any], respond: Respond, send: bool) -> None:
    user = body["user"]["id"]
    message_ts = action_value(body)
    decided = None
    if _TS.match(message_ts):
        with services.sessions.begin() as session:
            decided = replies.decide_offer(session, services.team_id, user, message_ts, send, services.now())
    if decided is None:
        respond(text="You've already decided about that message.", replace_original=True)
        return
    if not send:
        respond(text="Fine, I haven't sent it, and I haven't kept it.", replace_original=True)
        return
    if not decided:
        respond(text="You have no manager here any more, so nothing was sent.", replace_original=True)
        return
    who = _names(services, [m for m, _ in decided])
    states = deliver_now(services, [i for _, i in decided])
    waiting = "".join(dict.fromkeys(waiting_note(services, states, i, m) for m, i in decided))
    respond(text=f"Sent to {who} as a note.{waiting}", replace_original=True)


def send_offer(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    _decide(services_of(context), body, respond, send=True)


def discard_offer(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    _decide(services_of(context), body, respond, send=False)


def register(app: App) -> None:
    app.action(OFFER_SEND)(send_offer)
    app.action(OFFER_DISCARD)(discard_offer)
