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
)

from core.services import Services
from handlers.notify import relay_answer
from handlers.render.checkin import ANSWER, closed_blocks, plain_prompt, prompt_text
from handlers.text import escape
from storage.goals import own_goal
from storage.models import CheckIn

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


def answered(services: Services, client: WebClient, checkin: CheckIn, answer_id: int, created: bool) -> None:
    update_checkin_message(services, client, checkin, "✅ Answered, thank you. You can edit it any time.",
                           allow_edit=True)
    relay_answer(services, client, answer_id, created)  # pass it on to the rep's managers
