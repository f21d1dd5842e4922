"""Help requests and carried next steps from the DM (issue 13): the rep's and the manager's buttons.

The rep asks for help or clears it on their check-in DM, sets confidence there, and edits or
drops the next step their next check-in will ask about. A manager marks a request resolved (a note
or thanks on the answer closes it too, in `handlers.manager_actions`). Every action re-checks
ownership, so a forged id is refused exactly like a missing one.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from coaching.prompts import all_prompts, choose_prompt
from core.services import Services
from handlers.checkin_flow import show_answered
from handlers.context import REFUSAL, action, action_value, parse_id, services_of
from handlers.delivery import deliver_now
from handlers.home import publish_home
from handlers.notify import relay_answer
from handlers.render import help as help_view
from storage import checkins, conversation, outbox
from storage.models import Answer, CheckIn, CheckInState, HelpRequest, OutboxKind, StepState, User
from storage.ownership import owned
from storage.people import manages

log = logging.getLogger(__name__)
ASKED = ("Done: your manager will see that you'd like help, at the top of their summary. "
         "You can clear it any time.")
CLEARED = "Cleared: your manager won't see it as an open request any more."


@dataclass(frozen=True)
class HelpChange:
    checkin: CheckIn
    changed: bool
    answer_id: int | None


# --- the rules --------------------------------------------------------------------------------


def _answer_of(session: Session, checkin_id: int) -> Answer | None:
    return session.scalar(select(Answer).where(Answer.checkin_id == checkin_id))


def set_help(session: Session, team_id: str, user_id: str, checkin_id: int, wanted: bool,
             now: dt.datetime) -> HelpChange | None:
    """Ask for help on (or clear it from) the rep's own check-in; None if it isn't theirs or never
    reached them."""
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    if checkin is None or checkin.state in (CheckInState.SCHEDULED, CheckInState.SENDING):
        return None
    changed = (conversation.ask(session, checkin, "button", now) if wanted
               else conversation.withdraw(session, checkin, now))
    answer = _answer_of(session, checkin.id)
    return HelpChange(checkin, changed, answer.id if answer else None)


def set_confidence(session: Session, team_id: str, user_id: str, checkin_id: int, level: int) -> HelpChange | None:
    """Confidence on an answered check-in of the rep's own; None if not theirs or not answered."""
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    answer = _answer_of(session, checkin_id) if checkin is not None else None
    if checkin is None or answer is None or not 1 <= level <= 5:
        return None
    changed = answer.confidence != level
    answer.confidence = level
    return HelpChange(checkin, changed, answer.id)


def resolve_help(session: Session, team_id: str, manager_id: str, help_id: int, now: dt.datetime) -> bool | None:
    """A manager marks a request of one of their reps resolved; None if it isn't theirs to resolve."""
    found = owned(session, HelpRequest, help_id, team_id)
    if found is None or not manages(session, team_id, manager_id, found.rep_id):
        return None
    return conversation.resolve(session, found, manager_id, now)


def own_answer(session: Session, team_id: str, user_id: str, answer_id: int) -> Answer | None:
    return owned(session, Answer, answer_id, team_id, rep_id=user_id)


def change_step(session: Session, team_id: str, user_id: str, answer_id: int, text: str | None,
                custom_prompts: Sequence[str] = ()) -> CheckIn | None:
    """Edit (text) or drop (None) the step carried from an answer. Returns the check-in whose DM
    shows it (the answered one, or the open check-in that quotes it); None if not the rep's."""
    answer = own_answer(session, team_id, user_id, answer_id)
    if answer is None:
        return None
    carried_to = answer.next_step_checkin if answer.next_step_state == StepState.CARRIED else None
    conversation.set_step(session, answer, text)
    if carried_to is not None and text is None:
        checkin = session.get(CheckIn, carried_to)
        if checkin is not None and checkin.state == CheckInState.SENT and checkin.kind != "adhoc":
            # The question quoting it becomes an ordinary open question about the goal.
            user = session.scalar(select(User).where(User.team_id == team_id, User.slack_id == user_id))
            checkin.prompt = choose_prompt(user_id, user.prompt_sequence if user else 0, all_prompts(custom_prompts))
            return checkin
    return session.get(CheckIn, answer.checkin_id)


# --- the listeners ------------------------------------------------------------------------------


def _say(body: dict[str, Any], respond: Respond, text: str, blocks: list[Any] | None = None) -> None:
    if body.get("response_url"):
        respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)


def _refresh(services: Services, client: WebClient, checkin: CheckIn, answer_id: int | None) -> None:
    """Show the change on the rep's answered DM and on each manager's copy of the answer."""
    if checkin.state == CheckInState.ANSWERED:
        show_answered(services, checkin)
    if answer_id is not None:
        relay_answer(services, client, answer_id, created=False)


def _help(body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext, wanted: bool) -> None:
    services = services_of(context)
    user = body["user"]["id"]
    with services.sessions.begin() as session:
        outcome = set_help(session, services.team_id, user, parse_id(action_value(body)) or -1, wanted, services.now())
    if outcome is None:
        _say(body, respond, REFUSAL)
        return
    if wanted:
        _say(body, respond, ASKED, help_view.with_undo(outcome.checkin.id, ASKED))
    else:
        _say(body, respond, CLEARED)
    if outcome.changed:
        _refresh(services, client, outcome.checkin, outcome.answer_id)
        publish_home(services, user)


def ask_help(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    _help(body, client, respond, context, wanted=True)


def clear_help(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    _help(body, client, respond, context, wanted=False)


def confidence(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    option = action(body).get("selected_option")
    value = str(option.get("value") or "") if isinstance(option, dict) else ""
    checkin_part, _, level_part = value.partition(":")
    with services.sessions.begin() as session:
        outcome = set_confidence(session, services.team_id, body["user"]["id"], parse_id(checkin_part) or -1,
                                 parse_id(level_part) or -1)
    if outcome is None:
        _say(body, respond, REFUSAL)
        return
    if outcome.changed:
        _refresh(services, client, outcome.checkin, outcome.answer_id)


def resolve(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    manager = body["user"]["id"]
    with services.sessions.begin() as session:
        outcome = resolve_help(session, services.team_id, manager, parse_id(action_value(body)) or -1,
                               services.now())
    if outcome is None:
        _say(body, respond, REFUSAL)
        return
    _say(body, respond, "Marked resolved. Thank you for following up." if outcome else "That one was already closed.")
    publish_home(services, manager)


def open_step(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with services.sessions.begin() as session:
        answer = own_answer(session, services.team_id, body["user"]["id"], parse_id(action_value(body)) or -1)
        found = (answer.id, answer.next_step) if answer is not None else None
    if found is None:
        _say(body, respond, REFUSAL)
        return
    client.views_open(trigger_id=body["trigger_id"], view=help_view.step_modal(*found))


def _after_step(services: Services, checkin: CheckIn | None, user: str) -> None:
    if checkin is None:
        return
    if checkin.state == CheckInState.ANSWERED:
        show_answered(services, checkin)
    elif checkin.state == CheckInState.SENT and checkin.channel and checkin.message_ts:
        _reprompt(services, checkin)
    publish_home(services, user)


def _reprompt(services: Services, checkin: CheckIn) -> None:
    """The open check-in that quoted a dropped step, shown again with its new question: a silent
    outbox edit (`checkin_refresh`), rendered when sent."""
    try:
        with services.sessions.begin() as session:
            queued = outbox.enqueue(session, team_id=checkin.team_id, kind=OutboxKind.CHECKIN_REFRESH,
                                    recipient=checkin.rep_id, dedupe_key=f"checkin_refresh:{checkin.id}:{uuid.uuid4().hex}",
                                    now=services.now(), payload={"checkin_id": checkin.id, "ts": checkin.message_ts})
    except SQLAlchemyError:  # the step is dropped; only the message's refresh is not queued
        log.exception("could not queue the refresh of check-in %s", checkin.id)
        return
    if queued is not None:
        deliver_now(services, [queued])


def drop_step(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    user = body["user"]["id"]
    with services.sessions.begin() as session:
        checkin = change_step(session, services.team_id, user, parse_id(action_value(body)) or -1, None,
                              services.config.prompts)
    if checkin is None:
        _say(body, respond, REFUSAL)
        return
    _say(body, respond, "Dropped. I won't ask about that step.")
    _after_step(services, checkin, user)


def submit_step(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                context: BoltContext) -> None:
    services = services_of(context)
    user = body["user"]["id"]
    text = help_view.read_step((view.get("state") or {}).get("values") or {})
    with services.sessions.begin() as session:
        checkin = change_step(session, services.team_id, user, parse_id(view.get("private_metadata")) or -1,
                              text or None, services.config.prompts)
    if checkin is None:
        ack(response_action="errors", errors={help_view.STEP_BLOCK: REFUSAL})
        return
    ack()
    _after_step(services, checkin, user)


def register(app: App) -> None:
    app.action(help_view.HELP_ASK)(ask_help)
    app.action(help_view.HELP_CLEAR)(clear_help)
    app.action(help_view.CONFIDENCE)(confidence)
    app.action(help_view.HELP_RESOLVE)(resolve)
    app.action(help_view.STEP_EDIT)(open_step)
    app.action(help_view.STEP_DROP)(drop_step)
    app.view(help_view.STEP_CALLBACK)(submit_step)
