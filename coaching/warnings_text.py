"""Plain-text wording for drift warnings and the manager's health report.

Specific and kind: what was observed, against what was agreed, why it matters, and one concrete
next step. No Slack markup here; the caller escapes ``rep_display`` and renders the blocks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

from coaching.drift_model import SIGNALS, Signal, SignalReading

FULL_BLOCK = "▇"
EMPTY_BLOCK = "▁"


@dataclass(frozen=True)
class WarningText:
    title: str
    observed: str
    agreed: str
    why: str
    suggestion: str


_TITLES: dict[Signal, str] = {
    "frequency": "Check-ins with {rep} are running above the agreed rhythm",
    "tone": "Your recent questions to {rep} lean towards status checks",
    "coverage": "Check-ins with {rep} are covering every goal each time",
    "feedback": "{rep}'s answers are mostly going without a reply",
    "fatigue": "{rep} may be tiring of the current check-ins",
    "contact_gap": "It has been a while since {rep} had a check-in",
}

_WHY: dict[Signal, str] = {
    "frequency": (
        "Frequent status checks can read as distrust; selective, goal-focused check-ins at the "
        "agreed rhythm tend to build ownership."
    ),
    "tone": (
        'Questions like "Why did you...?" or "You need to..." put people on the defensive; '
        "open questions about a shared goal invite them to think and own the answer."
    ),
    "coverage": (
        "Inspecting every goal every time signals doubt; going deep on one goal the rep cares about "
        "is attention to detail without hovering."
    ),
    "feedback": (
        "Asking without ever responding turns check-ins into reporting; a short note back shows the "
        "answers are read and valued."
    ),
    "fatigue": (
        "Skipped check-ins and slower replies often mean the rhythm feels like pressure rather than support."
    ),
    "contact_gap": (
        "Long silences can feel like neglect; a light, regular touch on a shared goal keeps support "
        "within reach without hovering."
    ),
}

_SUGGESTIONS: dict[Signal, str] = {
    "frequency": (
        "Save non-urgent questions for {rep}'s next scheduled check-in, or propose a different "
        "cadence with /checkin cadence and let {rep} accept it."
    ),
    "tone": (
        "Make your next question to {rep} open and goal-focused, for example: "
        '"What would help you move this goal forward this week?"'
    ),
    "coverage": (
        "In the next check-in, pick the one goal that matters most to {rep} right now and ask how "
        "you can help with it."
    ),
    "feedback": ("Reply to {rep}'s latest answer with one line: something you noticed, or a thank-you."),
    "fatigue": (
        "Ask {rep} whether the current rhythm still works for them, and offer a lighter cadence "
        "if it does not."
    ),
    "contact_gap": (
        "Send {rep} one open question about a goal they own, or check that the agreed cadence still fits."
    ),
}

_GOOD_LOOKS_LIKE: dict[Signal, str] = {
    "frequency": "Contact stays at the rhythm you and the rep agreed; ad-hoc questions are kept for what cannot wait.",
    "tone": 'Most questions are open and goal-focused ("What would help?") rather than "Why didn\'t you...?".',
    "coverage": "Each check-in goes deep on one or two goals the rep chose, not a sweep of everything.",
    "feedback": "Most answers get a thank-you or a short note back.",
    "fatigue": "Check-ins are answered, rarely skipped, and reply times stay steady.",
    "contact_gap": "A light, regular touch: no weeks of silence unless the rep has paused check-ins.",
}


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def _known(signal: str) -> Signal:
    if signal not in SIGNALS:
        raise ValueError(f"unknown drift signal: {signal!r}")
    return cast(Signal, signal)


def warning_message(reading: SignalReading, rep_display: str) -> WarningText:
    """The private warning to a manager about one breached signal for one rep."""
    signal = _known(reading.signal)
    rep = rep_display.strip() or "your rep"
    return WarningText(
        title=_TITLES[signal].format(rep=rep),
        observed=_sentence(reading.observed),
        agreed=_sentence(reading.agreed),
        why=_WHY[signal],
        suggestion=_SUGGESTIONS[signal].format(rep=rep),
    )


def good_looks_like(signal: Signal) -> str:
    """One sentence describing the healthy version of a signal, for the health report."""
    return _GOOD_LOOKS_LIKE[_known(signal)]


def bar(value: float, threshold: float, width: int = 10) -> str:
    """A text bar of ``value`` against ``threshold``: full at or past the threshold.

    ``bar(0.2, 0.5)`` -> "▇▇▇▇▁▁▁▁▁▁".
    """
    if width < 1:
        raise ValueError(f"width must be at least 1, got {width}")
    if math.isnan(value) or value <= 0:
        ratio = 0.0
    elif threshold <= 0:
        ratio = 1.0
    else:
        ratio = min(1.0, value / threshold)
    filled = int(ratio * width + 0.5)  # round half up; round() would round 4.5 down to 4
    return FULL_BLOCK * filled + EMPTY_BLOCK * (width - filled)
