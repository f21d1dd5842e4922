"""What happens after a rep acts on a check-in: the DM is updated, answers are passed on.

Shared by the button, modal and DM listeners so that each stays thin.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
)
from sqlalchemy import select

from core.services import Services
from handlers.notify import relay_answer
from handlers.render import help as help_view
from handlers.render.checkin import ANSWER, closed_blocks, plain_prompt, prompt_text
from handlers.text import escape
from storage.conversation import request_of
from storage.goals import own_goal
from storage.models import Answer, CheckIn, HelpState, StepState

log = logging.getLogger(__name__)


def question_of(services: Services, checkin: CheckIn) -> tuple[str, str]:
    """(mrkdwn, plain) question text of a check-in, as the rep saw it."""
    if checkin.kind == "adhoc" and checkin.prompt is not None:
        # A manager's ad-hoc question: its prompt is the literal question, not a template. Escaped
        # in both forms, since the "plain" one becomes a message's `text` fallback.
        question = escape(checkin.prompt)
        return question, question
    with services.sessions.begin() as session:
        goal = own_goal(session, checkin.team_id, checkin.rep_id, checkin.goal_id) if checkin.goal_id else None
        goal_text = goal.text if goal else None
    return prompt_text(checkin.prompt, goal_text), plain_prompt(checkin.prompt, goal_text)


def update_checkin_message(services: Services, client: WebClient, checkin: CheckIn, note: str,
                           allow_edit: bool = False) -> None:
    """Replace the check-in DM's buttons with a short note (and an edit button once answered)."""
    if not (checkin.channel and checkin.message_ts):
        return
    question, plain = question_of(services, checkin)
    blocks = closed_blocks(question, note)
    if allow_edit:
        blocks.append(ActionsBlock(block_id=f"checkin_edit_{checkin.id}", elements=[
            ButtonElement(text="Edit answer", action_id=ANSWER, value=str(checkin.id))]))
    try:
        client.chat_update(channel=checkin.channel, ts=checkin.message_ts, text=f"Check-in: {plain}",
                           blocks=blocks)
    except SlackApiError as exc:
        # The state change is already saved; a stale DM is cosmetic, so log and carry on.
        log.warning("could not update check-in message %s: %s", checkin.id, exc.response.get("error"))


def show_answered(services: Services, client: WebClient, checkin: CheckIn) -> str | None:
    """The answered check-in DM: the note, what it says about help and the next step, and the
    controls to change them (edit the answer, ask for or clear help, confidence, edit or drop the
    step). Returns the rep's words if they were just read as a request for help."""
    if not (checkin.channel and checkin.message_ts):
        return None
    with services.sessions.begin() as session:
        answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
        found = request_of(session, checkin.id)
        help_open = found is not None and found.state == HelpState.OPEN
        # Read from their words by this very save (the same `now` stamps both): confirm, with an undo.
        just_read = (found.detail if help_open and found is not None and found.source == "words" and answer is not None
                     and found.created_at == answer.updated_at else None)
        step = answer.next_step if answer is not None and answer.next_step_state == StepState.PENDING else None
        answer_id, confidence = (answer.id, answer.confidence) if answer is not None else (None, None)
    question, plain = question_of(services, checkin)
    blocks = closed_blocks(question, "✅ Answered, thank you. You can edit it any time.")
    notes = help_view.answered_notes(help_open, step)
    if notes:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text="\n".join(notes))]))
    controls = [ButtonElement(text="Edit answer", action_id=ANSWER, value=str(checkin.id)),
                help_view.help_button(checkin.id, help_open), help_view.confidence_select(checkin.id, confidence)]
    if step and answer_id is not None:
        controls += help_view.step_buttons(answer_id)
    blocks.append(ActionsBlock(block_id=f"checkin_edit_{checkin.id}", elements=controls))
    try:
        client.chat_update(channel=checkin.channel, ts=checkin.message_ts, text=f"Check-in: {plain}", blocks=blocks)
    except SlackApiError as exc:
        log.warning("could not update check-in message %s: %s", checkin.id, exc.response.get("error"))
    return just_read


def answered(services: Services, client: WebClient, checkin: CheckIn, answer_id: int, created: bool) -> None:
    words = show_answered(services, client, checkin)
    if words and checkin.channel:
        text, blocks = help_view.words_confirmation(checkin.id, words)
        try:
            client.chat_postEphemeral(channel=checkin.channel, user=checkin.rep_id, text=text, blocks=blocks)
        except SlackApiError as exc:
            log.info("could not confirm a help request: %s", exc.response.get("error"))
    relay_answer(services, client, answer_id, created)  # pass it on to the rep's managers
