"""Pure summary arithmetic: counts per period, trends, the manager's own figures, pagination."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coaching.summary import (
    AnswerFact,
    CheckinFact,
    HelpFact,
    RepFacts,
    org_aggregates,
    paginate,
    percent,
    rate,
    summarise_rep,
    summarise_team,
    trend,
)

NOW = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(weeks=4)


def checkin(days_ago: float, state: str = "answered", kind: str = "scheduled", sent: bool = True) -> CheckinFact:
    moment = NOW - dt.timedelta(days=days_ago)
    return CheckinFact(rep_id="U1", kind=kind, state=state, due_at=moment, sent_at=moment if sent else None,
                       closed_at=moment if state != "sent" else None)


def answer(days_ago: float, n: int = 1, confidence: int | None = None, help_wanted: bool = False,
           **flags: bool) -> AnswerFact:
    return AnswerFact(id=n, rep_id="U1", checkin_id=n, goal_id=7, goal_text=f"goal {n}", text=f"answer {n}",
                      confidence=confidence, help_wanted=help_wanted,
                      created_at=NOW - dt.timedelta(days=days_ago), **flags)


def test_rate_is_none_without_a_denominator_and_capped_at_one() -> None:
    assert rate(1, 0) is None
    assert rate(3, 4) == 0.75
    assert rate(5, 4) == 1.0
    assert percent(None) == "n/a" and percent(2 / 3) == "67%"


@pytest.mark.parametrize("values,expected", [
    ([], None), ([3], None), ([2, 4], "rising"), ([4, 4, 2, 2], "falling"), ([3, 4, 4, 3], "steady"),
    ([1, 2, 3, 4, 5], "rising"),
])
def test_trend_compares_the_later_half_with_the_earlier_half(values: list[int], expected: str | None) -> None:
    assert trend(values) == expected


def test_a_rep_summary_counts_only_what_happened_in_the_period() -> None:
    facts = RepFacts(rep_id="U1", name="ana", checkins=(
        checkin(1), checkin(8, "skipped"), checkin(15, "paused", sent=False), checkin(40),
        checkin(2, "skipped", sent=False),
    ), answers=(answer(1, 1, confidence=2), answer(40, 2, confidence=5)))
    row = summarise_rep(facts, SINCE, NOW)
    assert (row.sent, row.answered, row.skipped, row.paused) == (2, 1, 2, 1)
    assert row.latest_answer == "answer 1" and row.goal_text == "goal 1"
    assert row.confidences == (2,) and row.trend is None


def test_the_reps_own_check_ins_are_not_counted_as_manager_touches() -> None:
    facts = RepFacts(rep_id="U1", name="ana", checkins=(checkin(1), checkin(2, kind="rep_now")), questions_sent=2)
    assert summarise_rep(facts, SINCE, NOW).touches == 3


def help_fact(days_ago: float, n: int, rep: str = "U1") -> HelpFact:
    return HelpFact(id=n, rep_id=rep, checkin_id=n, goal_text=f"goal {n}", detail="blocked on legal",
                    created_at=NOW - dt.timedelta(days=days_ago))


def test_open_help_requests_are_counted_however_long_ago_they_were_asked() -> None:
    # Open until answered or resolved: one asked 60 days ago (before the period) still counts.
    facts = RepFacts(rep_id="U1", name="ana", help_requests=(help_fact(1, 1), help_fact(60, 2)))
    assert summarise_rep(facts, SINCE, NOW).help_open == 2


def test_the_team_lists_every_open_help_request_oldest_first_with_its_reps_name() -> None:
    ana = RepFacts(rep_id="U1", name="ana", help_requests=(help_fact(1, 1),))
    ben = RepFacts(rep_id="U2", name="ben", help_requests=(help_fact(3, 2, rep="U2"),))
    team = summarise_team([ana, ben], 4, NOW)
    assert [(name, h.id) for name, h in team.help_requests] == [("ben", 2), ("ana", 1)]
    assert team.help_open == 2


def test_days_since_contact_and_a_current_pause_are_reported() -> None:
    facts = RepFacts(rep_id="U1", name="ana", last_contact=NOW - dt.timedelta(days=9, hours=3),
                     paused_until=NOW + dt.timedelta(days=1))
    row = summarise_rep(facts, SINCE, NOW)
    assert row.days_since_contact == 9 and row.paused_now
    assert summarise_rep(RepFacts(rep_id="U2", name="ben"), SINCE, NOW).days_since_contact is None


def test_team_figures_give_participation_touches_per_week_and_the_managers_responses() -> None:
    ana = RepFacts(rep_id="U1", name="ana", checkins=(checkin(1), checkin(8), checkin(15), checkin(22)),
                   answers=(answer(1, 1, thanked_by_manager=True), answer(8, 2, noted_by_manager=True),
                            answer(15, 3)), agreed_per_week=1.0)
    ben = RepFacts(rep_id="U2", name="ben", checkins=(checkin(1, "sent"), checkin(8, "expired")),
                   questions_sent=2, agreed_per_week=0.5)
    team = summarise_team([ana, ben], 4, NOW)
    assert (team.sent, team.answered, team.participation) == (6, 3, 0.5)
    assert team.touches_per_rep_per_week == pytest.approx((4 + 4) / 2 / 4)
    assert team.agreed_per_rep_per_week == 0.75
    assert (team.answers, team.acknowledged, team.replied) == (3, 1, 1)


def test_org_aggregates_hold_counts_only() -> None:
    org = org_aggregates(4, teams=3, reps=20, counts={"sent": 40, "answered": 30, "skipped": 5})
    assert (org.participation, org.skipped, org.paused, org.reps) == (0.75, 5, 0, 20)
    assert not any(isinstance(v, str) for v in vars(org).values())


def test_paginate_respects_row_and_character_budgets() -> None:
    assert paginate([], 10, 100) == [(0, 0)]
    assert paginate([10] * 25, 10, 10_000) == [(0, 10), (10, 20), (20, 25)]
    assert paginate([40, 40, 40, 40], 10, 100) == [(0, 2), (2, 4)]
    assert paginate([500, 10], 10, 100) == [(0, 1), (1, 2)], "an oversized row gets a page of its own"
    with pytest.raises(ValueError):
        paginate([1], 0, 100)


@given(st.lists(st.integers(min_value=1, max_value=3000), max_size=200), st.integers(1, 50),
       st.integers(1, 30_000))
def test_pages_cover_every_row_once_in_order_within_the_budgets(sizes: list[int], rows: int, chars: int) -> None:
    pages = paginate(sizes, rows, chars)
    assert pages[0][0] == 0 and pages[-1][1] == len(sizes)
    for (_, end), (start, _) in zip(pages, pages[1:], strict=False):
        assert end == start
    for start, end in pages:
        assert end - start <= rows
        assert end - start == 1 or sum(sizes[start:end]) <= chars
