"""The /checkin grammar (CONTRACT §4), parsed without Slack."""

from __future__ import annotations

import datetime as dt

import pytest

from handlers.slash import ParseError, parse


@pytest.mark.parametrize("text", ["", "   ", "help", "HELP"])
def test_no_text_or_help_is_help(text: str) -> None:
    assert parse(text).name == "help"


def test_goal_add_keeps_the_text_and_decodes_slack_entities() -> None:
    command = parse("goal add Close AT&amp;T by &lt;March&gt;")
    assert (command.name, command.text) == ("goal_add", "Close AT&T by <March>")


@pytest.mark.parametrize("mention", ["<@U0REP1>", "<@U0REP1|ana>"])
def test_both_mention_forms_are_accepted(mention: str) -> None:
    command = parse(f"ask {mention} What would help you with Acme?")
    assert command.reps == ("U0REP1",) and command.text == "What would help you with Acme?"


def test_summary_takes_reps_and_weeks() -> None:
    command = parse("summary <@U0REP1|ana> <@U0REP2> 2w")
    assert command.reps == ("U0REP1", "U0REP2") and command.weeks == 2
    assert parse("summary").weeks == 4


@pytest.mark.parametrize("text,reps,weeks", [
    ("summary csv", (), 4), ("summary 2w csv", (), 2), ("summary CSV 3w", (), 3),
    ("summary <@U0REP1> csv", ("U0REP1",), 4),
])
def test_summary_csv_comes_before_or_after_the_period(text: str, reps: tuple[str, ...], weeks: int) -> None:
    command = parse(text)
    assert (command.reps, command.weeks, command.extra) == (reps, weeks, {"format": "csv"})
    assert parse("summary 2w").extra == {}


@pytest.mark.parametrize("text,days,until", [
    ("pause 3d", 3, None), ("pause 2w", 14, None), ("pause 2026-04-01", None, dt.date(2026, 4, 1)),
])
def test_pause_accepts_a_date_days_or_weeks(text: str, days: int | None, until: dt.date | None) -> None:
    command = parse(text)
    assert (command.pause_days, command.pause_until) == (days, until)


@pytest.mark.parametrize("text,every,day,time", [
    ("cadence <@U0REP1> week tue 09:30", "week", "tue", "09:30"),
    ("cadence <@U0REP1> 2 weeks mon", "2 weeks", "mon", None),
    ("cadence <@U0REP1|ana> day 9:05", "day", None, "09:05"),
    ("cadence <@U0REP1> month", "month", None, None),
    ("cadence <@U0REP1> weekly friday", "week", "fri", None),
])
def test_cadence_proposals_parse(text: str, every: str, day: str | None, time: str | None) -> None:
    command = parse(text)
    assert (command.every, command.day, command.time) == (every, day, time)


@pytest.mark.parametrize("text,hint", [
    ("goal", "goal add"),
    ("goal add", "write the goal"),
    ("pause", "Usage"),
    ("pause someday", "couldn't read"),
    ("pause 999d", "180 days"),
    ("summary 99w", "52w"),
    ("summary @ana", "couldn't read"),
    ("summary csv csv", "once"),
    ("summary csv pdf", "couldn't read"),
    ("ask", "name a rep"),
    ("ask ana how is it going", "mention them with @"),
    ("ask <@U0REP1>", "write the question"),
    ("cadence <@U0REP1> hourly", "cadence"),
    ("cadence <@U0REP1> week 25:00", "24-hour"),
    ("cadence <@U0REP1> day mon", "only applies to weekly"),
    ("skip now please", "takes no extra words"),
    ("launch rockets", "/checkin help"),
])
def test_malformed_commands_get_a_polite_hint(text: str, hint: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert hint in str(caught.value)


def test_every_subcommand_the_parser_accepts_has_a_handler() -> None:
    # A subcommand that parses but has no handler would be offered and then refused.
    from handlers.commands import ROUTES
    from handlers.slash import SIMPLE

    assert {parse(name).name for name in SIMPLE} <= set(ROUTES)
    for text in ("goal add x", "pause 2w", "pause cancel", "summary", "ask <@U0REP1> What helps?", "cadence <@U0REP1> week",
                 "team add <@U0REP1>"):
        assert parse(text).name in ROUTES, text


def test_home_is_not_offered_as_a_subcommand() -> None:
    with pytest.raises(ParseError, match="I don't know `home`"):
        parse("home")


@pytest.mark.parametrize("text", ["pause 2026-12-21 to 2027-01-04", "pause 2026-12-21 TO 2027-01-04",
                                  "pause  2026-12-21   to 2027-01-04 "])
def test_pause_takes_a_range_booked_ahead(text: str) -> None:
    command = parse(text)
    assert command.name == "pause" and command.leave == (dt.date(2026, 12, 21), dt.date(2027, 1, 4))
    assert (command.pause_days, command.pause_until) == (None, None)


def test_pause_cancel_is_its_own_command_and_the_old_grammar_is_unchanged() -> None:
    assert parse("pause cancel").name == "pause_cancel"
    assert parse("pause 2w").leave is None and parse("pause 2026-04-01").leave is None


@pytest.mark.parametrize("text", ["pause 2026-12-21 to", "pause 2026-12-21 to soon", "pause 2026-02-30 to 2026-03-02",
                                  "pause 2026-12-21 and 2027-01-04"])
def test_a_range_that_cannot_be_read_gets_the_usage(text: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert "Usage" in str(caught.value) and "to 2027-01-04" in str(caught.value)
