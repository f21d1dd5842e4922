"""Cadence maths away from DST edges: parsing, quiet hours, free days, each `every`, snoozing."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from coaching.cadence import (
    Cadence,
    cadence_of,
    is_allowed,
    local_to_utc,
    next_allowed,
    next_due,
    occurrences,
    snooze_until,
)
from core.config import parse_config

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
ALL_DAYS = frozenset(range(7))
NO_QUIET = Cadence(quiet_start=time(0, 0), quiet_end=time(0, 0))
ANCHOR = date(2026, 1, 5)  # a Monday


def at(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """A local wall time in `tz` as a UTC instant (fold=0)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz).astimezone(UTC)


def local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)


# --- parsing and validation ---------------------------------------------------------------------


def test_defaults_match_the_contract() -> None:
    c = Cadence()
    assert (c.every, c.day, c.time) == ("week", "mon", time(10, 0))
    assert c.working_days == frozenset({0, 1, 2, 3, 4})
    assert (c.quiet_start, c.quiet_end, c.holidays) == (time(18, 0), time(9, 0), frozenset())


@pytest.mark.parametrize(
    "kwargs",
    [
        {"every": "fortnight"},
        {"day": "someday"},
        {"working_days": frozenset()},
        {"working_days": frozenset({7})},
        {"time": time(10, 0, tzinfo=UTC)},
        {"holidays": frozenset({datetime(2026, 1, 1, tzinfo=UTC)})},
    ],
)
def test_cadence_rejects_bad_values(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        Cadence(**kwargs)


def test_cadence_normalises_collections_so_it_stays_hashable() -> None:
    c = Cadence(day="tue", working_days=[0, 1], holidays=[date(2026, 1, 1)])  # type: ignore[arg-type]
    assert c == Cadence(day="tue", working_days=frozenset({0, 1}), holidays=frozenset({date(2026, 1, 1)}))
    assert hash(c) == hash(
        Cadence(day="tue", working_days=frozenset({0, 1}), holidays=frozenset({date(2026, 1, 1)}))
    )


def test_cadence_of_reads_the_validated_config_table() -> None:
    config = parse_config(
        '[cadence]\nevery = "2 weeks"\nday = "tue"\ntime = "09:30"\n'
        'working_days = ["mon", "tue", "wed", "thu"]\nquiet_hours = { start = "19:00", end = "08:00" }\n'
        'holidays = ["2026-12-25"]\nreminder_after_hours = 24\n'
    )
    assert cadence_of(config.cadence) == Cadence(
        every="2 weeks",
        day="tue",
        time=time(9, 30),
        working_days=frozenset({0, 1, 2, 3}),
        quiet_start=time(19, 0),
        quiet_end=time(8, 0),
        holidays=frozenset({date(2026, 12, 25)}),
    )
    assert cadence_of(parse_config("").cadence) == Cadence()


def test_naive_datetimes_are_refused_everywhere() -> None:
    naive = datetime(2026, 3, 2, 10, 0)
    aware = naive.replace(tzinfo=UTC)
    c = Cadence()
    with pytest.raises(ValueError, match="timezone-aware"):
        is_allowed(naive, c, LA)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed(naive, c, LA)
    with pytest.raises(ValueError, match="timezone-aware"):
        next_due(c, LA, naive, ANCHOR)
    with pytest.raises(ValueError, match="timezone-aware"):
        snooze_until(naive, c, LA)
    with pytest.raises(ValueError, match="timezone-aware"):
        occurrences(c, LA, aware, naive, ANCHOR)
    with pytest.raises(TypeError, match="anchor must be a date"):
        next_due(c, LA, aware, aware)  # a datetime is a date subclass


def test_non_utc_aware_inputs_are_accepted_and_answers_are_utc() -> None:
    after = datetime(2026, 3, 2, 8, 0, tzinfo=BERLIN)  # Monday
    due = next_due(Cadence(), BERLIN, after, ANCHOR)
    assert due.tzinfo is UTC
    assert due == at(BERLIN, 2026, 3, 2, 10, 0)
    allowed = next_allowed(after, Cadence(), BERLIN)  # 08:00 is quiet until 09:00 Berlin time
    assert allowed.tzinfo is UTC and allowed == at(BERLIN, 2026, 3, 2, 9, 0)


# --- quiet hours and free days ------------------------------------------------------------------


def test_it_skips_quiet_hours_that_wrap_midnight() -> None:
    c = Cadence()  # quiet 18:00 -> 09:00
    assert not is_allowed(at(LA, 2026, 3, 2, 8, 59), c, LA)
    assert is_allowed(at(LA, 2026, 3, 2, 9, 0), c, LA)  # quiet end is allowed
    assert is_allowed(at(LA, 2026, 3, 2, 17, 59), c, LA)
    assert not is_allowed(at(LA, 2026, 3, 2, 18, 0), c, LA)  # quiet start is quiet
    assert not is_allowed(at(LA, 2026, 3, 2, 23, 59), c, LA)
    assert not is_allowed(at(LA, 2026, 3, 3, 0, 30), c, LA)


def test_quiet_hours_that_do_not_wrap_cover_only_their_own_interval() -> None:
    c = Cadence(quiet_start=time(12, 0), quiet_end=time(13, 0))  # a lunch break
    assert is_allowed(at(LA, 2026, 3, 2, 0, 0), c, LA)
    assert not is_allowed(at(LA, 2026, 3, 2, 12, 30), c, LA)
    assert is_allowed(at(LA, 2026, 3, 2, 13, 0), c, LA)
    assert next_allowed(at(LA, 2026, 3, 2, 12, 30), c, LA) == at(LA, 2026, 3, 2, 13, 0)


def test_equal_quiet_start_and_end_means_no_quiet_hours() -> None:
    c = NO_QUIET
    assert all(is_allowed(at(LA, 2026, 3, 2, h, 0), c, LA) for h in range(24))


def test_it_is_not_allowed_on_weekends_or_holidays() -> None:
    c = Cadence(holidays=frozenset({date(2026, 3, 4)}))
    assert not is_allowed(at(LA, 2026, 3, 7, 12, 0), c, LA)  # Saturday
    assert not is_allowed(at(LA, 2026, 3, 8, 12, 0), c, LA)  # Sunday
    assert not is_allowed(at(LA, 2026, 3, 4, 12, 0), c, LA)  # holiday Wednesday
    assert is_allowed(at(LA, 2026, 3, 5, 12, 0), c, LA)


def test_is_allowed_judges_the_reps_local_clock_not_utc() -> None:
    # 2026-03-02 02:00 UTC is still Sunday evening in Los Angeles but Monday 07:30 in Kolkata.
    moment = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert not is_allowed(moment, Cadence(), LA)
    assert not is_allowed(moment, Cadence(), KOLKATA)  # 07:30, quiet
    assert is_allowed(moment + timedelta(hours=2), Cadence(), KOLKATA)  # 09:30 Monday


def test_next_allowed_returns_an_allowed_moment_unchanged() -> None:
    moment = at(LA, 2026, 3, 2, 11, 17) + timedelta(microseconds=5)
    assert next_allowed(moment, Cadence(), LA) == moment


def test_next_allowed_moves_early_morning_to_quiet_end_the_same_day() -> None:
    assert next_allowed(at(LA, 2026, 3, 3, 6, 0), Cadence(), LA) == at(LA, 2026, 3, 3, 9, 0)


def test_next_allowed_moves_an_evening_to_the_next_working_mornings_quiet_end() -> None:
    assert next_allowed(at(LA, 2026, 3, 3, 19, 0), Cadence(), LA) == at(LA, 2026, 3, 4, 9, 0)
    # Friday evening -> Monday morning
    assert next_allowed(at(LA, 2026, 3, 6, 19, 0), Cadence(), LA) == at(LA, 2026, 3, 9, 9, 0)


def test_next_allowed_skips_a_run_of_holidays() -> None:
    c = Cadence(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)}))
    # Wednesday 23rd evening -> Thu/Fri holidays, weekend, Mon holiday -> Tuesday 29th 09:00
    assert next_allowed(at(LA, 2026, 12, 23, 20, 0), c, LA) == at(LA, 2026, 12, 29, 9, 0)


def test_next_allowed_starts_at_midnight_when_quiet_hours_do_not_cover_it() -> None:
    c = Cadence(quiet_start=time(20, 0), quiet_end=time(22, 0))
    assert next_allowed(at(LA, 2026, 3, 7, 10, 0), c, LA) == at(LA, 2026, 3, 9, 0, 0)  # Sat -> Mon 00:00


# --- next_due for each `every` ------------------------------------------------------------------


def test_weekly_check_in_is_on_the_agreed_day_and_time() -> None:
    c = Cadence(every="week", day="wed", time=time(9, 30))
    due = next_due(c, LA, at(LA, 2026, 3, 2, 12, 0), ANCHOR)
    assert local(due, LA).replace(tzinfo=None) == datetime(2026, 3, 4, 9, 30)


def test_next_due_is_strictly_after_after() -> None:
    c = Cadence(every="week", day="wed", time=time(9, 30))
    slot = at(LA, 2026, 3, 4, 9, 30)
    assert next_due(c, LA, slot - timedelta(microseconds=1), ANCHOR) == slot
    assert next_due(c, LA, slot, ANCHOR) == at(LA, 2026, 3, 11, 9, 30)


def test_weekly_slot_on_a_holiday_moves_to_the_next_working_day_same_time() -> None:
    c = Cadence(every="week", day="mon", holidays=frozenset({date(2026, 5, 25)}))  # Memorial Day
    due = next_due(c, LA, at(LA, 2026, 5, 20, 12, 0), ANCHOR)
    assert due == at(LA, 2026, 5, 26, 10, 0)
    assert next_due(c, LA, due, ANCHOR) == at(LA, 2026, 6, 1, 10, 0)


def test_weekly_slot_on_a_non_working_day_moves_to_the_next_working_day() -> None:
    c = Cadence(every="week", day="sat", time=time(11, 0))
    due = next_due(c, LA, at(LA, 2026, 3, 2, 12, 0), ANCHOR)
    assert due == at(LA, 2026, 3, 9, 11, 0)  # Saturday 7th -> Monday 9th


def test_it_moves_a_time_inside_morning_quiet_hours_to_quiet_end() -> None:
    c = Cadence(every="week", day="tue", time=time(7, 0))
    assert next_due(c, LA, at(LA, 2026, 3, 2, 12, 0), ANCHOR) == at(LA, 2026, 3, 3, 9, 0)


def test_it_moves_a_time_inside_evening_quiet_hours_to_the_next_working_mornings_quiet_end() -> None:
    c = Cadence(every="week", day="fri", time=time(20, 0))
    assert next_due(c, LA, at(LA, 2026, 3, 2, 12, 0), ANCHOR) == at(LA, 2026, 3, 9, 9, 0)  # Fri -> Mon


def test_a_slot_moved_past_after_is_still_found() -> None:
    # Friday 20:00 is quiet, so Friday's slot lands Monday 09:00; asking on Saturday must find it.
    c = Cadence(every="week", day="fri", time=time(20, 0))
    assert next_due(c, LA, at(LA, 2026, 3, 7, 12, 0), ANCHOR) == at(LA, 2026, 3, 9, 9, 0)


def test_daily_check_ins_fall_on_each_working_day() -> None:
    c = Cadence(every="day", time=time(10, 0))
    got = occurrences(c, LA, at(LA, 2026, 3, 1, 0, 0), at(LA, 2026, 3, 15, 0, 0), ANCHOR)
    assert [local(d, LA).date().day for d in got] == [2, 3, 4, 5, 6, 9, 10, 11, 12, 13]
    assert {local(d, LA).time() for d in got} == {time(10, 0)}


def test_holiday_monday_moving_to_tuesday_does_not_double_up_a_daily_cadence() -> None:
    c = Cadence(every="day", holidays=frozenset({date(2026, 5, 25)}))
    got = occurrences(c, LA, at(LA, 2026, 5, 24, 0, 0), at(LA, 2026, 5, 31, 0, 0), ANCHOR)
    assert got == [at(LA, 2026, 5, d, 10, 0) for d in (26, 27, 28, 29)]


def test_daily_evening_time_moved_to_next_morning_gives_one_check_in_per_morning() -> None:
    c = Cadence(every="day", time=time(20, 0))
    got = occurrences(c, LA, at(LA, 2026, 3, 1, 0, 0), at(LA, 2026, 3, 15, 0, 0), ANCHOR)
    # Each evening slot lands on the next working morning: Friday 27th's on Monday 2nd, Monday's
    # on Tuesday... one per working morning, none on the weekend.
    assert got == [at(LA, 2026, 3, d, 9, 0) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13)]


def test_two_weekly_parity_follows_the_anchors_iso_week() -> None:
    c = Cadence(every="2 weeks", day="thu")
    anchor = date(2026, 1, 7)  # Wednesday; its ISO week starts Monday 2026-01-05 = week 0
    got = occurrences(c, LA, at(LA, 2026, 1, 1, 0, 0), at(LA, 2026, 2, 28, 0, 0), anchor)
    assert [local(d, LA).date() for d in got] == [
        date(2026, 1, 8),
        date(2026, 1, 22),
        date(2026, 2, 5),
        date(2026, 2, 19),
    ]


def test_two_weekly_parity_survives_a_year_boundary_and_asking_mid_cycle() -> None:
    c = Cadence(every="2 weeks", day="mon")
    anchor = date(2025, 12, 29)  # Monday of ISO week 2026-W01
    due = next_due(c, LA, at(LA, 2027, 1, 5, 0, 0), anchor)
    assert local(due, LA).date() == date(2027, 1, 11)  # 54 weeks after the anchor week: even
    assert (local(due, LA).date() - anchor).days % 14 == 0


def test_two_weekly_slot_before_the_anchor_in_week_zero_is_not_scheduled() -> None:
    c = Cadence(every="2 weeks", day="mon")
    due = next_due(c, LA, at(LA, 2026, 1, 1, 0, 0), date(2026, 1, 7))  # anchor Wednesday
    assert local(due, LA).date() == date(2026, 1, 19)


def test_no_check_ins_before_the_anchor() -> None:
    due = next_due(Cadence(every="day"), LA, at(LA, 2026, 3, 1, 0, 0), date(2026, 3, 10))
    assert due == at(LA, 2026, 3, 10, 10, 0)


def test_monthly_keeps_the_anchors_day_of_month() -> None:
    c = Cadence(every="month", time=time(11, 0))
    got = occurrences(c, LA, at(LA, 2026, 3, 1, 0, 0), at(LA, 2026, 7, 1, 0, 0), date(2026, 1, 15))
    # May 15th 2026 is a Friday; March 15th a Sunday -> Monday 16th; Aug out of range
    assert [local(d, LA).date() for d in got] == [
        date(2026, 3, 16),
        date(2026, 4, 15),
        date(2026, 5, 15),
        date(2026, 6, 15),
    ]


def test_monthly_anchor_on_the_31st_clamps_to_short_months_then_to_a_working_day() -> None:
    c = Cadence(every="month")
    anchor = date(2026, 1, 31)
    got = occurrences(c, LA, at(LA, 2026, 1, 1, 0, 0), at(LA, 2026, 6, 2, 0, 0), anchor)
    assert [local(d, LA).date() for d in got] == [
        date(2026, 2, 2),  # Jan 31 is a Saturday -> Monday Feb 2
        date(2026, 3, 2),  # Feb 28 (clamped) is a Saturday -> Monday Mar 2
        date(2026, 3, 31),
        date(2026, 4, 30),  # clamped
        date(2026, 6, 1),  # May 31 is a Sunday -> Monday Jun 1
    ]


def test_monthly_clamps_to_february_29th_in_a_leap_year() -> None:
    c = Cadence(every="month", working_days=ALL_DAYS)
    got = occurrences(c, LA, at(LA, 2028, 1, 1, 0, 0), at(LA, 2028, 4, 1, 0, 0), date(2027, 10, 31))
    assert [local(d, LA).date() for d in got] == [date(2028, 1, 31), date(2028, 2, 29), date(2028, 3, 31)]


def test_monthly_clamped_day_on_a_holiday_moves_on() -> None:
    c = Cadence(every="month", holidays=frozenset({date(2027, 2, 26)}))
    got = occurrences(c, LA, at(LA, 2027, 2, 1, 0, 0), at(LA, 2027, 3, 15, 0, 0), date(2026, 12, 26))
    # Feb 26 2027 is a Friday holiday -> Monday Mar 1; Mar 26 is a Friday
    assert [local(d, LA).date() for d in got] == [date(2027, 3, 1)]


def test_monthly_moves_do_not_double_up_when_the_next_month_lands_on_the_same_day() -> None:
    c = Cadence(
        every="month", holidays=frozenset(date(2026, 2, d) for d in range(2, 28)) | {date(2026, 3, 2)}
    )
    # Jan 31 (Sat) -> Feb 2 holiday ... -> Mar 3; Feb 28 (Sat) -> Mar 2 holiday -> Mar 3: one check-in.
    got = occurrences(c, LA, at(LA, 2026, 1, 1, 0, 0), at(LA, 2026, 3, 30, 0, 0), date(2026, 1, 31))
    assert got == [at(LA, 2026, 3, 3, 10, 0)]


def test_occurrences_are_in_the_half_open_window_start_exclusive_end_inclusive() -> None:
    c = Cadence(every="week")
    first, second = at(LA, 2026, 3, 2, 10, 0), at(LA, 2026, 3, 9, 10, 0)
    assert occurrences(c, LA, first, second, ANCHOR) == [second]
    assert occurrences(c, LA, second, first, ANCHOR) == []


# --- snooze -------------------------------------------------------------------------------------


def test_snooze_is_two_hours_later_inside_allowed_hours() -> None:
    now = at(LA, 2026, 3, 3, 11, 0)
    assert snooze_until(now, Cadence(), LA) == now + timedelta(hours=2)
    assert snooze_until(now, Cadence(), LA, hours=0.5) == now + timedelta(minutes=30)


def test_snooze_into_quiet_hours_waits_for_the_next_working_mornings_quiet_end() -> None:
    assert snooze_until(at(LA, 2026, 3, 3, 17, 0), Cadence(), LA) == at(LA, 2026, 3, 4, 9, 0)
    assert snooze_until(at(LA, 2026, 3, 6, 16, 30), Cadence(), LA) == at(LA, 2026, 3, 9, 9, 0)  # Friday


def test_snooze_skips_a_holiday_morning() -> None:
    c = Cadence(holidays=frozenset({date(2026, 3, 4)}))
    assert snooze_until(at(LA, 2026, 3, 3, 17, 0), c, LA) == at(LA, 2026, 3, 5, 9, 0)


@pytest.mark.parametrize("hours", [-1, float("nan"), float("inf")])
def test_snooze_rejects_nonsense_durations(hours: float) -> None:
    with pytest.raises(ValueError, match="hours"):
        snooze_until(at(LA, 2026, 3, 3, 11, 0), Cadence(), LA, hours=hours)


def test_local_to_utc_converts_a_plain_wall_time() -> None:
    assert local_to_utc(date(2026, 3, 2), time(10, 0), KOLKATA) == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)


# --- public-holiday calendars ---------------------------------------------------------------------


def test_a_calendar_holiday_is_a_holiday_on_top_of_the_explicit_list() -> None:
    c = Cadence(calendar="DE-BY", holidays=frozenset({date(2027, 1, 8)}))
    # Wednesday 6 January 2027 is Epiphany in Bavaria; Friday the 8th is on the explicit list.
    assert not is_allowed(at(BERLIN, 2027, 1, 6, 11, 0), c, BERLIN)
    assert is_allowed(at(BERLIN, 2027, 1, 7, 11, 0), c, BERLIN)
    assert not is_allowed(at(BERLIN, 2027, 1, 8, 11, 0), c, BERLIN)
    assert is_allowed(at(BERLIN, 2027, 1, 6, 11, 0), Cadence(calendar="US"), BERLIN)


def test_a_weekly_slot_on_a_regional_holiday_moves_to_the_next_working_day() -> None:
    c = cadence_of(parse_config('[cadence]\nday = "wed"\nholiday_calendar = "DE-BY"\n').cadence)
    due = next_due(c, BERLIN, at(BERLIN, 2027, 1, 4, 12, 0), ANCHOR)
    assert due == at(BERLIN, 2027, 1, 7, 10, 0)  # Epiphany (Wednesday) -> Thursday


def test_dst_easter_monday_after_the_eu_change_moves_to_tuesday_at_ten_cest() -> None:
    # Berlin moved to UTC+2 on 29 March 2026; Easter Monday, 6 April, is a holiday everywhere in
    # Germany. The Monday check-in lands on Tuesday 7 April at 10:00 CEST, 08:00 UTC.
    c = Cadence(calendar="DE-BY")
    due = next_due(c, BERLIN, at(BERLIN, 2026, 3, 31, 12, 0), ANCHOR)
    assert due == datetime(2026, 4, 7, 8, 0, tzinfo=UTC)
    assert next_allowed(datetime(2026, 4, 6, 7, 0, tzinfo=UTC), c, BERLIN) == datetime(2026, 4, 7, 7, 0, tzinfo=UTC)


def test_a_calendar_across_new_year_still_finds_a_free_day() -> None:
    # Christmas to Epiphany in Bavaria plus an explicit week off: the search looks far enough.
    week_off = frozenset(date(2026, 12, 28) + timedelta(days=n) for n in range(5))
    c = Cadence(calendar="DE-BY", holidays=week_off)
    assert next_allowed(at(BERLIN, 2026, 12, 24, 12, 0), c, BERLIN) == at(BERLIN, 2026, 12, 24, 12, 0)
    assert next_allowed(at(BERLIN, 2026, 12, 24, 19, 0), c, BERLIN) == at(BERLIN, 2027, 1, 4, 9, 0)
