"""Built-in library of open, goal-linked coaching prompts, and the checks custom prompts must pass.

Each template holds ``{goal}`` exactly once. Callers substitute the goal text themselves, already
escaped for mrkdwn and wrapped in ``*…*`` for the DM, or plain for notification text; rendering is a
literal replacement, so braces inside a goal can never break a template.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from math import gcd

from coaching.tone import classify

GOAL = "{goal}"

# Open questions about progress, learning, obstacles and support; none asks for a status report.
# Every one must classify as "coaching" (checked by validate_prompts at config load and in the tests).
PROMPTS: tuple[str, ...] = (
    "What would most help you move {goal} forward this week?",
    "What's one small step you could take on {goal} before we next talk?",
    "What have you learned while working on {goal} so far?",
    "What's getting in the way of {goal}, and how could I help?",
    "What's gone well with {goal} since we last talked?",
    "If you could change one thing about how {goal} is going, what would it be?",
    "What support would make {goal} feel easier right now?",
    "Where do you feel stuck on {goal}, if anywhere?",
    "What would success on {goal} look like a month from now?",
    "What's one experiment you'd like to try for {goal}?",
    "Who could help you with {goal}, and how can I make that easier?",
    "What are you most proud of in your work on {goal} lately?",
    "What did you notice recently that could help with {goal}?",
    "What would you do differently on {goal} if you were starting fresh?",
    "What's your next step on {goal}, and what would make it easier?",
    "How confident are you feeling about {goal}, and what would raise that?",
    "What resources or skills would help you most with {goal}?",
    "What's one thing I could take off your plate to free up time for {goal}?",
    "What surprised you recently while working on {goal}?",
    "What options are you weighing for {goal}?",
    "What would make working on {goal} more energizing for you?",
    "What's on your mind about {goal} at the moment?",
    "What has a recent conversation taught you about {goal}?",
    "How might we make your progress on {goal} easier to sustain?",
    "What's one win, however small, on {goal} that you'd like to share?",
    "What would you like to try next on {goal}, and how can I support you?",
    "What part of {goal} feels hardest at the moment, and what would help?",
    "What would it take for {goal} to feel like real progress to you?",
)

NO_GOAL_PROMPT = (
    "What's one thing you'd like to achieve or get better at over the next few weeks? "
    "When you're ready, you can add it as a goal with `/checkin goal add` and I'll check in with you "
    "about it, at your pace."
)

# Neutral stand-in for the goal while classifying a template: it carries no tone of its own.
_SAMPLE_GOAL = "*this goal*"
_EXAMPLE = "What would most help you move {goal} forward?"


def all_prompts(custom: Sequence[str]) -> tuple[str, ...]:
    """The built-in library followed by the admin's custom prompts."""
    return (*PROMPTS, *custom)


def render_prompt(template: str, goal: str) -> str:
    """Put ``goal`` (already escaped and formatted by the caller) into ``template``."""
    return template.replace(GOAL, goal)


def choose_prompt(rep_key: str, sequence: int, templates: Sequence[str] = PROMPTS) -> str:
    """Pick the template for a rep's ``sequence``-th check-in.

    Deterministic: each rep walks the library with their own start and stride (derived from a stable
    CRC of ``rep_key``, not ``hash()``, which changes per process). The stride is coprime with the
    library size, so consecutive check-ins never repeat a prompt and every prompt comes round once
    per cycle.
    """
    unique = list(dict.fromkeys(templates))  # a custom prompt equal to a built-in must not repeat
    if not unique:
        raise ValueError("no prompt templates to choose from")
    size = len(unique)
    if size == 1:
        return unique[0]
    seed = zlib.crc32(rep_key.encode("utf-8"))
    start = seed % size
    stride = 1 + (seed // size) % (size - 1)  # 1..size-1
    while gcd(stride, size) != 1:
        stride = stride % (size - 1) + 1
    return unique[(start + sequence * stride) % size]


def validate_prompts(templates: Iterable[object]) -> list[str]:
    """Return one message per template that lacks ``{goal}`` or does not read as coaching."""
    problems: list[str] = []
    for number, template in enumerate(templates, start=1):
        if not isinstance(template, str) or not template.strip():
            problems.append(f"prompt {number} must be non-empty text containing {GOAL}")
            continue
        shown = template if len(template) <= 80 else template[:77] + "..."
        count = template.count(GOAL)
        if count != 1:
            what = f"does not contain {GOAL}" if count == 0 else f"contains {GOAL} {count} times"
            problems.append(f'prompt {number} "{shown}" {what}; it needs it exactly once')
            continue
        result = classify(render_prompt(template, _SAMPLE_GOAL))
        if result.label != "coaching":
            why = ", ".join(result.phrases) or "its wording"
            problems.append(
                f'prompt {number} "{shown}" reads as {result.label.replace("_", " ")} (from {why}); '
                f'ask an open question instead, e.g. "{_EXAMPLE}"'
            )
    return problems


# ---- Carry-forward (issue 13): the next check-in on a goal asks how the rep's own next step went ----

STEP = "{step}"
# Still one open question each; the rep's step is quoted, never turned into a demand for status.
CARRY_PROMPTS: tuple[str, ...] = (
    "Last time you named “{step}” as your next step on {goal}. How did it go?",
    "You mentioned “{step}” as your next step on {goal}. How did it go?",
)


def carry_prompt(rep_key: str, sequence: int, step: str) -> str:
    """A check-in template (holding ``{goal}`` once) that quotes the rep's step, already escaped.

    The step is the rep's own text, escaped by the caller; braces in it are neutralised so it can
    never act as the ``{goal}`` slot.
    """
    safe_step = step.replace("{", "(").replace("}", ")").replace("“", '"').replace("”", '"')
    return choose_prompt(rep_key, sequence, CARRY_PROMPTS).replace(STEP, safe_step)
