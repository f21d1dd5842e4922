"""Parse `/checkin` text (CONTRACT §4 grammar) into a typed command. Pure: no Slack calls.

With `should_escape: true`, Slack sends mentions as `<@U123|name>` or `<@U123>`.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from core.config import WEEKDAYS, parse_hhmm
from handlers.text import escape, unescape

MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
# ASCII digits: \d alone also matches other scripts' digits.
_WEEKS = re.compile(r"^([0-9]{1,2})w$")
_PAUSE = re.compile(r"^([0-9]{1,3})([dw])$")
EVERY_ALIASES = {
    "day": "day", "daily": "day", "days": "day",
    "week": "week", "weekly": "week", "weeks": "week",
    "2 weeks": "2 weeks", "2weeks": "2 weeks", "2w": "2 weeks", "biweekly": "2 weeks", "fortnight": "2 weeks",
    "fortnightly": "2 weeks",
    "month": "month", "monthly": "month",
}
MAX_SUMMARY_WEEKS = 52
MAX_PAUSE_DAYS = 180


class ParseError(ValueError):
    """A polite message for the caller, with the usage line for what they tried."""


@dataclass(frozen=True)
class Command:
    name: str
    text: str = ""
    reps: tuple[str, ...] = ()
    weeks: int = 4
    pause_days: int | None = None
    pause_until: dt.date | None = None
    leave: tuple[dt.date, dt.date] | None = None  # `pause <first> to <last>`: days off, inclusive
    every: str | None = None
    day: str | None = None
    time: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


USAGE = {
    # Shown in mrkdwn, where a bare <...> would be read as a link: hence &lt; and &gt;.
    "goal": "`/checkin goal add &lt;text&gt;`",
    "pause": "`/checkin pause &lt;YYYY-MM-DD | Nd | Nw&gt;`, for example `/checkin pause 2w`, or leave booked "
             "ahead: `/checkin pause 2026-12-21 to 2027-01-04` (`/checkin pause cancel` cancels it)",
    "summary": "`/checkin summary [@rep ...] [Nw] [csv]`, for example `/checkin summary @ana 2w`",
    "ask": "`/checkin ask @rep &lt;question&gt;`",
    "cadence": "`/checkin cadence @rep &lt;day|week|2 weeks|month&gt; [mon..sun] [HH:MM]`",
    "team": "`/checkin team add @rep`",
}
SIMPLE = {"help", "goals", "now", "skip", "resume", "health", "export", "forget"}


def _echo(token: str, limit: int = 40) -> str:
    """A user's word quoted back in mrkdwn: shortened, and unable to mention or link."""
    return escape(unescape(token)[:limit])


def mention_id(token: str) -> str | None:
    match = MENTION.match(token)
    return match.group(1) if match else None


def _leading_mentions(tokens: list[str]) -> tuple[list[str], list[str]]:
    reps: list[str] = []
    while tokens and (rep := mention_id(tokens[0])):
        reps.append(rep)
        tokens = tokens[1:]
    return reps, tokens


def _need_mention(tokens: list[str], usage: str) -> tuple[str, list[str]]:
    if not tokens:
        raise ParseError(f"Please name a rep. Usage: {usage}")
    rep = mention_id(tokens[0])
    if rep is None:
        raise ParseError(f"I couldn't read `{_echo(tokens[0])}` as a person; mention them with @. Usage: {usage}")
    return rep, tokens[1:]


def parse(text: str) -> Command:
    text = " ".join((text or "").split())
    if not text:
        return Command("help")
    tokens = text.split(" ")
    head = tokens[0].lower()
    rest = tokens[1:]
    raw_rest = text[len(tokens[0]):].strip()
    if head in SIMPLE:
        if rest and head not in ("help",):
            raise ParseError(f"`/checkin {head}` takes no extra words. Try `/checkin help`.")
        return Command(head)
    if head == "goal":
        if not rest or rest[0].lower() != "add":
            raise ParseError(f"Usage: {USAGE['goal']}; to see or edit your goals, use `/checkin goals`.")
        goal = raw_rest[len(rest[0]):].strip()
        if not goal:
            raise ParseError(f"Please write the goal after `goal add`. Usage: {USAGE['goal']}")
        return Command("goal_add", text=unescape(goal))
    if head == "pause":
        return _parse_pause(rest)
    if head == "summary":
        return _parse_summary(rest)
    if head == "ask":
        rep, words = _need_mention(rest, USAGE["ask"])
        question = raw_rest[len(rest[0]):].strip()
        if not words or not question:
            raise ParseError(f"Please write the question after the name. Usage: {USAGE['ask']}")
        return Command("ask", reps=(rep,), text=unescape(question))
    if head == "cadence":
        return _parse_cadence(rest)
    if head == "team":
        if not rest or rest[0].lower() != "add":
            raise ParseError(f"Usage: {USAGE['team']}")
        reps, leftover = _leading_mentions(rest[1:])
        if not reps or leftover:
            raise ParseError(f"Please mention each rep with @. Usage: {USAGE['team']}")
        return Command("team_add", reps=tuple(reps))
    raise ParseError(f"I don't know `{_echo(tokens[0])}`. Try `/checkin help` to see what I can do.")


def _parse_pause(rest: list[str]) -> Command:
    if len(rest) == 1 and rest[0].lower() == "cancel":
        return Command("pause_cancel")
    if len(rest) == 3 and rest[1].lower() in ("to", "until", "-"):
        try:
            first, last = dt.date.fromisoformat(rest[0]), dt.date.fromisoformat(rest[2])
        except ValueError:
            raise ParseError("I couldn't read those dates; please write them as YYYY-MM-DD, for example "
                             f"`/checkin pause 2026-12-21 to 2027-01-04`. Usage: {USAGE['pause']}") from None
        return Command("pause", leave=(first, last))
    if len(rest) != 1:
        raise ParseError(f"Usage: {USAGE['pause']}")
    value = rest[0].lower()
    match = _PAUSE.match(value)
    if match:
        days = int(match.group(1)) * (7 if match.group(2) == "w" else 1)
        if not 1 <= days <= MAX_PAUSE_DAYS:
            raise ParseError(f"A pause can last from 1 day to {MAX_PAUSE_DAYS} days. Usage: {USAGE['pause']}")
        return Command("pause", pause_days=days)
    try:
        until = dt.date.fromisoformat(value)
    except ValueError:
        raise ParseError(f"I couldn't read `{_echo(rest[0])}` as a date or length. Usage: {USAGE['pause']}") from None
    return Command("pause", pause_until=until)


def _parse_summary(rest: list[str]) -> Command:
    reps, leftover = _leading_mentions(rest)
    weeks = 4
    # `csv` (the check-ins as a file) may come before or after the period, once.
    as_csv = [w for w in leftover if w.lower() == "csv"]
    leftover = [w for w in leftover if w.lower() != "csv"]
    if len(as_csv) > 1:
        raise ParseError(f"Say `csv` once. Usage: {USAGE['summary']}")
    if leftover:
        match = _WEEKS.match(leftover[0].lower())
        if not match or len(leftover) > 1:
            raise ParseError(f"I couldn't read `{_echo(' '.join(leftover))}`. Usage: {USAGE['summary']}")
        weeks = int(match.group(1))
        if not 1 <= weeks <= MAX_SUMMARY_WEEKS:
            raise ParseError(f"Choose between 1w and {MAX_SUMMARY_WEEKS}w. Usage: {USAGE['summary']}")
    return Command("summary", reps=tuple(dict.fromkeys(reps)), weeks=weeks,
                   extra={"format": "csv"} if as_csv else {})


def _parse_cadence(rest: list[str]) -> Command:
    rep, words = _need_mention(rest, USAGE["cadence"])
    words = [w.lower() for w in words]
    if not words:
        raise ParseError(f"Please say how often. Usage: {USAGE['cadence']}")
    every = None
    if len(words) >= 2 and f"{words[0]} {words[1]}" in EVERY_ALIASES:
        every, words = EVERY_ALIASES[f"{words[0]} {words[1]}"], words[2:]
    elif words[0] in EVERY_ALIASES:
        every, words = EVERY_ALIASES[words[0]], words[1:]
    if every is None:
        raise ParseError(f"I couldn't read `{_echo(words[0], 20)}` as a cadence. Usage: {USAGE['cadence']}")
    day = time = None
    for word in words:
        if word[:3] in WEEKDAYS and day is None and word in (word[:3], _full_day(word[:3])):
            day = word[:3]
        elif time is None and re.fullmatch(r"\d{1,2}:\d{2}", word):
            try:
                time = parse_hhmm(word.zfill(5)).strftime("%H:%M")
            except ValueError:
                raise ParseError(f"`{_echo(word, 20)}` is not a 24-hour time. Usage: {USAGE['cadence']}") from None
        else:
            raise ParseError(f"I couldn't read `{_echo(word, 20)}`. Usage: {USAGE['cadence']}")
    if day is not None and every in ("day", "month"):
        raise ParseError(f"A day of the week only applies to weekly cadences. Usage: {USAGE['cadence']}")
    return Command("cadence", reps=(rep,), every=every, day=day, time=time)


def _full_day(short: str) -> str:
    return {"mon": "monday", "tue": "tuesday", "wed": "wednesday", "thu": "thursday", "fri": "friday",
            "sat": "saturday", "sun": "sunday"}[short]
