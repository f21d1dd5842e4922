"""Time off in App Home: the rep's booked leave with a way to cancel it, and the booking modal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

OPEN, CANCEL, CALLBACK = "home_leave_open", "home_leave_cancel", "leave_book"
FIRST_BLOCK, LAST_BLOCK = "leave_first", "leave_last"
FIRST_ACTION, LAST_ACTION = "leave_first_day", "leave_last_day"


def leave_line(last: dt.date) -> str:
    """What a manager reads next to a rep: the last day off, in the rep's calendar."""
    return f"on leave until {last.isoformat()}"


def rep_leave_blocks(booked: list[tuple[int, dt.date, dt.date]], today: dt.date) -> list[Block]:
    """The rep's current and upcoming leave, each with Cancel (or End now, once begun)."""
    blocks: list[Block] = []
    for leave_id, first, last in booked[:5]:
        started = first <= today
        text = (f"*On leave* until {last.isoformat()} (back {(last + dt.timedelta(days=1)).isoformat()})."
                if started else f"*Leave booked*: {first.isoformat()} to {last.isoformat()}.")
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text), accessory=ButtonElement(
            text="End it now" if started else "Cancel", action_id=CANCEL, value=str(leave_id))))
    return blocks


def open_button() -> ButtonElement:
    return ButtonElement(text="Book time off", action_id=OPEN, value="open")


def leave_modal(today: dt.date) -> View:
    def picker(block: str, action: str, label: str) -> InputBlock:
        return InputBlock(block_id=block, label=PlainTextObject(text=label), element=DatePickerElement(
            action_id=action, initial_date=today.isoformat(), placeholder="Pick a day"))
    return View(type="modal", callback_id=CALLBACK, title="Book time off", submit="Book", close="Cancel",
                blocks=[SectionBlock(text=MarkdownTextObject(
                    text="No check-ins, reminders or messages from me on these days, both included. "
                         "Your manager sees that you're on leave, and until when.")),
                        picker(FIRST_BLOCK, FIRST_ACTION, "First day off"),
                        picker(LAST_BLOCK, LAST_ACTION, "Last day off")])


def read_range(values: dict[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    def one(block: str, action: str) -> dt.date | None:
        raw = ((values.get(block) or {}).get(action) or {}).get("selected_date")
        try:
            return dt.date.fromisoformat(raw) if isinstance(raw, str) else None
        except ValueError:
            return None
    return one(FIRST_BLOCK, FIRST_ACTION), one(LAST_BLOCK, LAST_ACTION)
