"""Team summaries: per-rep figures, the manager's own figures, trends and pagination. Pure.

Inputs are plain records (built by `storage.summary`); nothing here touches Slack or the
database, so the arithmetic is tested directly. Wording stays neutral: skipping and pausing are
reported as facts, never as failings.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

Trend = Literal["rising", "steady", "falling"]
# A change of half a point on the 1–5 scale between the earlier and later answers is a trend.
TREND_THRESHOLD = 0.5
SHOWN_CONFIDENCES = 8


@dataclass(frozen=True)
class CheckinFact:
    rep_id: str
    kind: str  # scheduled | rep_now | ...
    state: str
    due_at: dt.datetime
    sent_at: dt.datetime | None
    closed_at: dt.datetime | None


@dataclass(frozen=True)
class AnswerFact:
    id: int
    rep_id: str
    checkin_id: int
    goal_id: int | None
    goal_text: str | None
    text: str
    confidence: int | None
    help_wanted: bool
    created_at: dt.datetime
    thanked_by_manager: bool = False
    noted_by_manager: bool = False
    noted_by_anyone: bool = False


@dataclass(frozen=True)
class HelpFact:
    """An open help request (issue 13): shown first to the manager until answered or resolved."""

    id: int
    rep_id: str
    checkin_id: int
    goal_text: str | None
    detail: str | None  # the rep's words, when read from their reply
    created_at: dt.datetime
    answer_id: int | None = None
    answer_text: str | None = None


@dataclass(frozen=True)
class RepFacts:
    rep_id: str
    name: str
    checkins: Sequence[CheckinFact] = ()
    answers: Sequence[AnswerFact] = ()
    questions_sent: int = 0  # the manager's ad-hoc questions to this rep in the period
    last_contact: dt.datetime | None = None
    agreed_per_week: float = 1.0
    paused_until: dt.datetime | None = None
    help_requests: Sequence[HelpFact] = ()  # open ones, whenever asked
    leave_until: dt.date | None = None  # the last day of the leave the rep is on (their calendar)
    leave_booked: tuple[dt.date, dt.date] | None = None  # their next leave booked ahead


@dataclass(frozen=True)
class RepSummary:
    rep_id: str
    name: str
    sent: int
    answered: int
    skipped: int
    paused: int
    goal_text: str | None
    latest_answer: str | None
    confidences: tuple[int, ...]
    trend: Trend | None
    help_open: int
    days_since_contact: int | None
    touches: int
    agreed_per_week: float
    paused_now: bool
    leave_until: dt.date | None = None
    leave_booked: tuple[dt.date, dt.date] | None = None


@dataclass(frozen=True)
class TeamSummary:
    weeks: int
    reps: tuple[RepSummary, ...]
    sent: int
    answered: int
    participation: float | None
    touches_per_rep_per_week: float
    agreed_per_rep_per_week: float
    answers: int
    acknowledged: int
    replied: int
    help_open: int
    # Every open help request, oldest first, with its rep's name: the top of the summary.
    help_requests: tuple[tuple[str, HelpFact], ...] = ()


@dataclass(frozen=True)
class OrgAggregates:
    """What an admin may see: counts and rates only, never names or answer text."""

    weeks: int
    teams: int
    reps: int
    sent: int
    answered: int
    skipped: int
    paused: int
    participation: float | None


def _within(moment: dt.datetime | None, since: dt.datetime, now: dt.datetime) -> bool:
    return moment is not None and since <= moment <= now


def rate(part: int, whole: int) -> float | None:
    """A share in [0, 1], or None when there is nothing to divide by."""
    if whole <= 0:
        return None
    return min(1.0, max(0.0, part / whole))


def trend(values: Sequence[int]) -> Trend | None:
    """Compare the mean of the later half with the earlier half; None with fewer than two values."""
    if len(values) < 2:
        return None
    half = len(values) // 2
    earlier, later = values[:half], values[len(values) - half:]
    change = sum(later) / len(later) - sum(earlier) / len(earlier)
    if change >= TREND_THRESHOLD:
        return "rising"
    if change <= -TREND_THRESHOLD:
        return "falling"
    return "steady"


def days_between(earlier: dt.datetime | None, now: dt.datetime) -> int | None:
    if earlier is None:
        return None
    return max(0, (now - earlier).days)


def summarise_rep(facts: RepFacts, since: dt.datetime, now: dt.datetime) -> RepSummary:
    sent = [c for c in facts.checkins if _within(c.sent_at, since, now)]
    skipped = [c for c in facts.checkins if c.state == "skipped" and _within(c.closed_at, since, now)]
    paused = [c for c in facts.checkins if c.state == "paused" and _within(c.closed_at, since, now)]
    answers = sorted((a for a in facts.answers if _within(a.created_at, since, now)),
                     key=lambda a: (a.created_at, a.id))
    latest = answers[-1] if answers else None
    confidences = tuple(a.confidence for a in answers if a.confidence is not None)
    # The rep's own "check in now" is their initiative, never the manager's touch.
    touches = sum(1 for c in sent if c.kind == "scheduled") + facts.questions_sent
    return RepSummary(
        rep_id=facts.rep_id, name=facts.name, sent=len(sent), answered=len(answers), skipped=len(skipped),
        paused=len(paused),
        goal_text=latest.goal_text if latest else None,
        latest_answer=latest.text if latest else None,
        confidences=confidences[-SHOWN_CONFIDENCES:], trend=trend(confidences),
        # An open request stays open until answered or resolved, however long ago it was asked.
        help_open=len(facts.help_requests),
        days_since_contact=days_between(facts.last_contact, now), touches=touches,
        agreed_per_week=facts.agreed_per_week,
        paused_now=facts.paused_until is not None and facts.paused_until > now,
        leave_until=facts.leave_until, leave_booked=facts.leave_booked,
    )


def summarise_team(reps: Sequence[RepFacts], weeks: int, now: dt.datetime) -> TeamSummary:
    since = now - dt.timedelta(weeks=weeks)
    rows = tuple(summarise_rep(r, since, now) for r in reps)
    answers = [a for r in reps for a in r.answers if _within(a.created_at, since, now)]
    sent = sum(r.sent for r in rows)
    answered = sum(r.answered for r in rows)
    count = max(1, len(rows))
    return TeamSummary(
        weeks=weeks, reps=rows, sent=sent, answered=answered, participation=rate(answered, sent),
        touches_per_rep_per_week=sum(r.touches for r in rows) / count / weeks,
        agreed_per_rep_per_week=sum(r.agreed_per_week for r in rows) / count,
        answers=len(answers),
        acknowledged=sum(1 for a in answers if a.thanked_by_manager),
        replied=sum(1 for a in answers if a.noted_by_manager),
        help_open=sum(r.help_open for r in rows),
        help_requests=tuple(sorted(((r.name, h) for r in reps for h in r.help_requests),
                                   key=lambda item: (item[1].created_at, item[1].id))),
    )


def org_aggregates(weeks: int, teams: int, reps: int, counts: dict[str, int]) -> OrgAggregates:
    """Org-wide figures from counts keyed sent / answered / skipped / paused."""
    sent, answered = counts.get("sent", 0), counts.get("answered", 0)
    return OrgAggregates(weeks=weeks, teams=teams, reps=reps, sent=sent, answered=answered,
                         skipped=counts.get("skipped", 0), paused=counts.get("paused", 0),
                         participation=rate(answered, sent))


def paginate(sizes: Sequence[int], max_rows: int, max_chars: int) -> list[tuple[int, int]]:
    """Split rows (given their rendered sizes) into [start, end) pages within both limits.

    A single row larger than `max_chars` still gets a page of its own: rows are already capped
    by the renderer, so this only keeps pages from growing past the budget.
    """
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    pages: list[tuple[int, int]] = []
    start, used = 0, 0
    for index, size in enumerate(sizes):
        full = index - start >= max_rows or (index > start and used + size > max_chars)
        if full:
            pages.append((start, index))
            start, used = index, 0
        used += size
    if start < len(sizes) or not pages:
        pages.append((start, len(sizes)))
    return pages


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{round(value * 100)}%"
