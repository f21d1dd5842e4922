"""Reading a rep's own words for what the conversation should carry on with. Pure.

Two cues, both deliberately conservative (a missed cue costs a button click; a wrong one puts words
in the rep's mouth): a request for help ("I'm blocked on the legal review", "could use a hand") and
a next step the rep named ("I'll call their CFO on Tuesday", "next step: send the revised quote").
A cue negated in its own clause ("no help needed", "not blocked", "I won't call them") is no cue.
Each returns the rep's own words for it, to quote back, or None.

Also the working-day arithmetic of the help nudge: when a request left unanswered is due one.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from coaching.cadence import Cadence, is_allowed_day

MAX_CUE_CHARS = 200

# Clauses end at sentence punctuation, a semicolon or a line break; "but" starts a new one too, so
# "not blocked, but I could use a hand with pricing" is read clause by clause.
_CLAUSES = re.compile(r"[.!?;\n]+|\s+but\s+|,\s*(?:though|however)\b", re.IGNORECASE)
_NEGATION = re.compile(
    r"\b(?:no|not|never|nothing|without|none|hardly|n't|dont|doesnt|isnt|arent|wont|unblocked|"
    r"no\s+longer|any\s+more|anymore)\b|n't\b", re.IGNORECASE)

_HELP = re.compile(r"""
    \b(?:
        (?:i'?m|i\s+am|we're|we\s+are|i\s+feel|i've\s+been|been|still|currently|getting|got)\s+
            (?:\w+\s+)?(?:blocked|stuck)\b
      | (?:blocked|stuck)\s+(?:on|by|with|behind)\b
      | (?:could|can|would)\s+(?:really\s+)?use\s+(?:a\s+hand|some\s+help|help|your\s+help|support|some\s+support|advice)
      | (?:i|we)(?:\s+(?:really\s+)?(?:need|want|would\s+like|would\s+love|could\s+do\s+with)|'d\s+(?:like|love))\s+
            (?:some\s+|a\s+bit\s+of\s+|your\s+|a\s+little\s+)?(?:help|a\s+hand|support|advice|input)
      | (?:need|needs)\s+(?:some\s+|a\s+bit\s+of\s+|your\s+)?(?:help|a\s+hand)\s+(?:with|on|from|getting|to)\b
      | (?:can|could)\s+you\s+help\b
      | (?:any|some)\s+help\s+(?:with|on)\b\s*\S*
      | help\s+(?:needed|wanted|please)\b
    )""", re.IGNORECASE | re.VERBOSE)

# A first-person plan: "I'll call", "I'm going to book", "we plan to send", "next step: send …".
_STEP_LEAD = re.compile(r"""
    (?:^|\b)(?:
        (?:my\s+|our\s+|the\s+)?next\s+steps?\s*(?:is\s+to|is|are|will\s+be|:|-|–)\s*
      | (?:the\s+)?plan\s+is\s+to\s+
      | (?:i|we)\s*(?:'ll|will|shall)\s+(?:then\s+|also\s+|probably\s+|try\s+to\s+)?
      | (?:i'?m|i\s+am|we'?re|we\s+are)\s+(?:going\s+to|gonna|planning\s+to|about\s+to|aiming\s+to)\s+
      | (?:i|we)\s+(?:plan|intend|aim|want|hope|need)\s+to\s+
      | ^(?:going\s+to|gonna|planning\s+to|will)\s+
      | (?:tomorrow|next\s+week|this\s+week|on\s+\w+day)\s*,?\s*(?:i|we)\s*(?:'ll|will)\s+
    )""", re.IGNORECASE | re.VERBOSE)
# What follows "I'll" without being a step: asides and hedges, not something to ask about later.
_NOT_A_STEP = re.compile(
    r"^(?:be\s+(?:honest|frank|brief|quick|fine|ok|okay|there|around|out|away|off|back|on\s+leave)\b|admit|say|"
    r"guess|bet|let\s+you\s+know|keep\s+you\s+(?:posted|updated)|see\b|think|have\s+a\s+think|"
    r"update\s+you|tell\s+you|get\s+back\s+to\s+you|need\s+to\s+think|be\s+\w+ed\b|wait\b)",
    re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]")
# "I was stuck on pricing" is news, not a request.
_PAST = re.compile(r"\b(?:was|were|had\s+been|used\s+to)\b", re.IGNORECASE)


def _clauses(text: str) -> list[str]:
    normalised = text.replace("’", "'").replace("‘", "'")
    return [c.strip(" \t,-–—") for c in _CLAUSES.split(normalised) if c and c.strip()]


def _negated(clause: str, start: int) -> bool:
    """A negation before the end of the cue, in its clause ("not blocked", "don't need help"), or
    straight after it ("no help needed", "help needed? not really")."""
    before = clause[:start]
    return bool(_NEGATION.search(before)) or bool(re.match(r"\W*(?:not|no)\b", clause[start:], re.IGNORECASE))


def _trim(words: str) -> str:
    words = " ".join(words.split()).strip(" \t,:;-–—\"'“”")
    if len(words) <= MAX_CUE_CHARS:
        return words
    return words[: MAX_CUE_CHARS - 1].rstrip() + "…"


def help_request(text: str) -> str | None:
    """The clause in which the rep asks for help (their words), or None.

    >>> help_request("I'm blocked on the legal review.")
    "I'm blocked on the legal review"
    >>> help_request("Going well, no help needed") is None
    True
    """
    clauses = _clauses(text)
    for index, clause in enumerate(clauses):
        found = _HELP.search(clause)
        if found is None or _negated(clause, found.end()) or _PAST.search(clause[:found.start()]):
            continue
        following = clauses[index + 1] if index + 1 < len(clauses) else ""
        if clause[found.end():].strip() == "" and re.match(r"(?:not|no|nope)\b", following, re.IGNORECASE):
            continue  # "Help needed? Not really."
        return _trim(clause)
    return None


def next_step(text: str) -> str | None:
    """The step the rep said they would take next (their words, from the verb on), or None.

    >>> next_step("Good call today. I'll call their CFO on Tuesday.")
    'call their CFO on Tuesday'
    >>> next_step("I won't call them until the quote is ready") is None
    True
    """
    for clause in _clauses(text):
        for found in _STEP_LEAD.finditer(clause):
            rest = clause[found.end():]
            if not _WORD.search(rest) or _NOT_A_STEP.match(rest.strip()):
                continue
            if _negated(clause, found.start()) or re.match(r"\s*(?:not|never)\b", rest, re.IGNORECASE):
                continue
            step = _trim(rest)
            if len(step.split()) >= 2:  # "I'll try." is a hope, not a step to ask about
                return step
    return None


def help_nudge_due(asked_at: datetime, working_days: int, cadence: Cadence, zone: ZoneInfo) -> datetime:
    """When a help request still unanswered is due a nudge: `working_days` of the manager's working
    days after it was asked, at the same local time (their holidays and days off don't count).

    The nudge itself still waits for their working hours, like every message.
    """
    local = asked_at.astimezone(zone)
    day, left = local.date(), max(0, working_days)
    while left:
        day += timedelta(days=1)
        if is_allowed_day(day, cadence):
            left -= 1
    due = datetime.combine(day, local.time(), tzinfo=zone)
    return max(due.astimezone(asked_at.tzinfo), asked_at)
