"""Check-ins across daylight-saving transitions: never skipped, never duplicated, right wall time.

2026 transitions used here (all on Sundays):
- America/Los_Angeles: spring forward 2026-03-08 02:00 -> 03:00, fall back 2026-11-01 02:00 -> 01:00.
- Europe/Berlin: spring forward 2026-03-29 02:00 -> 03:00, fall back 2026-10-25 03:00 -> 02:00.
- Australia/Sydney (southern hemisphere): fall back 2026-04-05 03:00 -> 02:00, spring forward
  2026-10-04 02:00 -> 03:00.
- Asia/Kolkata: no DST, always +05:30.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from coaching.cadence import Cadence, is_allowed, next_allowed, next_due, occurrences, snooze_until

LA = ZoneInfo("America/Los_Angeles")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
KOLKATA = ZoneInfo("Asia/Kolkata")
ALL_DAYS = frozenset(range(7))
ANCHOR = date(2025, 12, 29)  # a Monday well before every transition below
# Quiet hours that leave the 01:00-03:00 transition hours open, so the cadence time can sit inside them.
QUIET_START, QUIET_END = time(22, 0), time(0, 30)


def days_around(tz: ZoneInfo, transition: date) -> tuple[datetime, datetime]:
    """(start, end] covering the transition day's week: Wednesday before to Wednesday after."""
    start = datetime.combine(transition - timedelta(days=4), time(0, 0), tzinfo=tz).astimezone(UTC)
    return start, start + timedelta(days=7)


def assert_one_per_day(
    tz: ZoneInfo, transition: date, wall: time, expected_wall_on_transition: time, expected_offset: timedelta
) -> None:
    """A daily cadence at `wall` on every day gives one check-in per day, at `wall` except on the
    transition day, where it is at `expected_wall_on_transition` with UTC offset `expected_offset`."""
    cadence = Cadence(
        every="day", time=wall, working_days=ALL_DAYS, quiet_start=QUIET_START, quiet_end=QUIET_END
    )
    start, end = days_around(tz, transition)
    got = occurrences(cadence, tz, start, end, ANCHOR)
    local_days = [d.astimezone(tz).date() for d in got]
    assert local_days == [transition + timedelta(days=i) for i in range(-4, 3)]  # 7 days, no gaps, no repeats
    for moment in got:
        shown = moment.astimezone(tz)
        assert moment.tzinfo is UTC
        assert is_allowed(moment, cadence, tz)
        if shown.date() == transition:
            assert shown.time() == expected_wall_on_transition
            assert shown.utcoffset() == expected_offset
        else:
            assert shown.time() == wall


def assert_ten_oclock_working_week(tz: ZoneInfo, transition: date) -> None:
    """The default 10:00 working-day cadence across the transition week: one per weekday at 10:00."""
    cadence = Cadence(every="day")
    start, end = days_around(tz, transition)
    got = occurrences(cadence, tz, start, end, ANCHOR)
    shown = [d.astimezone(tz) for d in got]
    weekdays = [
        transition + timedelta(days=i) for i in range(-4, 3) if (transition + timedelta(days=i)).weekday() < 5
    ]
    assert [s.date() for s in shown] == weekdays
    assert {s.time() for s in shown} == {time(10, 0)}


def assert_weekly_sunday_slot_in_transition_hour(tz: ZoneInfo, transition: date, expected: datetime) -> None:
    cadence = Cadence(
        every="week",
        day="sun",
        time=time(2, 30),
        working_days=ALL_DAYS,
        quiet_start=QUIET_START,
        quiet_end=QUIET_END,
    )
    before = datetime.combine(transition - timedelta(days=1), time(12, 0), tzinfo=tz).astimezone(UTC)
    due = next_due(cadence, tz, before, ANCHOR)
    assert due == expected
    # and the following week is back at the plain wall time, exactly once
    following = next_due(cadence, tz, due, ANCHOR).astimezone(tz)
    assert (following.date(), following.time()) == (transition + timedelta(days=7), time(2, 30))


# --- America/Los_Angeles ------------------------------------------------------------------------


def test_spring_forward_los_angeles() -> None:
    # 02:30 does not exist on 2026-03-08: sent at 03:30 PDT (10:30 UTC), shifted by the lost hour.
    assert_one_per_day(LA, date(2026, 3, 8), time(2, 30), time(3, 30), timedelta(hours=-7))
    assert_ten_oclock_working_week(LA, date(2026, 3, 8))
    assert_weekly_sunday_slot_in_transition_hour(
        LA, date(2026, 3, 8), datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    )


def test_fall_back_los_angeles() -> None:
    # 01:30 happens twice on 2026-11-01: sent once, at the first (PDT, -07:00) occurrence.
    assert_one_per_day(LA, date(2026, 11, 1), time(1, 30), time(1, 30), timedelta(hours=-7))
    assert_ten_oclock_working_week(LA, date(2026, 11, 1))
    cadence = Cadence(
        every="week",
        day="sun",
        time=time(1, 30),
        working_days=ALL_DAYS,
        quiet_start=QUIET_START,
        quiet_end=QUIET_END,
    )
    first = next_due(cadence, LA, datetime(2026, 10, 31, 12, 0, tzinfo=UTC), ANCHOR)
    assert first == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    # asking again during the repeated hour does not produce the second 01:30
    assert next_due(cadence, LA, first, ANCHOR) == datetime(2026, 11, 8, 9, 30, tzinfo=UTC)
    assert next_due(cadence, LA, datetime(2026, 11, 1, 9, 0, tzinfo=UTC), ANCHOR) == datetime(
        2026, 11, 8, 9, 30, tzinfo=UTC
    )


# --- Europe/Berlin ------------------------------------------------------------------------------


def test_spring_forward_berlin() -> None:
    assert_one_per_day(BERLIN, date(2026, 3, 29), time(2, 30), time(3, 30), timedelta(hours=2))
    assert_ten_oclock_working_week(BERLIN, date(2026, 3, 29))
    assert_weekly_sunday_slot_in_transition_hour(
        BERLIN, date(2026, 3, 29), datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    )


def test_fall_back_berlin() -> None:
    # 02:30 happens twice on 2026-10-25 (CEST then CET): sent once, at 00:30 UTC.
    assert_one_per_day(BERLIN, date(2026, 10, 25), time(2, 30), time(2, 30), timedelta(hours=2))
    assert_ten_oclock_working_week(BERLIN, date(2026, 10, 25))
    assert_weekly_sunday_slot_in_transition_hour(
        BERLIN, date(2026, 10, 25), datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )


# --- Australia/Sydney (southern hemisphere: spring forward in October, fall back in April) --------


def test_spring_forward_sydney() -> None:
    assert_one_per_day(SYDNEY, date(2026, 10, 4), time(2, 30), time(3, 30), timedelta(hours=11))
    assert_ten_oclock_working_week(SYDNEY, date(2026, 10, 4))
    assert_weekly_sunday_slot_in_transition_hour(
        SYDNEY, date(2026, 10, 4), datetime(2026, 10, 3, 16, 30, tzinfo=UTC)
    )


def test_fall_back_sydney() -> None:
    # 02:30 happens twice on 2026-04-05 (AEDT then AEST): sent once, at the AEDT one.
    assert_one_per_day(SYDNEY, date(2026, 4, 5), time(2, 30), time(2, 30), timedelta(hours=11))
    assert_ten_oclock_working_week(SYDNEY, date(2026, 4, 5))
    assert_weekly_sunday_slot_in_transition_hour(
        SYDNEY, date(2026, 4, 5), datetime(2026, 4, 4, 15, 30, tzinfo=UTC)
    )


# --- Asia/Kolkata (no DST, half-hour offset) -----------------------------------------------------


def test_no_dst_kolkata_keeps_plus_five_thirty_through_other_zones_transitions() -> None:
    for other_zones_transition in (date(2026, 3, 8), date(2026, 3, 29), date(2026, 10, 4), date(2026, 11, 1)):
        assert_one_per_day(
            KOLKATA, other_zones_transition, time(2, 30), time(2, 30), timedelta(hours=5, minutes=30)
        )
        assert_ten_oclock_working_week(KOLKATA, other_zones_transition)
    due = next_due(Cadence(), KOLKATA, datetime(2026, 3, 1, tzinfo=UTC), ANCHOR)
    assert due == datetime(2026, 3, 2, 4, 30, tzinfo=UTC)  # Monday 10:00 IST


# --- quiet hours meeting a transition ------------------------------------------------------------


def test_quiet_end_is_found_again_in_the_repeated_fall_back_hour() -> None:
    cadence = Cadence(working_days=ALL_DAYS, quiet_start=time(22, 0), quiet_end=time(1, 30))
    # 01:40 PDT is allowed; an hour later the clock reads 01:10 PST, quiet again until 01:30 PST.
    assert is_allowed(datetime(2026, 11, 1, 8, 40, tzinfo=UTC), cadence, LA)
    second_pass = datetime(2026, 11, 1, 9, 10, tzinfo=UTC)
    assert not is_allowed(second_pass, cadence, LA)
    assert next_allowed(second_pass, cadence, LA) == datetime(2026, 11, 1, 9, 30, tzinfo=UTC)


def test_quiet_end_inside_the_spring_forward_gap_opens_when_the_clock_jumps() -> None:
    cadence = Cadence(working_days=ALL_DAYS, quiet_start=time(22, 0), quiet_end=time(2, 30))
    # At 01:00 PST it is quiet; the first allowed instant is the jump itself (03:00 PDT = 10:00 UTC),
    # because the wall clock never shows 02:30 that night.
    got = next_allowed(datetime(2026, 3, 8, 9, 0, tzinfo=UTC), cadence, LA)
    assert got == datetime(2026, 3, 8, 10, 0, tzinfo=UTC)
    assert not is_allowed(got - timedelta(seconds=1), cadence, LA)


def test_slot_in_the_gap_that_is_quiet_on_paper_goes_out_when_the_shifted_time_is_allowed() -> None:
    # 02:30 would be quiet (until 03:00), but it is really sent at 03:30, which is not.
    cadence = Cadence(
        every="day", time=time(2, 30), working_days=ALL_DAYS, quiet_start=time(22, 0), quiet_end=time(3, 0)
    )
    due = next_due(cadence, LA, datetime(2026, 3, 8, 0, 0, tzinfo=UTC), ANCHOR)
    assert due == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)


def test_snooze_counts_real_hours_across_a_transition() -> None:
    cadence = Cadence(working_days=ALL_DAYS, quiet_start=time(22, 0), quiet_end=time(0, 30))
    now = datetime(2026, 3, 8, 9, 15, tzinfo=UTC)  # 01:15 PST
    assert snooze_until(now, cadence, LA) == datetime(2026, 3, 8, 11, 15, tzinfo=UTC)  # 04:15 PDT


def test_a_skipped_calendar_day_does_not_double_up() -> None:
    # Samoa skipped 2011-12-30 entirely, jumping from -10:00 to +14:00.
    apia = ZoneInfo("Pacific/Apia")
    cadence = Cadence(every="day", working_days=ALL_DAYS)
    start = datetime(2011, 12, 28, 0, 0, tzinfo=UTC)
    got = occurrences(cadence, apia, start, start + timedelta(days=6), date(2011, 1, 1))
    days = [d.astimezone(apia).date() for d in got]
    assert len(days) == len(set(days))
    assert date(2011, 12, 30) not in days and date(2011, 12, 31) in days
    assert {d.astimezone(apia).time() for d in got} == {time(10, 0)}
