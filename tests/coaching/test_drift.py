from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from coaching.drift import (
    SIGNALS,
    AnswerRecord,
    HelpRecord,
    ManagerQuestion,
    PairHistory,
    PriorWarning,
    RepOutcome,
    SignalReading,
    Thresholds,
    Touch,
    compute_signals,
    drift_state,
    frequency_limit,
    is_rearmed,
    rearm_level,
    record_warning,
    should_warn,
    track_rearm,
    weekly_series,
)

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
DEFAULTS = Thresholds()


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def history(**overrides: Any) -> PairHistory:
    fields: dict[str, Any] = {
        "manager": "UMANAGER",
        "rep": "UREP",
        "agreed_touches_per_week": 1.0,
        "touches": (),
        "questions": (),
        "answers": (),
        "outcomes": (),
        "active_goal_count": 1,
        # Recent contact by default, so contact_gap stays quiet unless a test is about it.
        "last_contact_at": ago(1),
    }
    fields.update(overrides)
    return PairHistory(**fields)


def touches(*days_ago: float, kind: str = "adhoc", **kw: Any) -> tuple[Touch, ...]:
    return tuple(Touch(at=ago(d), kind=kind, **kw) for d in days_ago)  # type: ignore[arg-type]


def questions(*labels: str, start: float = 0.5) -> tuple[ManagerQuestion, ...]:
    return tuple(ManagerQuestion(at=ago(start + i), label=label) for i, label in enumerate(labels))


def answers(acknowledged: int, total: int) -> tuple[AnswerRecord, ...]:
    return tuple(
        AnswerRecord(asked_at=ago(i + 1.5), answered_at=ago(i + 1), acknowledged=i < acknowledged)
        for i in range(total)
    )


def outcomes(answered: int, missed: int) -> tuple[RepOutcome, ...]:
    kinds = ["answered"] * answered + ["skipped", "snoozed", "expired"] * missed
    return tuple(
        RepOutcome(at=ago(i + 1), kind=kind, latency=timedelta(hours=1) if kind == "answered" else None)  # type: ignore[arg-type]
        for i, kind in enumerate(kinds[: answered + missed])
    )


def reading(name: str, h: PairHistory, thresholds: Thresholds = DEFAULTS) -> SignalReading:
    return compute_signals(h, thresholds, NOW)[name]  # type: ignore[index]


# --- frequency -----------------------------------------------------------------------------------


def test_frequency_at_the_weekly_limit_is_not_breached() -> None:
    r = reading("frequency", history(touches=touches(0.5, 2, 4)))
    assert (r.value, r.threshold, r.breached) == (3.0, 3.0, False)


def test_frequency_one_touch_over_the_limit_is_breached() -> None:
    r = reading("frequency", history(touches=touches(0.5, 2, 4, 6)))
    assert (r.value, r.breached) == (4.0, True)


def test_frequency_counts_scheduled_and_adhoc_touches_together() -> None:
    h = history(touches=touches(1, kind="scheduled") + touches(2, 3, 4))
    r = reading("frequency", h)
    assert r.breached and r.value == 4.0
    assert "3 ad-hoc, 1 scheduled" in r.observed


def test_frequency_finds_the_busiest_seven_days_ending_this_week() -> None:
    # Right now only one touch is in the last 7 days, but the window ending 6.5 days ago held 4.
    r = reading("frequency", history(touches=touches(6.5, 8, 9, 10)))
    assert (r.value, r.breached) == (4.0, True)


def test_frequency_ignores_bursts_from_windows_that_ended_over_a_week_ago() -> None:
    r = reading("frequency", history(touches=touches(14.1, 14.5, 15, 16, 17)))
    assert (r.value, r.breached) == (0.0, False)


def test_frequency_never_counts_rep_initiated_touches() -> None:
    own = touches(0.1, 0.2, 0.3, 1, 2, kind="scheduled", initiated_by_rep=True)
    r = reading("frequency", history(touches=touches(1, 2, 3) + own))
    assert (r.value, r.breached) == (3.0, False)


def test_frequency_does_not_treat_an_agreed_daily_cadence_as_drift() -> None:
    daily = touches(0.5, 1.5, 2.5, 3.5, 4.5, kind="scheduled")
    at_cadence = reading("frequency", history(agreed_touches_per_week=5.0, touches=daily))
    assert (at_cadence.threshold, at_cadence.breached) == (5.0, False)
    one_extra = reading("frequency", history(agreed_touches_per_week=5.0, touches=daily + touches(0.2)))
    assert one_extra.breached


def test_frequency_limit_tightens_to_agreed_plus_two_for_a_monthly_cadence() -> None:
    assert not reading("frequency", history(agreed_touches_per_week=0.23, touches=touches(1, 2))).breached
    r = reading("frequency", history(agreed_touches_per_week=0.23, touches=touches(1, 2, 3)))
    assert (r.threshold, r.breached) == (2.0, True)


@pytest.mark.parametrize(
    ("agreed", "cap", "limit"),
    [
        (5.0, 3, 5),
        (1.0, 3, 3),
        (0.5, 3, 2),
        (0.23, 3, 2),
        (0.0, 3, 2),
        (2.0, 3, 3),
        (1.0, 10, 3),
        (1.0, 1, 1),
    ],
)
def test_frequency_limit_is_the_cap_or_agreed_plus_two_but_never_below_the_agreed_cadence(
    agreed: float, cap: int, limit: int
) -> None:
    assert frequency_limit(agreed, cap) == limit


# --- tone ----------------------------------------------------------------------------------------


def test_tone_just_under_the_share_is_not_breached() -> None:
    r = reading(
        "tone", history(questions=questions("blame", "status_demand", "coaching", "coaching", "coaching"))
    )
    assert (r.value, r.breached) == (pytest.approx(0.4), False)


def test_tone_at_the_share_is_breached() -> None:
    r = reading("tone", history(questions=questions("blame", "directive", "coaching", "coaching")))
    assert (r.value, r.breached) == (0.5, True)


def test_tone_just_over_the_share_is_breached() -> None:
    qs = questions("blame", "directive", "status_demand", "coaching", "coaching")
    assert reading("tone", history(questions=qs)).breached


def test_tone_needs_two_pressure_questions_before_it_breaches() -> None:
    r = reading("tone", history(questions=questions("status_demand")))
    assert (r.value, r.breached) == (1.0, False)


def test_tone_ignores_questions_older_than_28_days() -> None:
    qs = questions("blame", "blame", start=28.5) + questions("coaching")
    r = reading("tone", history(questions=qs))
    assert (r.value, r.breached) == (0.0, False)


# --- coverage ------------------------------------------------------------------------------------


def test_coverage_at_the_share_is_not_breached() -> None:
    everything = touches(1, 2, 3, 4, goal_ids=(1, 2, 3))
    h = history(active_goal_count=3, touches=everything + touches(5, goal_ids=(2,)))
    r = reading("coverage", h)
    assert (r.value, r.breached) == (pytest.approx(0.8), False)


def test_coverage_just_over_the_share_is_breached() -> None:
    everything = touches(1, 2, 3, 4, 5, goal_ids=(1, 2, 3))
    h = history(active_goal_count=3, touches=everything + touches(6, goal_ids=(2,)))
    r = reading("coverage", h)
    assert r.value == pytest.approx(5 / 6) and r.breached


def test_coverage_needs_three_touches_before_it_breaches() -> None:
    r = reading("coverage", history(active_goal_count=2, touches=touches(1, 2, goal_ids=(1, 2))))
    assert (r.value, r.breached) == (1.0, False)


def test_coverage_never_breaches_with_a_single_goal() -> None:
    r = reading("coverage", history(active_goal_count=1, touches=touches(1, 5, 9, 13, goal_ids=(7,))))
    assert (r.value, r.breached) == (0.0, False)


def test_coverage_ignores_rep_initiated_touches() -> None:
    own = touches(1, 2, 3, goal_ids=(1, 2), initiated_by_rep=True)
    h = history(active_goal_count=2, touches=own + touches(4, 5, 6, goal_ids=(1,)))
    assert reading("coverage", h).value == 0.0


# --- feedback ------------------------------------------------------------------------------------


def test_feedback_at_the_minimum_share_is_not_breached() -> None:
    r = reading("feedback", history(answers=answers(acknowledged=2, total=4)))
    assert (r.value, r.breached) == (0.5, False)


def test_feedback_just_under_the_minimum_share_is_breached() -> None:
    r = reading("feedback", history(answers=answers(acknowledged=2, total=5)))
    assert (r.value, r.breached) == (pytest.approx(0.4), True)


def test_feedback_needs_three_answers_before_it_breaches() -> None:
    r = reading("feedback", history(answers=answers(acknowledged=0, total=2)))
    assert (r.value, r.breached) == (0.0, False)


def test_feedback_counts_only_answered_check_ins() -> None:
    unanswered = tuple(AnswerRecord(asked_at=ago(d), answered_at=None, acknowledged=False) for d in (1, 2, 3))
    r = reading("feedback", history(answers=answers(acknowledged=2, total=3) + unanswered))
    assert (r.value, r.breached) == (pytest.approx(2 / 3), False)


def test_an_answered_help_request_counts_as_a_response() -> None:
    # 2 of 4 answers acknowledged is exactly the minimum; a help request answered lifts it to 3 of 5.
    helped = (HelpRecord(asked_at=ago(2), answered=True),)
    r = reading("feedback", history(answers=answers(acknowledged=2, total=4), help_requests=helped))
    assert (r.value, r.breached) == (pytest.approx(3 / 5), False)
    assert "answered 1 of 1 request for help" in r.observed


def test_a_help_request_left_unanswered_counts_against() -> None:
    # The same 2 of 4 answers, plus a request for help never answered: 2 of 5, under the minimum.
    waiting = (HelpRecord(asked_at=ago(3), answered=False),)
    r = reading("feedback", history(answers=answers(acknowledged=2, total=4), help_requests=waiting))
    assert (r.value, r.breached) == (pytest.approx(2 / 5), True)


def test_a_help_request_older_than_the_look_back_is_not_counted() -> None:
    old = (HelpRecord(asked_at=ago(40), answered=False),)
    r = reading("feedback", history(answers=answers(acknowledged=2, total=4), help_requests=old))
    assert (r.value, r.breached) == (0.5, False)


# --- fatigue -------------------------------------------------------------------------------------


def test_fatigue_at_the_rate_is_not_breached() -> None:
    r = reading("fatigue", history(outcomes=outcomes(answered=2, missed=2)))
    assert (r.value, r.breached) == (0.5, False)


def test_fatigue_just_over_the_rate_is_breached() -> None:
    r = reading("fatigue", history(outcomes=outcomes(answered=2, missed=3)))
    assert (r.value, r.breached) == (pytest.approx(0.6), True)


def test_fatigue_needs_three_outcomes_before_the_rate_breaches() -> None:
    r = reading("fatigue", history(outcomes=outcomes(answered=0, missed=2)))
    assert (r.value, r.breached) == (1.0, False)


def _latencies(
    prior_hours: float, recent_hours: float, prior_n: int = 2, recent_n: int = 2
) -> tuple[RepOutcome, ...]:
    prior = [
        RepOutcome(at=ago(15 + i), kind="answered", latency=timedelta(hours=prior_hours))
        for i in range(prior_n)
    ]
    recent = [
        RepOutcome(at=ago(1 + i), kind="answered", latency=timedelta(hours=recent_hours))
        for i in range(recent_n)
    ]
    return tuple(prior + recent)


def test_fatigue_breaches_when_reply_latency_more_than_doubles() -> None:
    r = reading("fatigue", history(outcomes=_latencies(prior_hours=1, recent_hours=2.1)))
    assert r.value == 0.0 and r.breached
    assert "rose from 1 hour to 2.1 hours" in r.observed


def test_fatigue_does_not_breach_when_latency_exactly_doubles() -> None:
    assert not reading("fatigue", history(outcomes=_latencies(prior_hours=1, recent_hours=2))).breached


def test_fatigue_latency_trend_needs_two_samples_in_each_half() -> None:
    h = history(outcomes=_latencies(prior_hours=1, recent_hours=10, recent_n=1))
    assert not reading("fatigue", h).breached


# --- contact gap ---------------------------------------------------------------------------------


def test_contact_gap_just_under_the_limit_is_not_breached() -> None:
    r = reading("contact_gap", history(last_contact_at=ago(13.9)))
    assert (r.value, r.breached) == (pytest.approx(13.9), False)


def test_contact_gap_at_the_limit_is_breached() -> None:
    assert reading("contact_gap", history(last_contact_at=ago(14))).breached


def test_fifteen_days_without_contact_breaches_the_default_contact_gap() -> None:
    r = reading("contact_gap", history(last_contact_at=None, touches=touches(15, 20, kind="scheduled")))
    assert (r.value, r.threshold, r.breached) == (15.0, 14.0, True)
    assert r.observed.startswith("15 days since the last check-in")


def test_a_paused_rep_never_gets_a_contact_gap_breach() -> None:
    r = reading("contact_gap", history(last_contact_at=ago(40), paused_until=NOW + timedelta(days=3)))
    assert not r.breached
    assert "paused until 2025-03-17" in r.observed


def test_contact_gap_breaches_again_once_the_pause_is_over() -> None:
    assert reading("contact_gap", history(last_contact_at=ago(40), paused_until=ago(1))).breached


def test_contact_gap_uses_the_latest_of_touches_and_last_contact() -> None:
    h = history(last_contact_at=ago(20), touches=touches(3, kind="scheduled"))
    assert reading("contact_gap", h).value == pytest.approx(3.0)


def test_rep_initiated_touches_do_not_close_a_contact_gap() -> None:
    h = history(last_contact_at=ago(20), touches=touches(1, initiated_by_rep=True))
    assert reading("contact_gap", h).breached


def test_contact_gap_without_any_contact_on_record_is_not_breached() -> None:
    assert not reading("contact_gap", history(last_contact_at=None)).breached


# --- whole pair ----------------------------------------------------------------------------------


def test_four_adhoc_questions_in_five_days_two_blaming_breach_frequency_and_tone() -> None:
    days = (0.2, 1.5, 3, 5)
    labels = ("blame", "coaching", "blame", "coaching")
    h = history(
        agreed_touches_per_week=1.0,
        touches=touches(*days),
        questions=tuple(
            ManagerQuestion(at=ago(d), label=label) for d, label in zip(days, labels, strict=True)
        ),
    )
    readings = compute_signals(h, Thresholds(max_touches_per_rep_per_week=3), NOW)
    assert {s for s, r in readings.items() if r.breached} == {"frequency", "tone"}
    assert (readings["frequency"].value, readings["frequency"].threshold) == (4.0, 3.0)
    # 2 of 4 is exactly the 0.5 share: tone breaches at the share, not only above it.
    assert (readings["tone"].value, readings["tone"].threshold) == (0.5, 0.5)
    assert drift_state(readings) == "drifting"


def test_compute_signals_returns_every_signal_healthy_for_a_quiet_pair() -> None:
    readings = compute_signals(history(), DEFAULTS, NOW)
    assert list(readings) == list(SIGNALS)
    assert all(r.signal == s and not r.breached for s, r in readings.items())
    assert drift_state(readings) == "healthy"


def test_drift_state_is_watch_with_one_breach_and_accepts_a_plain_iterable() -> None:
    readings = compute_signals(history(last_contact_at=ago(20)), DEFAULTS, NOW)
    assert drift_state(readings) == "watch"
    assert drift_state(list(readings.values())) == "watch"


def test_events_after_now_are_ignored() -> None:
    h = history(touches=touches(-1, -2, -3, -4), questions=questions("blame", "blame", start=-3))
    readings = compute_signals(h, DEFAULTS, NOW)
    assert readings["frequency"].value == 0.0 and readings["tone"].value == 0.0


def test_weekly_series_replays_each_of_the_last_eight_weeks_oldest_first() -> None:
    burst = touches(21, 21.5, 22, 22.5, 23)  # a burst three weeks ago
    h = history(touches=burst + touches(0.5))
    series = weekly_series(h, DEFAULTS, NOW)
    assert set(series) == set(SIGNALS) and all(len(v) == 8 for v in series.values())
    assert series["frequency"] == [0.0, 0.0, 0.0, 0.0, 5.0, 5.0, 0.0, 1.0]
    assert series["frequency"][-1] == compute_signals(h, DEFAULTS, NOW)["frequency"].value


def test_weekly_series_rejects_fewer_than_one_week() -> None:
    with pytest.raises(ValueError):
        weekly_series(history(), DEFAULTS, NOW, weeks=0)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2025, 3, 14, 12, 0)
    with pytest.raises(ValueError):
        Touch(at=naive, kind="adhoc")
    with pytest.raises(ValueError):
        AnswerRecord(asked_at=NOW, answered_at=naive, acknowledged=True)
    with pytest.raises(ValueError):
        history(paused_until=naive)
    with pytest.raises(ValueError):
        compute_signals(history(), DEFAULTS, naive)
    with pytest.raises(ValueError):
        should_warn(reading("frequency", history()), None, DEFAULTS, naive)


def test_bad_thresholds_are_rejected() -> None:
    with pytest.raises(ValueError):
        Thresholds(hysteresis=0.0)
    with pytest.raises(ValueError):
        Thresholds(status_demand_share=1.5)
    with pytest.raises(ValueError):
        Thresholds(max_touches_per_rep_per_week=0)


# --- warning decisions ---------------------------------------------------------------------------


def freq(value: float, threshold: float = 3.0) -> SignalReading:
    return SignalReading("frequency", value, threshold, value > threshold, "", "")


def test_the_first_breach_is_warned() -> None:
    assert should_warn(freq(4), None, DEFAULTS, NOW)


def test_an_unbreached_reading_is_never_warned() -> None:
    assert not should_warn(freq(3), None, DEFAULTS, NOW)


def test_a_second_warning_within_the_cooldown_is_suppressed() -> None:
    last = PriorWarning("frequency", sent_at=ago(6.9), rearmed=True)
    assert not should_warn(freq(5), last, DEFAULTS, NOW)


def test_a_rearmed_signal_is_warned_again_once_the_cooldown_is_over() -> None:
    last = PriorWarning("frequency", sent_at=ago(7), rearmed=True)
    assert should_warn(freq(4), last, DEFAULTS, NOW)


def test_a_signal_that_never_rearmed_waits_a_whole_further_cooldown() -> None:
    assert not should_warn(freq(4), PriorWarning("frequency", ago(13.9), rearmed=False), DEFAULTS, NOW)
    assert should_warn(freq(4), PriorWarning("frequency", ago(14), rearmed=False), DEFAULTS, NOW)


def test_hovering_around_the_threshold_does_not_flap() -> None:
    prior: PriorWarning | None = None
    warned_on: list[int] = []
    for day in range(30):
        r = freq(4 if day % 2 == 0 else 3)  # 3 is under the limit but above the 2.4 re-arm level
        now = NOW + timedelta(days=day)
        prior = track_rearm(prior, r, DEFAULTS)
        if should_warn(r, prior, DEFAULTS, now):
            warned_on.append(day)
            prior = record_warning(r, now)
    assert warned_on == [0, 14, 28]


def test_dropping_below_the_rearm_level_makes_the_next_breach_a_new_episode() -> None:
    prior: PriorWarning | None = None
    warned_on: list[int] = []
    values = {0: 4, 2: 2, 5: 4, 8: 4}
    for day, value in values.items():
        r, now = freq(value), NOW + timedelta(days=day)
        prior = track_rearm(prior, r, DEFAULTS)
        if should_warn(r, prior, DEFAULTS, now):
            warned_on.append(day)
            prior = record_warning(r, now)
    assert warned_on == [0, 8]


def test_rearm_level_is_threshold_times_hysteresis_for_higher_is_worse_signals() -> None:
    assert rearm_level(freq(4)) == pytest.approx(2.4)
    assert not is_rearmed(freq(2.4), DEFAULTS)
    assert is_rearmed(freq(2), DEFAULTS)


def test_feedback_rearms_only_well_above_its_minimum_share() -> None:
    def fb(value: float) -> SignalReading:
        return SignalReading("feedback", value, 0.5, value < 0.5, "", "")

    assert rearm_level(fb(0.3)) == pytest.approx(0.6)
    assert not is_rearmed(fb(0.55), DEFAULTS)
    assert is_rearmed(fb(0.65), DEFAULTS)


def test_a_breached_reading_is_never_rearmed_even_when_its_value_is_low() -> None:
    latency_breach = SignalReading("fatigue", 0.0, 0.5, True, "", "")
    assert not is_rearmed(latency_breach, DEFAULTS)


def test_track_rearm_keeps_the_rearmed_mark_once_set() -> None:
    prior = PriorWarning("frequency", ago(3), rearmed=False)
    rearmed = track_rearm(prior, freq(1), DEFAULTS)
    assert rearmed == replace(prior, rearmed=True)
    assert track_rearm(rearmed, freq(5), DEFAULTS) == rearmed


def test_a_prior_warning_for_another_signal_is_a_caller_error() -> None:
    with pytest.raises(ValueError):
        should_warn(freq(4), PriorWarning("tone", ago(30), rearmed=True), DEFAULTS, NOW)


# --- contact gap by agreed cadence, and leave ------------------------------------------------------


@pytest.mark.parametrize("per_week, breached_at, quiet_at", [
    (12 / 52, 46, 20),   # monthly: 1.5 x ~30.3 days = 45.5 days
    (12 / 52, 46, 45),
    (0.5, 21, 20),       # every 2 weeks: 21 days
    (1.0, 14, 13),       # weekly: 10.5 days is under the 14-day floor, so the floor applies
    (5.0, 14, 13),       # daily: the floor too
])
def test_the_contact_gap_follows_the_agreed_cadence_with_the_floor_under_it(
        per_week: float, breached_at: float, quiet_at: float) -> None:
    assert reading("contact_gap", history(agreed_touches_per_week=per_week, last_contact_at=ago(breached_at))).breached
    assert not reading("contact_gap", history(agreed_touches_per_week=per_week, last_contact_at=ago(quiet_at))).breached


def test_a_monthly_reps_gap_says_what_was_agreed() -> None:
    r = reading("contact_gap", history(agreed_touches_per_week=12 / 52, last_contact_at=ago(50)))
    assert r.threshold == pytest.approx(45.5) and "at least every 45 days (monthly check-ins)" in r.agreed


def leave(*spans: tuple[float, float]) -> tuple[tuple[datetime, datetime], ...]:
    """Leave intervals given as (started days ago, ended days ago)."""
    return tuple((ago(start), ago(end)) for start, end in spans)


def test_days_on_leave_do_not_count_towards_the_contact_gap() -> None:
    # 20 days since contact, 10 of them on leave: 10 days count, under the 14-day floor.
    h = history(last_contact_at=ago(20), leave=leave((15, 5)))
    r = reading("contact_gap", h)
    assert r.value == pytest.approx(10.0) and not r.breached and "not counting leave" in r.observed
    assert reading("contact_gap", history(last_contact_at=ago(25), leave=leave((15, 5)))).breached


def test_no_contact_gap_breach_while_the_rep_is_on_leave() -> None:
    h = history(last_contact_at=ago(40), leave=leave((2, -3)))
    r = reading("contact_gap", h)
    assert not r.breached and "on leave" in r.observed


def test_frequency_counts_seven_days_present_so_touches_around_a_leave_are_close_together() -> None:
    # Four questions: two before a 10-day leave, two after. In real time no 7 days hold more than
    # two; with the leave skipped they fall within 4 days of presence, over the limit of 3.
    spread = touches(13.5, 12.5, 1.5, 0.5)
    assert not reading("frequency", history(touches=spread)).breached
    r = reading("frequency", history(touches=spread, leave=leave((12, 2))))
    assert r.value == 4.0 and r.breached


def test_leave_intervals_must_be_aware_ordered_and_apart() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        history(leave=((NOW, NOW),))
    with pytest.raises(ValueError, match="overlap"):
        history(leave=leave((10, 5), (6, 2)))
    with pytest.raises(ValueError):
        history(leave=((datetime(2025, 3, 1), NOW),))


def test_readings_with_leave_stay_the_same_between_next_change_moments() -> None:
    from coaching.drift import next_change

    # Weekly check-ins and a few questions around two leaves, one under way.
    h = history(last_contact_at=ago(9), leave=leave((30, 20), (2, -3)),
                touches=touches(35, 33, 31, 19.5, 19, 18.5, 9, kind="adhoc"),
                answers=answers(1, 3))
    def flags(moment: datetime) -> list[tuple[bool, bool]]:
        return [(r.breached, is_rearmed(r, DEFAULTS)) for r in compute_signals(h, DEFAULTS, moment).values()]
    at, seen = NOW, []
    for _ in range(30):
        change = next_change(h, DEFAULTS, at)
        if change is None:
            break
        for fraction in (0.25, 0.5, 0.999):
            assert flags(at + (change - at) * fraction) == flags(at), (at, change)
        seen.append(change)
        at = change
    assert NOW + timedelta(days=3) in seen  # the end of the leave under way
    # Contact 9 days ago, the last 2 on leave: 7 days count so far, and 7 more after the return.
    assert reading_at(h, NOW + timedelta(days=3 + 7))["contact_gap"].breached
    assert not reading_at(h, NOW + timedelta(days=3 + 7) - timedelta(minutes=1))["contact_gap"].breached


def reading_at(h: PairHistory, moment: datetime) -> dict[str, SignalReading]:
    return compute_signals(h, DEFAULTS, moment)  # type: ignore[return-value]
