"""Time off end to end: leave booked ahead, holiday calendars per team, and a contact gap that
follows the agreed cadence (issue 13, items 4 and 5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from zoneinfo import ZoneInfo

from core.clock import ManualClock
from sandbox import Sandbox
from sandbox.models import Message
from tests.conftest import ANY_HOUR_CADENCE, DEFAULT_TEST_CONFIG, TEST_PEOPLE
from wiring.config import parse_checked
from wiring.harness import BotHarness

UTC = dt.UTC
MANAGER, BEN = "U0MANAGER", "U0REP2"  # ben is in Europe/Berlin
BERLIN = ZoneInfo("Europe/Berlin")


@contextmanager
def running(sandbox: Sandbox, database_url: str, clock: ManualClock, config: str,
            extra: tuple[tuple[str, str, str], ...] = ()) -> Iterator[BotHarness]:
    for user_id, name, tz in (*TEST_PEOPLE, *extra):
        sandbox.add_user(user_id, name=name, tz=tz)
    with BotHarness(sandbox, database_url, parse_checked(config, "time off test"), clock=clock) as bot:
        yield bot


def at(message: Message) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(message.ts), UTC)


def prompts_to(bot: BotHarness, user: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(user) if m.event_type == "checkin_prompt"]


def last_ephemeral(bot: BotHarness, user: str) -> str:
    found = bot.sandbox.ephemerals_to(user)
    assert found, f"no ephemeral for {user}"
    return found[-1].text + " " + str(found[-1].blocks)


def run_until(bot: BotHarness, clock: ManualClock, until: dt.datetime,
              step: dt.timedelta = dt.timedelta(hours=1)) -> None:
    while clock() < until:
        bot.dispatch()
        clock.advance(step)
    clock.set(until)


def test_leave_booked_ahead_holds_everything_until_it_ends_and_the_manager_sees_it(
        sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # Monday; ben's check-ins: Mon 10:00
    with running(sandbox, database_url, clock, DEFAULT_TEST_CONFIG) as bot:
        bot.slack.slash("goal add Land the Initech pilot", user=BEN)
        reply = bot.slack.slash("pause 2026-03-09 to 2026-03-20", user=BEN).text
        assert "On leave 2026-03-09 to 2026-03-20" in reply and "2026-03-21" in reply
        bot.slack.slash("summary", user=MANAGER)
        assert "leave booked 2026-03-09 to 2026-03-20" in last_ephemeral(bot, MANAGER)

        run_until(bot, clock, dt.datetime(2026, 3, 11, 12, 0, tzinfo=UTC))
        # On leave: the manager's summary and Home say so, and until when.
        bot.slack.slash("summary", user=MANAGER)
        assert "on leave until 2026-03-20" in last_ephemeral(bot, MANAGER)
        bot.slack.open_home(MANAGER)
        assert "on leave until 2026-03-20" in str(bot.sandbox.home_of(MANAGER))
        # A question asked during the leave is held first, and if sent anyway waits for their return.
        bot.slack.slash("ask @ben What would help you most with the pilot?", user=MANAGER)
        assert "2026-03-21" in last_ephemeral(bot, MANAGER)
        bot.slack.click("ask_send_anyway", user=MANAGER)

        run_until(bot, clock, dt.datetime(2026, 3, 24, 0, 0, tzinfo=UTC))
        messages = bot.sandbox.dms_to(BEN)
        away = [m for m in messages if dt.date(2026, 3, 9) <= at(m).astimezone(BERLIN).date() <= dt.date(2026, 3, 20)]
        assert away == [], "nothing reaches a rep on leave"
        # The two check-ins due during the leave were skipped, not piled up: one before, one after.
        assert [at(m) for m in prompts_to(bot, BEN)] == [dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                                                        dt.datetime(2026, 3, 23, 9, 0, tzinfo=UTC)]
        [question] = [m for m in messages if m.event_type == "manager_question"]
        assert at(question) == dt.datetime(2026, 3, 23, 8, 0, tzinfo=UTC)  # Monday 09:00 in Berlin
        bot.slack.slash("summary", user=MANAGER)
        assert "on leave" not in last_ephemeral(bot, MANAGER)
        bot.sandbox.assert_no_violations()


def test_leave_across_the_eu_dst_change_resumes_at_ten_local_time(
        sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    # Europe/Berlin moves to summer time on 2026-03-29, in the middle of this leave.
    clock.set(dt.datetime(2026, 3, 16, 8, 0, tzinfo=UTC))
    with running(sandbox, database_url, clock, DEFAULT_TEST_CONFIG) as bot:
        bot.slack.slash("goal add Land the Initech pilot", user=BEN)
        assert "On leave" in bot.slack.slash("pause 2026-03-23 to 2026-04-03", user=BEN).text
        run_until(bot, clock, dt.datetime(2026, 4, 7, 0, 0, tzinfo=UTC))
        assert [at(m) for m in prompts_to(bot, BEN)] == [
            dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC),  # 10:00 CET
            dt.datetime(2026, 4, 6, 8, 0, tzinfo=UTC),  # 10:00 CEST, the Monday after the leave
        ]
        bot.sandbox.assert_no_violations()


def test_leave_booked_and_cancelled_from_app_home(sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    with running(sandbox, database_url, clock, DEFAULT_TEST_CONFIG) as bot:
        bot.slack.open_home(BEN)
        bot.slack.click("home_leave_open", user=BEN)
        modal = bot.sandbox.views_of(BEN)[-1]
        # The last day before the first: a polite error on the form, nothing booked.
        refused = bot.slack.submit_view(modal, {"leave_first_day": "2026-03-12", "leave_last_day": "2026-03-10"},
                                        user=BEN)
        assert refused.reply is not None and "ends before it starts" in str(refused.reply["errors"])
        assert "Leave booked" not in str(bot.sandbox.home_of(BEN))
        bot.slack.submit_view(modal, {"leave_first_day": "2026-03-09", "leave_last_day": "2026-03-13"}, user=BEN)
        home = str(bot.sandbox.home_of(BEN))
        assert "Leave booked" in home and "2026-03-09 to 2026-03-13" in home
        bot.slack.click("home_leave_cancel", user=BEN)
        assert "Leave booked" not in str(bot.sandbox.home_of(BEN))
        bot.slack.slash("summary", user=MANAGER)
        assert "leave" not in last_ephemeral(bot, MANAGER).lower()
        bot.sandbox.assert_no_violations()


def test_ending_leave_early_with_resume_brings_the_next_checkin_back(
        sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    with running(sandbox, database_url, clock, DEFAULT_TEST_CONFIG) as bot:
        bot.slack.slash("goal add Land the Initech pilot", user=BEN)
        bot.slack.slash("pause 2026-03-03 to 2026-03-27", user=BEN)
        run_until(bot, clock, dt.datetime(2026, 3, 10, 12, 0, tzinfo=UTC))
        assert "Welcome back" in bot.slack.slash("resume", user=BEN).text
        run_until(bot, clock, dt.datetime(2026, 3, 17, 0, 0, tzinfo=UTC))
        assert [at(m) for m in prompts_to(bot, BEN)] == [dt.datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                                                        dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)]
        bot.sandbox.assert_no_violations()


def test_bad_leave_ranges_get_a_polite_answer_and_book_nothing(sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    with running(sandbox, database_url, clock, DEFAULT_TEST_CONFIG) as bot:
        for text, expected in [
            ("pause 2026-03-20 to 2026-03-09", "ends before it starts"),
            ("pause 2026-02-01 to 2026-02-10", "in the past"),
            ("pause 2026-03-09 to 2027-06-01", "up to a year"),
            ("pause 2026-03-09 to soon", "YYYY-MM-DD"),
            ("pause 2026-13-01 to 2026-13-05", "YYYY-MM-DD"),
        ]:
            response = bot.slack.slash(text, user=BEN)
            assert response.status == 200 and expected in response.text, (text, response.text)
        assert "no leave booked" in bot.slack.slash("pause cancel", user=BEN).text
        bot.slack.slash("summary", user=MANAGER)
        assert "leave" not in last_ephemeral(bot, MANAGER).lower()


HOLIDAY_CONFIG = """
[cadence]
every = "day"

[[teams]]
name = "Munich"
manager = "U0MGRDE"
members = ["U0MUC"]
cadence = { holiday_calendar = "DE-BY" }

[[teams]]
name = "Boston"
manager = "U0MGRUS"
members = ["U0BOS"]
cadence = { holiday_calendar = "US-MA" }
"""
HOLIDAY_PEOPLE = (("U0MGRDE", "greta", "Europe/Berlin"), ("U0MUC", "max", "Europe/Berlin"),
                  ("U0MGRUS", "gail", "America/New_York"), ("U0BOS", "bo", "America/New_York"))


def test_a_bavarian_team_gets_nothing_on_epiphany_while_a_us_team_does(
        sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    clock.set(dt.datetime(2027, 1, 4, 6, 0, tzinfo=UTC))  # Monday; Wednesday 6 January is Epiphany
    new_york = ZoneInfo("America/New_York")
    with running(sandbox, database_url, clock, HOLIDAY_CONFIG, HOLIDAY_PEOPLE) as bot:
        # Each rep answers Tuesday's check-in in their evening: the answer waits for their manager.
        run_until(bot, clock, dt.datetime(2027, 1, 5, 19, 0, tzinfo=UTC))  # 20:00 in Munich
        bot.slack.dm("U0MUC", "The Siemens demo went well; next step is pricing.")
        run_until(bot, clock, dt.datetime(2027, 1, 6, 1, 0, tzinfo=UTC))  # 20:00 in Boston
        bot.slack.dm("U0BOS", "Met the Fidelity team; they want a pilot.")
        run_until(bot, clock, dt.datetime(2027, 1, 8, 6, 0, tzinfo=UTC))
        munich = {at(m).astimezone(BERLIN).date() for m in bot.sandbox.dms_to("U0MUC")}
        boston = {at(m).astimezone(new_york).date() for m in prompts_to(bot, "U0BOS")}
        assert dt.date(2027, 1, 6) not in munich
        assert {dt.date(2027, 1, 5), dt.date(2027, 1, 7)} <= munich  # the days around it as usual
        assert {dt.date(2027, 1, 5), dt.date(2027, 1, 6), dt.date(2027, 1, 7)} <= boston
        # The managers follow their team's calendar too: Munich's hears on Thursday, Boston's on Wednesday.
        [munich_relay] = [m for m in bot.sandbox.dms_to("U0MGRDE") if m.event_type == "checkin_answer"]
        [boston_relay] = [m for m in bot.sandbox.dms_to("U0MGRUS") if m.event_type == "checkin_answer"]
        assert at(munich_relay) == dt.datetime(2027, 1, 7, 8, 0, tzinfo=UTC)  # Thursday 09:00 in Munich
        assert at(boston_relay) == dt.datetime(2027, 1, 6, 14, 0, tzinfo=UTC)  # Wednesday 09:00 in Boston
        bot.sandbox.assert_no_violations()


def gap_config() -> str:
    return ANY_HOUR_CADENCE + """
[[teams]]
name = "Monthly"
manager = "U0MANAGER"
members = ["U0REP1"]
cadence = { every = "month" }

[[teams]]
name = "Weekly"
manager = "U0OTHERMGR"
members = ["U0REP3"]
"""


def gaps_to(bot: BotHarness, manager: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(manager) if m.event_type == "contact_gap"]


def test_a_monthly_rep_has_no_contact_gap_at_20_days_but_has_one_past_45(
        sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    clock.set(start)
    with running(sandbox, database_url, clock, gap_config()) as bot:
        bot.dispatch()  # plans the first check-ins; jumping the clock makes them too late to send
        clock.set(start + dt.timedelta(days=20))
        bot.dispatch()
        assert gaps_to(bot, "U0MANAGER") == [], "20 days is within a monthly agreement"
        assert len(gaps_to(bot, "U0OTHERMGR")) == 1, "but past the 14-day floor for a weekly one"
        clock.set(start + dt.timedelta(days=44))
        bot.dispatch()
        assert gaps_to(bot, "U0MANAGER") == []
        clock.set(start + dt.timedelta(days=46))
        bot.dispatch()
        [nudge] = gaps_to(bot, "U0MANAGER")
        assert nudge.event_payload["reps"] == ["U0REP1"]
        assert "46 days since the last check-in" in str(nudge.blocks)
        bot.sandbox.assert_no_violations()


def test_leave_does_not_count_towards_the_contact_gap(sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    start = dt.datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    clock.set(start)
    config = ANY_HOUR_CADENCE + '\n[[teams]]\nname = "West"\nmanager = "U0MANAGER"\nmembers = ["U0REP1"]\n'
    with running(sandbox, database_url, clock, config) as bot:
        bot.dispatch()
        # Ana (Los Angeles) books ten days off starting tomorrow: 15 days on, only 5 of them count.
        bot.slack.slash("pause 2026-03-03 to 2026-03-12", user="U0REP1")
        clock.set(start + dt.timedelta(days=15))
        bot.dispatch()
        assert gaps_to(bot, "U0MANAGER") == []
        clock.set(start + dt.timedelta(days=25))
        bot.dispatch()
        [nudge] = gaps_to(bot, "U0MANAGER")
        assert "not counting leave" in str(nudge.blocks)
        bot.sandbox.assert_no_violations()
