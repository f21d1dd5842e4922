"""Block Kit for help requests and carried next steps (issue 13).

The rep's controls sit on their check-in DM (ask for help, clear it, set confidence, edit or drop
the step carried forward); the manager's are on the summary, App Home and the one nudge (reply
with a note, mark resolved). All user text is escaped and capped; people are named, never pinged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from coaching.summary import HelpFact
from handlers.render import message, metadata
from handlers.text import fit, local_time, safe

# Contract extensions (docs/contract-extensions.md §4).
HELP_ASK, HELP_CLEAR = "checkin_help", "checkin_help_clear"
CONFIDENCE = "checkin_confidence"
HELP_RESOLVE = "help_resolve"
STEP_EDIT, STEP_DROP = "next_step_edit", "next_step_drop"
STEP_CALLBACK, STEP_BLOCK, STEP_INPUT = "next_step_submit", "next_step", "next_step_text"
ANSWER_REPLY = "answer_reply"  # handlers.render.manager's, repeated here to keep this module a leaf
HOME_HELP_SHOWN = 5


def _goal(text: str, limit: int = 300) -> str:
    return "*" + safe(text, limit).replace("*", "∗") + "*"


def help_line(rep_name: str, item: HelpFact, zone: str) -> str:
    """One open request, for a manager: who, on which goal, in the rep's words, since when."""
    line = f"• *{safe(rep_name, 60)}*"
    if item.goal_text:
        line += f" on {_goal(item.goal_text)}"
    if item.detail:
        line += f": “{safe(item.detail, 200)}”"
    elif item.answer_text:
        line += f": “{safe(item.answer_text, 200)}”"
    return line + f" _(asked {local_time(item.created_at, zone)})_"


def help_section(requests: Sequence[tuple[str, HelpFact]], zone: str, total: int | None = None) -> str:
    count = len(requests) if total is None else total
    head = f":raising_hand: *{count} open request{'s' if count != 1 else ''} for help*"
    return fit("\n".join([head, *(help_line(name, item, zone) for name, item in requests)]))


def manager_buttons(item: HelpFact) -> ActionsBlock:
    elements = []
    if item.answer_id is not None:
        elements.append(ButtonElement(text="Reply with a note", action_id=ANSWER_REPLY, value=str(item.answer_id),
                                      style="primary"))
    elements.append(ButtonElement(text="Mark resolved", action_id=HELP_RESOLVE, value=str(item.id)))
    return ActionsBlock(block_id=f"help_actions_{item.id}", elements=elements)


def help_blocks(requests: Sequence[tuple[str, HelpFact]], zone: str, limit: int = HOME_HELP_SHOWN) -> list[Block]:
    """The top of the manager's summary and App Home: each open request with its buttons."""
    if not requests:
        return []
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=help_section(requests[:limit], zone, len(requests))))]
    blocks += [manager_buttons(item) for _, item in requests[:limit]]
    if len(requests) > limit:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"{len(requests) - limit} more in `/checkin summary`.")]))
    return blocks


def nudge_message(manager_id: str, rep_name: str, item: HelpFact, working_days: int, zone: str,
                  goal_id: int | None) -> dict[str, Any]:
    """The one gentle nudge to a manager about a help request still open."""
    days = f"{working_days} working day{'s' if working_days != 1 else ''}"
    text = (f"A gentle reminder: {safe(rep_name, 60)} asked for your help {days} ago and it's still open. "
            "A short note, a thanks, or marking it resolved closes it; this is the only reminder.")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=fit(text + "\n" + help_line(rep_name, item, zone)))),
                           manager_buttons(item)]
    return message(manager_id, text, blocks, metadata(
        "checkin_reminder", checkin_id=item.checkin_id, rep=item.rep_id, manager=manager_id, goal_id=goal_id,
        answer_id=item.answer_id, help_id=item.id))


# --- the rep's side -------------------------------------------------------------------------------


def confidence_select(checkin_id: int, current: int | None) -> StaticSelectElement:
    options = [Option(value=f"{checkin_id}:{n}", text=f"Confidence {n}/5") for n in range(1, 6)]
    initial = next((o for o in options if o.value == f"{checkin_id}:{current}"), None)
    return StaticSelectElement(action_id=CONFIDENCE, placeholder="How confident? (1–5)", options=options,
                               initial_option=initial)


def help_button(checkin_id: int, help_open: bool) -> ButtonElement:
    if help_open:
        return ButtonElement(text="Clear help request", action_id=HELP_CLEAR, value=str(checkin_id))
    return ButtonElement(text="I'd like help", action_id=HELP_ASK, value=str(checkin_id))


def answered_notes(help_open: bool, step: str | None) -> list[str]:
    """What the answered check-in message says about help and the step it will carry forward."""
    notes = []
    if help_open:
        notes.append(":raising_hand: You asked for help; your manager sees it at the top of their summary.")
    if step:
        notes.append(f"Next step noted: “{safe(step, 200)}”. Your next check-in on this goal will ask how it went.")
    return notes


def step_buttons(answer_id: int, carried: bool = False) -> list[ButtonElement]:
    value = str(answer_id)
    return [ButtonElement(text="Edit next step", action_id=STEP_EDIT, value=value),
            ButtonElement(text="Don't ask about it" if not carried else "Drop this step", action_id=STEP_DROP,
                          value=value)]


def with_undo(checkin_id: int, text: str) -> list[Block]:
    return [SectionBlock(text=MarkdownTextObject(text=text)),
            ActionsBlock(block_id=f"help_undo_{checkin_id}", elements=[
                ButtonElement(text="Undo: I don't need help", action_id=HELP_CLEAR, value=str(checkin_id))])]


def words_confirmation(checkin_id: int, words: str) -> tuple[str, list[Block]]:
    """The private note after a reply was read as a request for help, with a way to undo."""
    text = (f"I read “{safe(words, 200)}” as a request for help, so I've flagged it for your manager. "
            "If that's not what you meant, undo it here.")
    return text, with_undo(checkin_id, text)


def step_modal(answer_id: int, step: str | None) -> View:
    return View(type="modal", callback_id=STEP_CALLBACK, title="Your next step", submit="Save", close="Cancel",
                private_metadata=str(answer_id), blocks=[
                    SectionBlock(text=MarkdownTextObject(
                        text="Your next check-in on this goal will ask how it went. Clear the text to drop it.")),
                    InputBlock(block_id=STEP_BLOCK, label="Next step", optional=True,
                               element=PlainTextInputElement(action_id=STEP_INPUT, max_length=400,
                                                             initial_value=step or None)),
                ])


def read_step(values: dict[str, Any]) -> str:
    return str(((values.get(STEP_BLOCK) or {}).get(STEP_INPUT) or {}).get("value") or "").strip()


def home_steps(steps: Sequence[tuple[int, str]]) -> list[Block]:
    """The rep's App Home: the next steps their next check-ins will ask about, each editable."""
    if not steps:
        return []
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text="*Next steps I'll ask you about*"))]
    for answer_id, step in steps[:3]:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=f"• “{safe(step, 300)}”")))
        blocks.append(ActionsBlock(block_id=f"home_step_{answer_id}", elements=step_buttons(answer_id)))
    return blocks
