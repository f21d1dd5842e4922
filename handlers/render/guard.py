"""Block Kit for the drift guard's messages: the ad-hoc question DM, the held reply, drift warnings.

User text (questions, rewrites) is always escaped; rep and manager IDs come from the database and
are rendered as mentions. Every message has a top-level `text` and metadata.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from coaching.drift import SignalReading
from coaching.warnings_text import warning_message
from handlers.render import message, metadata
from handlers.render.checkin import ANSWER, SKIP
from handlers.text import escape, mention, safe
from handlers.text import quote as quote_text

USE_SUGGESTION, SEND_ANYWAY, CANCEL = "ask_use_suggestion", "ask_send_anyway", "ask_cancel"
CADENCE_HINT, SHOW_HEALTH = "guard_cadence_hint", "guard_show_health"
MANAGER_QUESTION = "manager_question"
MAX_WARNING_ITEMS = 8  # per DM; the health report has the rest
_LABELS = {"status_demand": "a status demand", "blame": "blame", "directive": "a directive"}
_SLACK_TOKEN = re.compile(r"<([@#!][^<>]*|(?:https?|mailto):[^<>]*)>")
_REP = "@@rep@@"  # stands in for the rep in warning text until the text is escaped


def plain_from_slack(text: str) -> str:
    """The question as the manager typed it: Slack's mention, channel and link tokens made readable.

    The parser has already decoded `&amp;`, `&lt;` and `&gt;`; what is left in angle brackets is
    Slack's own markup. Stored plain, it is classified as written and escaped whenever shown back.
    """

    def token(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        label = label.lstrip("@")
        if target[:1] in ("@", "!"):
            return "@" + (label or target[1:].split("^")[0])
        if target[:1] == "#":
            return "#" + (label or target[1:])
        return f"{label} ({target})" if label and label != target else target

    return _SLACK_TOKEN.sub(token, text)


def quote(text: str, limit: int = 1500) -> str:
    return quote_text(text, limit)


# ---- The question, as the rep sees it --------------------------------------------------------------

def question_dm(checkin_id: int, rep: str, manager: str, question: str) -> dict[str, Any]:
    blocks: list[Block] = [
        SectionBlock(text=MarkdownTextObject(text=f"{mention(manager)} asked you a question:\n{quote(question)}")),
        ContextBlock(elements=[MarkdownTextObject(
            text="Reply in this DM or tap *Answer*. A sentence or two is plenty; skipping is fine too.")]),
        ActionsBlock(block_id=f"checkin_actions_{checkin_id}", elements=[
            ButtonElement(text="Answer", action_id=ANSWER, value=str(checkin_id), style="primary"),
            ButtonElement(text="Skip this one", action_id=SKIP, value=str(checkin_id)),
        ]),
    ]
    return message(rep, f"A question from your manager: {safe(question, 300)}", blocks,
                   metadata(MANAGER_QUESTION, checkin_id=checkin_id, rep=rep, manager=manager))


# ---- The held reply, as the manager sees it ---------------------------------------------------------

@dataclass(frozen=True)
class Held:
    question_id: int
    rep: str
    text: str
    label: str
    suggestion: str | None
    reasons: tuple[str, ...]  # the classifier's reasons
    hold_reasons: tuple[str, ...]  # tone | budget | paused
    touches: int
    limit: int
    cadence: str
    paused_until: str | None


def _cues(label: str, reasons: tuple[str, ...]) -> str:
    # Reasons read "<label>: <phrase>"; the phrases already carry their own quotes where they quote.
    prefix = f"{label}: "
    return ", ".join(escape(r[len(prefix):]) for r in dict.fromkeys(reasons) if r.startswith(prefix))


def held_reply(held: Held) -> tuple[str, list[Block]]:
    rep = mention(held.rep)
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(
        text=f"*Not sent yet.* Your question to {rep}:\n{quote(held.text)}"))]
    why: list[str] = []
    if "tone" in held.hold_reasons:
        cues = _cues(held.label, held.reasons)
        line = f"It reads as *{_LABELS.get(held.label, held.label)}*" + (f" (from {cues})" if cues else "") + "."
        if held.suggestion:
            line += f" A coaching version:\n{quote(held.suggestion)}"
        why.append(line)
    if "budget" in held.hold_reasons:
        why.append(f"{rep} has had *{held.touches}* check-ins and questions in the last 7 days; "
                   f"this would make {held.touches + 1}, past the limit of {held.limit}. "
                   f"Agreed cadence: {escape(held.cadence)}.")
    if "paused" in held.hold_reasons and held.paused_until:
        why.append(f"{rep} has paused check-ins until {held.paused_until}.")
    blocks += [SectionBlock(text=MarkdownTextObject(text=line)) for line in why]
    rewrite = "tone" in held.hold_reasons and held.suggestion
    value = str(held.question_id)
    blocks.append(ActionsBlock(block_id=f"ask_actions_{held.question_id}", elements=[
        ButtonElement(text="Send the coaching version" if rewrite else "Wait for the next check-in",
                      action_id=USE_SUGGESTION, value=value, style="primary"),
        ButtonElement(text="Send mine anyway", action_id=SEND_ANYWAY, value=value),
        ButtonElement(text="Don't send", action_id=CANCEL, value=value),
    ]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Only you can see this. Open, goal-focused questions build ownership; "
             "every choice here is recorded for your own health report.")]))
    return f"Not sent yet: your question to {rep} is on hold.", blocks


def resolved(text: str) -> list[Block]:
    """What the held reply becomes once the manager has chosen (no buttons left to click twice)."""
    return [SectionBlock(text=MarkdownTextObject(text=text))]


def sent_note(rep: str, question: str, hint: str | None = None, waiting: str = "") -> str:
    """What the manager is told: a private tone `hint` for a question sent unheld, and `waiting`,
    when it lands if it is held for the rep's hours."""
    if waiting:
        note = f"Your question to {mention(rep)}:\n{quote(question)}\n{waiting.strip()}"
    else:
        note = f"Sent to {mention(rep)}:\n{quote(question)}\nThey can answer it like any check-in."
    return f"{note}\n{hint}" if hint else note


def tone_hint(label: str, phrases: tuple[str, ...], suggestion: str | None) -> str:
    """A gentle, private note for a question that may read as pressure (not sure enough to hold)."""
    cues = ", ".join(escape(p) for p in phrases)
    line = (f"_Only you can see this:_ it might read as {_LABELS.get(label, label)}"
            + (f" (from {cues})" if cues else "") + ". It was sent as written and doesn't count against you.")
    if suggestion:
        line += f" Next time, an open version could be:\n{quote(suggestion)}"
    return line


# ---- Drift warnings, to the manager only ------------------------------------------------------------

def _fill(text: str, rep: str) -> str:
    return escape(text).replace(_REP, mention(rep))


def warning_dm(manager: str, kind: str, items: list[tuple[str, SignalReading]]) -> dict[str, Any]:
    """One private DM covering every rep and signal due; `kind` is the metadata event type."""
    shown = items[:MAX_WARNING_ITEMS]
    intro = ("*A gentle nudge, just for you.*" if kind == "contact_gap"
             else "*A private note on your check-ins, just for you.*")
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=intro))]
    for i, (rep, reading) in enumerate(shown):
        w = warning_message(reading, _REP)
        blocks.append(SectionBlock(text=MarkdownTextObject(text="\n".join((
            f"*{_fill(w.title, rep)}*",
            f"*Observed:* {_fill(w.observed, rep)}",
            f"*Agreed:* {_fill(w.agreed, rep)}",
            f"*Why it matters:* {_fill(w.why, rep)}",
            f"*Try this:* {_fill(w.suggestion, rep)}",
        )))))
        blocks.append(ActionsBlock(block_id=f"guard_warning_{i}", elements=[
            ButtonElement(text="Change the cadence", action_id=CADENCE_HINT, value=rep),
            ButtonElement(text="See my health report", action_id=SHOW_HEALTH, value=rep),
        ]))
    if len(items) > len(shown):
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"…and {len(items) - len(shown)} more. `/checkin health` shows everything.")]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Your reps never see this. You'll hear about each signal at most once a cooldown period.")]))
    first_rep, first = items[0]
    text = _fill(warning_message(first, _REP).title, first_rep)
    if len(items) > 1:
        text += f" (and {len(items) - 1} more)"
    reps = list(dict.fromkeys(rep for rep, _ in items))
    signals = list(dict.fromkeys(reading.signal for _, reading in items))
    return message(manager, text, blocks, metadata(kind, manager=manager, rep=reps[0], reps=reps, signals=signals))


def cadence_hint(rep: str, rep_name: str | None, every: str, day: str, time: str) -> str:
    # Inside a code span a backtick would end it early.
    handle = f"@{rep_name.replace('`', chr(39))}" if rep_name else "@rep"
    return (f"To propose a different cadence for {mention(rep)}, run:\n"
            f"`/checkin cadence {escape(handle)} {every} {day} {time}`\n"
            "(every: `day`, `week`, `2 weeks` or `month`; day and time are optional.) "
            f"It takes effect only when {mention(rep)} accepts.")
