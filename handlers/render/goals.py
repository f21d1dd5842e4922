"""The goals modal: edit text in place, move up/down, archive, add one more."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from storage.goals import MAX_ACTIVE_GOALS, MAX_GOAL_CHARS

CALLBACK = "goals_edit"
NEW_GOAL_BLOCK = "goal_new"
GOAL_INPUT = "goal_text"
UP, DOWN, ARCHIVE = "goal_up", "goal_down", "goal_archive"


def goal_block_id(goal_id: int) -> str:
    return f"goal_{goal_id}"


def goals_modal(goals: list[tuple[int, str]], notice: str | None = None) -> View:
    blocks: list[Block] = []
    if notice:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=notice)]))
    if not goals:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="You have no goals yet. Add one below: something you and your manager agree matters.")))
    for index, (goal_id, text) in enumerate(goals):
        blocks.append(InputBlock(
            block_id=goal_block_id(goal_id), label=f"Goal {index + 1}",
            element=PlainTextInputElement(action_id=GOAL_INPUT, initial_value=text, max_length=MAX_GOAL_CHARS),
        ))
        controls = []
        if index > 0:
            controls.append(ButtonElement(text="Move up", action_id=UP, value=str(goal_id)))
        if index < len(goals) - 1:
            controls.append(ButtonElement(text="Move down", action_id=DOWN, value=str(goal_id)))
        controls.append(ButtonElement(text="Archive", action_id=ARCHIVE, value=str(goal_id), style="danger"))
        blocks.append(ActionsBlock(block_id=f"goal_controls_{goal_id}", elements=controls))
    if len(goals) < MAX_ACTIVE_GOALS:
        blocks.append(InputBlock(
            block_id=NEW_GOAL_BLOCK, label="Add a goal", optional=True,
            element=PlainTextInputElement(action_id=GOAL_INPUT, max_length=MAX_GOAL_CHARS,
                                          placeholder="e.g. Move the Acme renewal to a signed order form"),
        ))
    else:
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"You have {MAX_ACTIVE_GOALS} active goals, the most I keep; archive one to add another.")]))
    return View(type="modal", callback_id=CALLBACK, title="Your goals", submit="Save", close="Cancel",
                blocks=blocks)


def edited_texts(state_values: dict[str, Any]) -> tuple[dict[int, str], str | None]:
    """Goal texts and the optional new goal from a submitted (or in-progress) goals modal."""
    edits: dict[int, str] = {}
    new: str | None = None
    for block_id, actions in state_values.items():
        value = (actions.get(GOAL_INPUT) or {}).get("value")
        if block_id == NEW_GOAL_BLOCK:
            new = value.strip() if value and value.strip() else None
        elif block_id.startswith("goal_") and block_id[5:].isdigit():
            edits[int(block_id[5:])] = value or ""
    return edits, new
