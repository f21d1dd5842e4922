"""Help requests and next steps read from a rep's own words, on varied phrasing and negatives."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from coaching.cadence import Cadence
from coaching.conversation import help_nudge_due, help_request, next_step

HELP = [
    ("I'm blocked on the legal review", "blocked on the legal review"),
    ("Pipeline is fine. Could use a hand with the Globex pricing though.", "could use a hand"),
    ("need help with the renewal deck", "need help with the renewal deck"),
    ("Honestly I'm stuck on how to reach their CFO", "stuck on how to reach"),
    ("We are blocked by procurement at Acme.", "blocked by procurement"),
    ("I'd like some help framing the discount", "help framing the discount"),
    ("I would love your advice on the Initech champion", "advice on the Initech"),
    ("Can you help me get a meeting with their VP?", "help me get a meeting"),
    ("Still stuck — security questionnaire is 200 questions", "Still stuck"),
    ("I need a hand preparing the QBR", "need a hand preparing"),
    ("I’m blocked on legal (curly apostrophe)", "blocked on legal"),
]
NOT_HELP = [
    "no help needed, all good",
    "Not blocked anymore, legal signed yesterday.",
    "I don't need help on this one",
    "Going well; nothing blocking me",
    "The new deck will help us close it",
    "Helped Ben with his demo yesterday",
    "Legal review is done, thanks for the help last week",
    "I'm no longer stuck on pricing",
    "We were never blocked by procurement",
    "",
    "Help needed? Not really, just busy.",
]


@pytest.mark.parametrize(("text", "expected"), HELP)
def test_a_request_for_help_is_read_in_many_phrasings(text: str, expected: str) -> None:
    found = help_request(text)
    assert found is not None and expected.lower() in found.lower()


@pytest.mark.parametrize("text", NOT_HELP)
def test_negated_or_unrelated_help_is_not_a_request(text: str) -> None:
    assert help_request(text) is None


def test_a_clause_after_but_is_read_on_its_own() -> None:
    assert help_request("Not blocked, but I could use a hand with the pricing") is not None
    assert help_request("I was stuck on pricing but not any more") is None


STEPS = [
    ("Good call. I'll call their CFO on Tuesday.", "call their CFO on Tuesday"),
    ("next step: send the revised quote", "send the revised quote"),
    ("Going to book a demo with their ops team", "book a demo with their ops team"),
    ("My next step is to loop in their security lead", "loop in their security lead"),
    ("We're planning to run a pilot in May", "run a pilot in May"),
    ("I will follow up with Dana after the board meeting", "follow up with Dana after the board meeting"),
    ("The plan is to get legal and procurement on one call", "get legal and procurement on one call"),
    ("Tomorrow I'll draft the mutual action plan", "draft the mutual action plan"),
    ("I’m gonna rework the ROI slide", "rework the ROI slide"),
    ("Next steps - share the case study with Raj", "share the case study with Raj"),
]
NOT_STEPS = [
    "I won't call them until the quote is ready",
    "I'll be honest, it's been a slow week",
    "I'll let you know how it goes",
    "I'm not going to chase them this week",
    "The deal is going to slip to Q3",
    "Called their CFO on Tuesday; it went well.",
    "I'll try.",
    "I'll keep you posted",
    "",
    "No next step yet, waiting on them",
]


@pytest.mark.parametrize(("text", "expected"), STEPS)
def test_a_named_next_step_is_read_in_many_phrasings(text: str, expected: str) -> None:
    assert next_step(text) == expected


@pytest.mark.parametrize("text", NOT_STEPS)
def test_hedges_negations_and_past_actions_are_not_steps(text: str) -> None:
    assert next_step(text) is None


def test_a_long_step_is_capped_for_quoting() -> None:
    found = next_step("I'll " + "call them again " * 40)
    assert found is not None and len(found) <= 200 and found.endswith("…")


BERLIN = ZoneInfo("Europe/Berlin")


def test_the_nudge_counts_only_the_managers_working_days() -> None:
    # Asked on Thursday 15:00 Berlin: two working days later is Monday 15:00 (the weekend skipped).
    asked = dt.datetime(2026, 3, 5, 14, 0, tzinfo=dt.UTC)
    due = help_nudge_due(asked, 2, Cadence(), BERLIN)
    assert due == dt.datetime(2026, 3, 9, 14, 0, tzinfo=dt.UTC)


def test_a_holiday_does_not_count_as_a_working_day() -> None:
    asked = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)  # Monday 10:00 Berlin
    cadence = Cadence(holidays=frozenset({dt.date(2026, 3, 3)}))
    assert help_nudge_due(asked, 1, cadence, BERLIN) == dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)


def test_the_nudge_keeps_the_local_time_across_a_dst_change() -> None:
    # Friday 27 March 2026 10:00 CET; Berlin moves to CEST on Sunday 29 March: Monday 10:00 CEST.
    asked = dt.datetime(2026, 3, 27, 9, 0, tzinfo=dt.UTC)
    assert help_nudge_due(asked, 1, Cadence(), BERLIN) == dt.datetime(2026, 3, 30, 8, 0, tzinfo=dt.UTC)
