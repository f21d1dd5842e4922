"""The check-in DM and its follow-ups (reminder, thank-you)."""

from __future__ import annotations

from functools import cache
from typing import Any, TypeVar

from slack_sdk.models.basic_objects import JsonObject
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    Option,
    PlainTextObject,
    SectionBlock,
    StaticSelectElement,
)

from coaching.prompts import NO_GOAL_PROMPT, render_prompt
from handlers.render import message, metadata
from handlers.render.help import HELP_ASK, STEP_DROP
from handlers.text import excerpt, quote_goal, safe

ANSWER, SKIP, SNOOZE, PICK_GOAL, ADD_GOAL = (
    "checkin_answer", "checkin_skip", "checkin_snooze", "checkin_pick_goal", "goal_add_open")

_Part = TypeVar("_Part", bound=JsonObject)


def rendered_once(part: _Part) -> _Part:
    """Validate and serialise a constant part of every check-in once, not on each of thousands of posts.

    slack_sdk re-validates every object on each `to_dict()` (about 20 µs apiece); these never change.
    Only for module-level constants that nothing mutates: the dict is shared by every message.
    """
    as_dict = part.to_dict()
    part.to_dict = lambda *_: as_dict  # type: ignore[method-assign]
    return part


def _label(text: str) -> PlainTextObject:
    return rendered_once(PlainTextObject(text=text, emoji=True))


_ANSWER, _SKIP, _SNOOZE, _ADD_GOAL = (_label("Answer"), _label("Skip this one"), _label("Snooze 2h"),
                                      _label("Add a goal"))
_HELP = _label("I'd like help")
_PICKER_PLACEHOLDER = _label("Talk about another goal")
# The same under every check-in question.
_CHECKIN_HINT = rendered_once(ContextBlock(elements=[MarkdownTextObject(
    text="Reply in this DM or tap *Answer*. A sentence or two is plenty; skipping is always fine.")]))


def prompt_text(template: str | None, goal_text: str | None) -> str:
    if goal_text is None or template is None:
        return NO_GOAL_PROMPT
    return render_prompt(template, quote_goal(goal_text))


def plain_prompt(template: str | None, goal_text: str | None) -> str:
    """The same question without mrkdwn, for notification text."""
    if goal_text is None or template is None:
        return NO_GOAL_PROMPT.replace("`", "")
    # The fallback `text` is mrkdwn too: a goal typed as `<!channel>` must not become live there.
    return render_prompt(template, safe(goal_text, 1500))


# Where a check-in's id goes in a part built and validated once (ids are digits only, so filling
# the slot can't take a validated field past its length limit).
_SLOT = "\x00id\x00"
_MAX_ID_DIGITS = 20


@cache
def _buttons_shape(with_goal: bool) -> dict[str, Any]:
    """The buttons under every check-in, built with slack_sdk's models and serialised once, with
    _SLOT for the id. Validating five objects on each of thousands of posts cost more CPU than the
    post; only the id differs between check-ins."""
    elements = [
        ButtonElement(text=_ANSWER, action_id=ANSWER, value=_SLOT, style="primary"),
        ButtonElement(text=_SKIP, action_id=SKIP, value=_SLOT),
        ButtonElement(text=_SNOOZE, action_id=SNOOZE, value=_SLOT),
        ButtonElement(text=_HELP, action_id=HELP_ASK, value=_SLOT),  # help from the DM, not only the form
    ]
    if not with_goal:
        elements.append(ButtonElement(text=_ADD_GOAL, action_id=ADD_GOAL, value=_SLOT))
    return ActionsBlock(block_id=f"checkin_actions_{_SLOT}", elements=elements).to_dict()


def _filled(shape: Any, value: str) -> Any:
    """A copy of a shape with its slots filled (the shape itself is shared: never mutated)."""
    if isinstance(shape, str):
        return shape.replace(_SLOT, value)
    if isinstance(shape, dict):
        return {key: _filled(item, value) for key, item in shape.items()}
    if isinstance(shape, list):
        return [_filled(item, value) for item in shape]
    return shape


def buttons(checkin_id: int, with_goal: bool) -> list[dict[str, Any]]:
    value = str(checkin_id)
    if not value.isdigit() or len(value) > _MAX_ID_DIGITS:
        raise ValueError(f"not a check-in id: {checkin_id!r}")
    return [_filled(_buttons_shape(with_goal), value)]


def goal_picker(checkin_id: int, goals: list[tuple[int, str]], current: int | None) -> list[Block]:
    others = [(gid, text) for gid, text in goals if gid != current]
    if not others:
        return []
    options = [Option(value=f"{checkin_id}:{gid}", text=excerpt(text, 75)) for gid, text in others[:100]]
    return [ActionsBlock(block_id=f"checkin_pick_{checkin_id}", elements=[
        StaticSelectElement(action_id=PICK_GOAL, placeholder=_PICKER_PLACEHOLDER, options=options)])]


def checkin_prompt(checkin_id: int, rep_id: str, goal: tuple[int, str] | None, template: str | None,
                   other_goals: list[tuple[int, str]], channel: str | None = None,
                   step_answer: int | None = None) -> dict[str, Any]:
    """The check-in DM. `step_answer`: the earlier answer whose next step the question quotes,
    which the rep may drop (the question then becomes an ordinary open one)."""
    goal_id, goal_text = goal if goal else (None, None)
    question = prompt_text(template, goal_text)
    blocks: list[Block | dict[str, Any]] = [SectionBlock(text=MarkdownTextObject(text=question))]
    blocks.append(_CHECKIN_HINT)
    blocks += buttons(checkin_id, with_goal=goal is not None)
    if step_answer is not None:
        blocks.append(ActionsBlock(block_id=f"checkin_step_{checkin_id}", elements=[
            ButtonElement(text="Drop this step", action_id=STEP_DROP, value=str(step_answer))]))
    blocks += goal_picker(checkin_id, other_goals, goal_id)
    return message(channel or rep_id, f"Check-in: {plain_prompt(template, goal_text)}", blocks,
                   metadata("checkin_prompt", checkin_id=checkin_id, rep=rep_id, goal_id=goal_id))


def reminder(checkin_id: int, rep_id: str, goal_id: int | None, channel: str, thread_ts: str | None) -> dict[str, Any]:
    text = ("A gentle nudge: your check-in is still open whenever you have a minute. "
            "Skipping is fine too.")
    blocks: list[Block | dict[str, Any]] = [SectionBlock(text=MarkdownTextObject(text=text)), *buttons(checkin_id, True)]
    extra = {"thread_ts": thread_ts} if thread_ts else {}
    return message(channel, text, blocks,
                   metadata("checkin_reminder", checkin_id=checkin_id, rep=rep_id, goal_id=goal_id), **extra)


def closed_blocks(question: str, note: str) -> list[Block]:
    """What the original check-in message becomes once answered, skipped or snoozed (no buttons)."""
    return [SectionBlock(text=MarkdownTextObject(text=question)),
            ContextBlock(elements=[MarkdownTextObject(text=note)])]
