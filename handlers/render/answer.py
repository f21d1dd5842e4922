"""The answer modal: a multiline answer, optional 1–5 confidence, optional "I'd like help"."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from storage.checkins import MAX_ANSWER_CHARS

CALLBACK = "checkin_answer_submit"
ANSWER_BLOCK, ANSWER_INPUT = "answer", "answer_text"
CONFIDENCE_BLOCK, CONFIDENCE_INPUT = "confidence", "confidence_value"
HELP_BLOCK, HELP_INPUT = "help", "help_wanted"


def answer_modal(checkin_id: int, question: str, text: str | None = None, confidence: int | None = None,
                 help_wanted: bool = False) -> View:
    levels = [Option(value=str(n), text=label) for n, label in (
        (1, "1 – not confident"), (2, "2"), (3, "3 – somewhat"), (4, "4"), (5, "5 – very confident"))]
    initial_level = next((o for o in levels if o.value == str(confidence)), None)
    help_option = Option(value="yes", text="I'd like help with this")
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=question)),
        InputBlock(block_id=ANSWER_BLOCK, label="Your answer",
                   element=PlainTextInputElement(action_id=ANSWER_INPUT, multiline=True,
                                                 max_length=MAX_ANSWER_CHARS, initial_value=text or None)),
        InputBlock(block_id=CONFIDENCE_BLOCK, label="How confident do you feel? (optional)", optional=True,
                   element=StaticSelectElement(action_id=CONFIDENCE_INPUT, placeholder="Choose 1–5",
                                               options=levels, initial_option=initial_level)),
        InputBlock(block_id=HELP_BLOCK, label="Help", optional=True,
                   element=CheckboxesElement(action_id=HELP_INPUT, options=[help_option],
                                             initial_options=[help_option] if help_wanted else None)),
    ]
    return View(type="modal", callback_id=CALLBACK, title="Check-in", submit="Save", close="Cancel",
                private_metadata=str(checkin_id), blocks=blocks)


def read_answer(values: dict[str, Any]) -> tuple[str, int | None, bool]:
    text = ((values.get(ANSWER_BLOCK) or {}).get(ANSWER_INPUT) or {}).get("value") or ""
    selected = ((values.get(CONFIDENCE_BLOCK) or {}).get(CONFIDENCE_INPUT) or {}).get("selected_option")
    confidence = int(selected["value"]) if selected and str(selected.get("value", "")).isdigit() else None
    chosen = ((values.get(HELP_BLOCK) or {}).get(HELP_INPUT) or {}).get("selected_options") or []
    return text, confidence, any(o.get("value") == "yes" for o in chosen)
