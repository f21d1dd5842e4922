"""Property tests: whatever the zone, cadence and moment, the schedule keeps its promises."""

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coaching.cadence import (
    EVERY_VALUES,
    WEEKDAYS,
    Cadence,
    is_allowed,
    is_allowed_day,
    next_allowed,
    next_due,
    occurrences,
    snooze_until,
)

# Chosen for awkward rules: both hemispheres, half/quarter-hour offsets, 30-minute DST (Lord Howe),
# transitions at midnight (Havana, Santiago, Beirut), Ramadan DST pauses (Casablanca), a skipped
# calendar day (Apia, 2011), and zones with no DST at all.
ZONES = [
    "UTC",
    "America/Los_Angeles",
    "America/New_York",
    "America/St_Johns",
    "America/Havana",
    "America/Santiago",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Europe/London",
    "Africa/Casablanca",
    "Asia/Beirut",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Pacific/Apia",
]
FIXED_OFFSET_ZONES = ["UTC", "Asia/Kolkata", "Asia/Kathmandu", "Asia/Tokyo"]

PROPERTY_SETTINGS = settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])

zones = st.sampled_from(ZONES).map(ZoneInfo)
# Quarter hours hit the transition instants (mostly on the hour or half hour) far more often.
wall_times = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
any_wall_times = st.one_of(wall_times, st.builds(time, st.integers(0, 23), st.integers(0, 59)))
moments = st.datetimes(
    min_value=datetime(2005, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC)
)


@st.composite
def cadences(draw: st.DrawFn) -> Cadence:
    return Cadence(
        every=draw(st.sampled_from(EVERY_VALUES)),
        day=draw(st.sampled_from(WEEKDAYS)),
        time=draw(any_wall_times),
        working_days=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        quiet_start=draw(wall_times),
        quiet_end=draw(wall_times),
        holidays=draw(
            st.frozensets(st.dates(min_value=date(2004, 12, 1), max_value=date(2036, 3, 1)), max_size=5)
        ),
    )


@st.composite
def cadence_with_nearby_holidays(draw: st.DrawFn) -> tuple[Cadence, datetime]:
    """A cadence whose holidays cluster right after `after`, where they can actually move slots."""
    cadence, after = draw(cadences()), draw(moments)
    near = st.integers(-3, 40).map(lambda n: after.date() + timedelta(days=n))
    holidays = draw(st.frozensets(near, max_size=25))
    return replace(cadence, holidays=holidays), after


anchors = st.dates(min_value=date(2004, 1, 1), max_value=date(2036, 1, 1))


def assert_utc(moment: datetime) -> None:
    assert moment.tzinfo is not None and moment.utcoffset() == timedelta(0)


@PROPERTY_SETTINGS
@given(zone=zones, pair=cadence_with_nearby_holidays(), anchor=anchors)
def test_next_due_is_later_allowed_and_utc(
    zone: ZoneInfo, pair: tuple[Cadence, datetime], anchor: date
) -> None:
    cadence, after = pair
    due = next_due(cadence, zone, after, anchor)
    assert_utc(due)
    assert due > after
    assert is_allowed(due, cadence, zone)
    # Asking from anywhere between `after` and the answer gives the same answer: nothing was skipped
    # over and the schedule does not depend on when you ask.
    assert next_due(cadence, zone, after + (due - after) / 2, anchor) == due
    assert next_due(cadence, zone, due - timedelta(microseconds=1), anchor) == due


@PROPERTY_SETTINGS
@given(zone=zones, cadence=cadences(), start=moments, anchor=anchors, days=st.integers(1, 45))
def test_occurrences_strictly_increase_inside_the_window(
    zone: ZoneInfo, cadence: Cadence, start: datetime, anchor: date, days: int
) -> None:
    end = start + timedelta(days=days)
    got = occurrences(cadence, zone, start, end, anchor)
    assert all(a < b for a, b in zip(got, got[1:], strict=False))
    assert all(start < d <= end and is_allowed(d, cadence, zone) for d in got)
    for d in got:
        assert_utc(d)


@PROPERTY_SETTINGS
@given(zone=zones, cadence=cadences(), moment=moments)
def test_next_allowed_is_the_earliest_allowed_moment(
    zone: ZoneInfo, cadence: Cadence, moment: datetime
) -> None:
    got = next_allowed(moment, cadence, zone)
    assert_utc(got)
    assert got >= moment
    assert is_allowed(got, cadence, zone)
    assert next_allowed(got, cadence, zone) == got
    if got > moment:
        # Nothing allowed in between: check the instant just before and a spread of points.
        assert not is_allowed(max(moment, got - timedelta(seconds=1)), cadence, zone)
        span = got - moment
        assert not any(is_allowed(moment + span * i / 97, cadence, zone) for i in range(97))


@PROPERTY_SETTINGS
@given(zone=zones, cadence=cadences(), now=moments, hours=st.floats(0, 72))
def test_snooze_is_never_early_and_always_allowed(
    zone: ZoneInfo, cadence: Cadence, now: datetime, hours: float
) -> None:
    got = snooze_until(now, cadence, zone, hours)
    assert_utc(got)
    assert got >= now + timedelta(hours=hours)
    assert is_allowed(got, cadence, zone)


@PROPERTY_SETTINGS
@given(
    zone=st.sampled_from(FIXED_OFFSET_ZONES).map(ZoneInfo),
    cadence=cadences(),
    start=moments,
    days=st.integers(1, 30),
)
def test_daily_outside_quiet_hours_is_one_per_free_day_at_the_agreed_time(
    zone: ZoneInfo, cadence: Cadence, start: datetime, days: int
) -> None:
    cadence = replace(cadence, every="day")
    quiet = not is_allowed(
        datetime.combine(date(2024, 1, 1), cadence.time, tzinfo=zone),
        replace(cadence, working_days=frozenset(range(7)), holidays=frozenset()),
        zone,
    )
    end = start + timedelta(days=days)
    got = occurrences(cadence, zone, start, end, date(2004, 1, 1))
    local_days = [d.astimezone(zone).date() for d in got]
    assert len(local_days) == len(set(local_days))  # never two on one day
    if not quiet:
        assert {d.astimezone(zone).time() for d in got} <= {cadence.time}
        first, last = start.astimezone(zone), end.astimezone(zone)
        expected = [
            first.date() + timedelta(days=i)
            for i in range((last.date() - first.date()).days + 1)
            if is_allowed_day(first.date() + timedelta(days=i), cadence)
        ]
        # Only the edge days depend on whether the slot time falls inside the window.
        assert [d for d in expected if first.date() < d < last.date()] == [
            d for d in local_days if first.date() < d < last.date()
        ]
