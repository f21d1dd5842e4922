"""Six simulated weeks of check-ins for reps in four time zones, across DST changes and holidays.

The expectations are written out by hand (local dates and wall times, plus a few UTC instants
worked out from the zones' offsets), never computed with `coaching.cadence`, so a bug there
cannot hide behind an identical bug in the test.

Time moves event-wise: the clock jumps to the earliest `due_at` in the database and a pass runs;
between events, more passes run at odd moments (and a second before each due time) to show that
nothing is ever sent early and that a second pass at the same moment sends nothing again.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from storage.models import CheckIn
from wiring.harness import BotHarness

UTC = dt.UTC
END = dt.datetime(2026, 4, 15, 0, 0, tzinfo=UTC)  # the clock fixture starts on Mon 2026-03-02 08:00 UTC
HOLIDAYS = {dt.date(2026, 3, 17), dt.date(2026, 4, 3)}

REPS = {  # rep -> (zone, display name)
    "U0LA": "America/Los_Angeles",   # US springs forward on Sun 8 March
    "U0BER": "Europe/Berlin",        # EU springs forward on Sun 29 March
    "U0SYD": "Australia/Sydney",     # falls back on Sun 5 April
    "U0KOL": "Asia/Kolkata",         # no DST at all
    "U0KOL2": "Asia/Kolkata",
}

CONFIG = """
default_timezone = "UTC"

[cadence]
holidays = ["2026-03-17", "2026-04-03"]

[[teams]]
name = "Daily"
manager = "U0MANAGER"
members = ["U0LA"]
cadence = { every = "day", time = "09:30" }

[[teams]]
name = "Weekly"
manager = "U0MANAGER"
members = ["U0BER"]
cadence = { every = "week", day = "tue", time = "09:30" }

[[teams]]
name = "Fortnightly"
manager = "U0MANAGER"
members = ["U0SYD"]
cadence = { every = "2 weeks", day = "mon", time = "10:00" }

[[teams]]
name = "Monthly"
manager = "U0MANAGER"
members = ["U0KOL"]
# This team's own holiday list replaces the default one.
cadence = { every = "month", time = "11:00", holidays = ["2026-04-02"] }

[[teams]]
name = "Early"
manager = "U0MANAGER"
members = ["U0KOL2"]
# 08:00 is inside the default quiet hours (18:00-09:00), so these land at 09:00.
cadence = { every = "day", time = "08:00" }
"""


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config(CONFIG, "month config")


def working_days(first: dt.date, last: dt.date, holidays: set[dt.date]) -> list[dt.date]:
    """Mon-Fri from first to last inclusive, minus holidays (the plain calendar, by hand)."""
    days, day = [], first
    while day <= last:
        if day.weekday() < 5 and day not in holidays:
            days.append(day)
        day += dt.timedelta(days=1)
    return days


def at(days: list[dt.date], hour: int, minute: int) -> list[tuple[dt.date, dt.time]]:
    return [(d, dt.time(hour, minute)) for d in days]


D = dt.date
# Local (date, wall time) of every check-in each rep must get between the start and END.
EXPECTED: dict[str, list[tuple[dt.date, dt.time]]] = {
    # Every working day at 09:30 from Mon 2 March (00:00 in LA when the clock starts) to Tue 14 April
    # (Wed 15 April 09:30 PDT is after END); none on the two holidays.
    "U0LA": at(working_days(D(2026, 3, 2), D(2026, 4, 14), HOLIDAYS), 9, 30),
    # Tuesdays at 09:30; the 17th is a holiday, so that week's moves to Wednesday the 18th.
    "U0BER": at([D(2026, 3, 3), D(2026, 3, 10), D(2026, 3, 18), D(2026, 3, 24), D(2026, 3, 31),
                 D(2026, 4, 7), D(2026, 4, 14)], 9, 30),
    # Every other Monday counted from the week the rep joined (Mon 2 March, 19:00 in Sydney at the
    # start, so that day's 10:00 has passed): 16 March, 30 March, 13 April.
    "U0SYD": at([D(2026, 3, 16), D(2026, 3, 30), D(2026, 4, 13)], 10, 0),
    # Monthly on the day the rep joined (the 2nd; 13:30 in Kolkata at the start, after 11:00):
    # 2 April is this team's holiday, so it moves to Friday 3 April (not a holiday for this team).
    "U0KOL": at([D(2026, 4, 3)], 11, 0),
    # Every working day from Tue 3 March (Mon's 09:00 had passed), at 09:00 not 08:00 (quiet hours);
    # Wed 15 April 09:00 IST is 03:30 UTC, after END.
    "U0KOL2": at(working_days(D(2026, 3, 3), D(2026, 4, 14), HOLIDAYS), 9, 0),
}

# A few instants worked out by hand from the offsets, to pin the DST changes down in UTC.
PINNED_UTC = {
    "U0LA": [dt.datetime(2026, 3, 6, 17, 30, tzinfo=UTC),    # PST, UTC-8
             dt.datetime(2026, 3, 9, 16, 30, tzinfo=UTC)],   # PDT, UTC-7, the day after the change
    "U0BER": [dt.datetime(2026, 3, 24, 8, 30, tzinfo=UTC),   # CET, UTC+1
              dt.datetime(2026, 3, 31, 7, 30, tzinfo=UTC)],  # CEST, UTC+2
    "U0SYD": [dt.datetime(2026, 3, 29, 23, 0, tzinfo=UTC),   # AEDT, UTC+11: Monday 30 March 10:00
              dt.datetime(2026, 4, 13, 0, 0, tzinfo=UTC)],   # AEST, UTC+10
    "U0KOL": [dt.datetime(2026, 4, 3, 5, 30, tzinfo=UTC)],   # IST, UTC+5:30
}


def prompts(bot: BotHarness) -> list:
    return [m for m in bot.sandbox.messages() if m.event_type == "checkin_prompt"]


def next_due(bot: BotHarness) -> dt.datetime | None:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(func.min(CheckIn.due_at)).where(CheckIn.state == "scheduled"))


def test_a_month_in_four_zones_sends_each_checkin_once_at_the_local_minute(
    bot: BotHarness, clock: ManualClock
) -> None:
    for rep, zone in REPS.items():
        bot.sandbox.add_user(rep, name=rep.lower(), tz=zone)
    rng = random.Random(3)
    sent_so_far = 0

    def quiet_pass(moment: dt.datetime) -> None:
        """A pass at a moment when nothing is due: it must send nothing."""
        clock.set(moment)
        bot.dispatch()
        assert len(prompts(bot)) == sent_so_far, f"something was sent early, at {moment.isoformat()}"

    bot.dispatch()  # plans everyone's first check-in
    events = 0
    while (due := next_due(bot)) is not None and due <= END:
        now = clock()
        assert due > now, "a due check-in was left behind by an earlier pass"
        # Odd moments in between (time only moves forward), then one second before the due time.
        for fraction in sorted(rng.random() for _ in range(2)):
            quiet_pass(now + (due - now) * fraction)
        quiet_pass(due - dt.timedelta(seconds=1))
        clock.set(due)
        bot.dispatch()
        now_sent = len(prompts(bot))
        assert now_sent > sent_so_far, f"nothing was sent at {due.isoformat()}"
        sent_so_far = now_sent
        quiet_pass(due)  # a second pass at the same moment: nothing twice; it also plans the next ones
        events += 1

    got: dict[str, list[tuple[dt.date, dt.time]]] = {rep: [] for rep in REPS}
    instants: dict[str, list[dt.datetime]] = {rep: [] for rep in REPS}
    for message in prompts(bot):
        rep = message.event_payload["rep"]
        # To the second: the sandbox adds microseconds to keep two posts' ts unique.
        moment = dt.datetime.fromtimestamp(float(message.ts), UTC).replace(microsecond=0)
        local = moment.astimezone(ZoneInfo(REPS[rep]))
        got[rep].append((local.date(), local.time().replace(second=0, microsecond=0)))
        instants[rep].append(moment)
        # Whatever the cadence: a working day, not a holiday, outside quiet hours (18:00-09:00).
        holidays = {D(2026, 4, 2)} if rep == "U0KOL" else HOLIDAYS
        assert local.weekday() < 5 and local.date() not in holidays, (rep, local)
        assert dt.time(9, 0) <= local.time() < dt.time(18, 0), (rep, local)

    for rep in REPS:
        assert got[rep] == EXPECTED[rep], rep
    for rep, pinned in PINNED_UTC.items():
        for moment in pinned:
            assert moment in instants[rep], (rep, moment)

    # The database agrees with Slack, each check-in was sent exactly once, and no row is left stuck.
    with bot.services.sessions.begin() as session:
        rows = session.scalars(select(CheckIn).where(CheckIn.message_ts.is_not(None))).all()
        by_ts = {m.ts: m for m in prompts(bot)}
        assert len(rows) == len(by_ts) == sum(len(v) for v in EXPECTED.values())
        for row in rows:
            message = by_ts[row.message_ts]
            assert message.event_payload["checkin_id"] == row.id
            assert row.sent_at == row.due_at == dt.datetime.fromtimestamp(float(message.ts), UTC).replace(microsecond=0)
        assert session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.state == "sending")) == 0
    assert events >= 60  # distinct due moments, each with four quiet passes around it
    bot.sandbox.assert_no_violations()
