"""The respect policy: every kind of message says whose day it lands in, and waits for it."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from coaching.cadence import cadence_of
from core.config import parse_config
from scheduling.respect import RULES, Hours, Rule, allowed_from, hours_of
from storage import leave
from storage.models import OutboxKind, User
from storage.people import sync_config_teams

T = "T0TEST"
CONFIG = parse_config("""
[cadence]
holidays = ["2026-04-03"]

[[teams]]
name = "West"
manager = "U0MGR"
members = ["U0REP"]
manager_cadence = { quiet_hours = { start = "17:00", end = "08:00" } }
""")
BERLIN = ZoneInfo("Europe/Berlin")


def test_every_kind_of_message_has_a_respect_rule() -> None:
    # A new kind fails here until someone decides whose day it lands in.
    assert set(RULES) == set(OutboxKind)


def test_only_direct_replies_to_a_persons_own_action_go_at_once() -> None:
    assert {k for k, rule in RULES.items() if rule is Rule.AT_ONCE} == {
        OutboxKind.CHECKIN_NOW, OutboxKind.SUMMARY_PAGE, OutboxKind.HEALTH_CHART, OutboxKind.SUMMARY_CSV}


def test_only_silent_edits_of_what_the_recipient_already_has_go_at_once_otherwise() -> None:
    # A retraction or refresh (chat.update) or a Home tab published again notifies no one and posts
    # nothing new.
    assert {k for k, rule in RULES.items() if rule is Rule.SILENT} == {
        OutboxKind.RETRACT, OutboxKind.HOME_REFRESH, OutboxKind.RELAY_REFRESH, OutboxKind.CHECKIN_CLOSED,
        OutboxKind.CHECKIN_REFRESH}
    night = local(dt.date(2026, 3, 7), 23, 0)  # a Saturday night in Berlin
    hours = Hours(cadence_of(CONFIG.cadence), BERLIN)
    assert allowed_from(OutboxKind.RETRACT, hours, night) == night
    assert allowed_from(OutboxKind.ANSWER_RELAY, hours, night) > night


def local(day: dt.date, hour: int, minute: int = 0, zone: ZoneInfo = BERLIN) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone).astimezone(dt.UTC)


@pytest.mark.parametrize("sent, lands", [
    (local(dt.date(2026, 3, 4), 23, 0), local(dt.date(2026, 3, 5), 9, 0)),    # Wednesday night -> Thursday 09:00
    (local(dt.date(2026, 3, 6), 18, 30), local(dt.date(2026, 3, 9), 9, 0)),   # Friday evening -> Monday
    (local(dt.date(2026, 4, 2), 20, 0), local(dt.date(2026, 4, 6), 9, 0)),    # before Good Friday (a holiday)
    (local(dt.date(2026, 3, 4), 11, 0), local(dt.date(2026, 3, 4), 11, 0)),   # inside hours: at once
])
def test_a_message_waits_for_the_recipients_next_allowed_moment(sent: dt.datetime, lands: dt.datetime) -> None:
    hours = Hours(cadence_of(CONFIG.cadence), BERLIN)
    assert allowed_from(OutboxKind.COACHING_NOTE, hours, sent) == lands
    assert allowed_from(OutboxKind.CHECKIN_NOW, hours, sent) == sent  # the rep asked for it


def test_dst_spring_forward_berlin_a_night_message_lands_at_nine_local_not_utc() -> None:
    # 29 March 2026: Berlin moves from UTC+1 to UTC+2 at 02:00. A message at 01:30 local waits for
    # Monday 30 March 09:00 CEST (Sunday is not a working day), which is 07:00 UTC.
    hours = Hours(cadence_of(CONFIG.cadence), BERLIN)
    sent = local(dt.date(2026, 3, 29), 1, 30)
    assert allowed_from(OutboxKind.ANSWER_RELAY, hours, sent) == dt.datetime(2026, 3, 30, 7, 0, tzinfo=dt.UTC)


def test_dst_fall_back_new_york_the_repeated_hour_is_still_night() -> None:
    # 1 November 2026: New York repeats 01:00-02:00. Both 01:30s are quiet; the message waits for
    # Monday 2 November 09:00 EST (14:00 UTC).
    hours = Hours(cadence_of(CONFIG.cadence), ZoneInfo("America/New_York"))
    for fold in (0, 1):
        sent = dt.datetime(2026, 11, 1, 1, 30, fold=fold, tzinfo=ZoneInfo("America/New_York")).astimezone(dt.UTC)
        assert allowed_from(OutboxKind.TEAM_INVITE, hours, sent) == dt.datetime(2026, 11, 2, 14, 0, tzinfo=dt.UTC)


def test_a_manager_gets_their_teams_hours_with_their_own_override_and_zone(sessions: sessionmaker[Session]) -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, now)
        session.execute(update(User).where(User.slack_id == "U0MGR").values(tz="Asia/Tokyo"))
        found = hours_of(session, CONFIG, T, ["U0MGR", "U0REP", "U0NOBODY"])
    assert found["U0MGR"].zone == ZoneInfo("Asia/Tokyo")
    # The manager's own quiet hours start at 17:00; the rep's (the team's) at 18:00.
    evening = dt.datetime(2026, 3, 4, 17, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    assert not found["U0MGR"].allowed(evening)
    rep_evening = dt.datetime(2026, 3, 4, 17, 30, tzinfo=found["U0REP"].zone)
    assert found["U0REP"].allowed(rep_evening)
    # Someone never seen gets the default cadence in the default zone, rather than no rule at all.
    assert found["U0NOBODY"].zone == ZoneInfo("UTC")


def test_a_reply_passed_on_waits_but_a_silent_update_of_a_delivered_answer_does_not() -> None:
    hours = Hours(cadence_of(CONFIG.cadence), BERLIN)
    night = local(dt.date(2026, 3, 4), 23, 0)
    assert allowed_from(OutboxKind.NOTE_REPLY, hours, night) == local(dt.date(2026, 3, 5), 9, 0)
    assert allowed_from(OutboxKind.RELAY_REFRESH, hours, night) == night  # a deleted answer leaves at once
    assert RULES[OutboxKind.RELAY_REFRESH] is Rule.SILENT


CALENDARS = parse_config("""
[[teams]]
name = "Munich"
manager = "U0MGR"
members = ["U0REP", "U0NYREP"]
cadence = { holiday_calendar = "DE-BY" }
holiday_calendars = { U0NYREP = "US-NY" }

[[teams]]
name = "Boston"
manager = "U0MGRUS"
members = []
cadence = { holiday_calendar = "DE-BY" }
manager_cadence = { holiday_calendar = "US-MA" }
""")
NEW_YORK = ZoneInfo("America/New_York")
EPIPHANY = dt.date(2027, 1, 6)  # a Wednesday: a public holiday in Bavaria, not in the US
THANKSGIVING = dt.date(2026, 11, 26)  # a Thursday: off in the US, not in Bavaria


def test_each_recipient_gets_their_own_holiday_calendar(sessions: sessionmaker[Session]) -> None:
    now = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)
    with sessions.begin() as session:
        sync_config_teams(session, T, CALENDARS, now)
        session.execute(update(User).where(User.slack_id.in_(["U0MGR", "U0REP"])).values(tz="Europe/Berlin"))
        session.execute(update(User).where(User.slack_id.in_(["U0NYREP", "U0MGRUS"])).values(tz=NEW_YORK.key))
        found = hours_of(session, CALENDARS, T, ["U0MGR", "U0REP", "U0NYREP", "U0MGRUS"])
    # The team's calendar for its manager and its reps; a rep's own calendar where the config gives one.
    assert not found["U0MGR"].allowed(local(EPIPHANY, 11)) and not found["U0REP"].allowed(local(EPIPHANY, 11))
    assert found["U0NYREP"].allowed(local(EPIPHANY, 11, zone=NEW_YORK))
    assert not found["U0NYREP"].allowed(local(THANKSGIVING, 11, zone=NEW_YORK))
    # A manager_cadence calendar replaces the team's for that manager.
    assert found["U0MGRUS"].allowed(local(EPIPHANY, 11, zone=NEW_YORK))
    assert not found["U0MGRUS"].allowed(local(THANKSGIVING, 11, zone=NEW_YORK))
    # Waiting past the holiday: Thursday 7 January at quiet end.
    assert found["U0REP"].next_allowed(local(EPIPHANY, 8)) == local(dt.date(2027, 1, 7), 9)


def test_a_reps_leave_days_are_their_holidays_and_only_theirs(sessions: sessionmaker[Session]) -> None:
    now = dt.datetime(2026, 3, 2, 12, 0, tzinfo=dt.UTC)
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, now)
        session.execute(update(User).where(User.slack_id == "U0REP").values(tz="Europe/Berlin"))
        leave.book(session, T, "U0REP", dt.date(2026, 3, 9), dt.date(2026, 3, 13), now)
        found = hours_of(session, CONFIG, T, ["U0MGR", "U0REP"], now=now)
    assert not found["U0REP"].allowed(local(dt.date(2026, 3, 9), 11))
    assert found["U0REP"].next_allowed(local(dt.date(2026, 3, 9), 11)) == local(dt.date(2026, 3, 16), 9)
    assert found["U0MGR"].allowed(local(dt.date(2026, 3, 9), 11))


def test_dst_leave_ending_the_day_before_the_eu_change_resumes_at_nine_cest(
        sessions: sessionmaker[Session]) -> None:
    # Leave Monday 23 to Saturday 28 March; Berlin moves to UTC+2 on Sunday 29 March. A message held
    # over the leave lands on Monday 30 March at 09:00 CEST, 07:00 UTC (not 08:00, the CET hour).
    now = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, now)
        session.execute(update(User).where(User.slack_id == "U0REP").values(tz="Europe/Berlin"))
        leave.book(session, T, "U0REP", dt.date(2026, 3, 23), dt.date(2026, 3, 28), now)
        found = hours_of(session, CONFIG, T, ["U0REP"], now=now)
    sent = local(dt.date(2026, 3, 24), 11)
    assert allowed_from(OutboxKind.COACHING_NOTE, found["U0REP"], sent) == dt.datetime(2026, 3, 30, 7, 0,
                                                                                      tzinfo=dt.UTC)
