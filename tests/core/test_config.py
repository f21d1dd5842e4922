from __future__ import annotations

import pytest

from core.config import ConfigError, parse_config

GOOD = """
default_timezone = "Europe/Berlin"
admins = ["U0ADMIN"]

[cadence]
every = "week"
day = "tue"
time = "09:30"

[guard]
max_touches_per_rep_per_week = 4

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2"]
cadence = { day = "wed", time = "11:00" }
"""


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_config(text, "checkins.toml")
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def test_it_accepts_an_empty_config_with_the_contract_defaults() -> None:
    config = parse_config("")
    assert config.default_timezone == "UTC"
    assert config.cadence.every == "week" and config.cadence.day == "mon" and config.cadence.time == "10:00"
    assert config.cadence.quiet_hours.start == "18:00" and config.cadence.quiet_hours.end == "09:00"
    assert config.cadence.reminder_after_hours == 24
    assert config.guard.max_touches_per_rep_per_week == 3
    assert config.guard.status_demand_share == 0.5
    assert config.guard.contact_gap_days == 14 and config.guard.warning_cooldown_days == 7


def test_team_overrides_merge_over_the_defaults() -> None:
    config = parse_config(GOOD)
    team = config.teams[0]
    effective = config.team_cadence(team)
    assert (effective.every, effective.day, effective.time) == ("week", "wed", "11:00")
    assert config.team_cadence(None).day == "tue"


def test_it_names_the_line_of_an_unknown_key() -> None:
    found = problems('[cadence]\nevery = "week"\nfrequency = 3\n')
    assert found == [(3, "cadence.frequency", found[0][2])]
    assert "unknown key" in found[0][2]


def test_it_reports_every_error_with_its_line() -> None:
    text = (
        'default_timezone = "Mars/Olympus"\n'   # 1
        '[cadence]\n'                           # 2
        'day = "monday"\n'                      # 3
        'time = "25:00"\n'                      # 4
        'holidays = ["2026-13-01"]\n'           # 5
        '[guard]\n'                             # 6
        'max_touches_per_rep_per_week = "3"\n'  # 7
        '[[teams]]\n'                           # 8
        'name = "West"\n'                       # 9
        'manager = "U0M"\n'                     # 10
        'cadence = { day = "someday" }\n'       # 11
    )
    found = problems(text)
    lines = {key: line for line, key, _ in found}
    assert lines["default_timezone"] == 1
    assert lines["cadence.day"] == 3
    assert lines["cadence.time"] == 4
    assert lines["cadence.holidays"] == 5
    assert lines["guard.max_touches_per_rep_per_week"] == 7
    assert lines["teams[0].cadence.day"] == 11


def test_it_rejects_quiet_hours_that_cover_every_working_hour() -> None:
    found = problems('[cadence]\nquiet_hours = { start = "09:00", end = "08:30" }\n')
    assert found[0][0] == 2
    assert "cover every working hour" in found[0][2]


def test_it_reports_toml_syntax_errors_with_the_line() -> None:
    found = problems('[cadence]\nevery = "week\n')
    assert found[0][0] == 2


def test_it_rejects_a_bad_weekday_in_working_days() -> None:
    found = problems('[cadence]\nworking_days = ["mon", "funday"]\n')
    assert found[0][0] == 2 and "funday" in found[0][2]


def test_a_cadence_is_described_in_one_line_for_config_check() -> None:
    config = parse_config(GOOD)
    assert config.cadence.describe() == ("every week on Tue at 09:30 local time; working days "
                                         "mon,tue,wed,thu,fri; quiet 18:00-09:00; 0 holiday(s); reminder after 24h")
    west = config.team_cadence(config.teams[0])
    assert west.rhythm() == "every week on Wed at 11:00 local time"
    assert config.cadence.with_changes("day").rhythm() == "every working day at 09:30 local time"


def test_the_tone_hold_confidence_defaults_to_0_7_and_must_be_a_share() -> None:
    assert parse_config("").guard.tone_hold_confidence == 0.7
    assert parse_config("[guard]\ntone_hold_confidence = 1\n").guard.tone_hold_confidence == 1.0
    [(_, key, _)] = problems("[guard]\ntone_hold_confidence = 1.5\n")
    assert "tone_hold_confidence" in key
    assert problems('[guard]\ntone_hold_confidence = "high"\n')


def test_the_help_nudge_waits_two_working_days_by_default_and_zero_turns_it_off() -> None:
    assert parse_config("").guard.help_nudge_working_days == 2
    assert parse_config("[guard]\nhelp_nudge_working_days = 0\n").guard.help_nudge_working_days == 0
    [(_, key, _)] = problems("[guard]\nhelp_nudge_working_days = -1\n")
    assert "help_nudge_working_days" in key


def test_a_holiday_calendar_is_a_country_or_region_known_to_the_holidays_package() -> None:
    config = parse_config('[cadence]\nholiday_calendar = "US"\n\n[[teams]]\nname = "Munich"\nmanager = "U0M"\n'
                          'cadence = { holiday_calendar = "DE-BY" }\nholiday_calendars = { U0R = "GB-SCT" }\n')
    assert config.cadence.holiday_calendar == "US"
    assert config.team_cadence(config.teams[0]).holiday_calendar == "DE-BY"
    assert "plus the DE-BY calendar" in config.team_cadence(config.teams[0]).describe()


@pytest.mark.parametrize("text, line, key, words", [
    ('[cadence]\nholiday_calendar = "XX"\n', 2, "cadence.holiday_calendar", "not a known holiday calendar"),
    ('[cadence]\nholiday_calendar = "DE-ZZ"\n', 2, "cadence.holiday_calendar", "DE has no region 'ZZ'"),
    ('[[teams]]\nname = "A"\nmanager = "U0M"\nholiday_calendars = { U0R = "Narnia" }\n', 4,
     "teams[0].holiday_calendars", "not a known holiday calendar"),
])
def test_an_unknown_holiday_calendar_is_one_clear_line(text: str, line: int, key: str, words: str) -> None:
    [(found_line, found_key, message)] = problems(text)
    assert (found_line, found_key) == (line, key) and words in message and "\n" not in message


def test_the_late_dm_append_window_is_a_checked_number_of_days() -> None:
    assert parse_config("").checkins.append_window_days == 3
    assert parse_config("[checkins]\nappend_window_days = 0\n").checkins.append_window_days == 0
    for bad in ("45", "-1", '"3"', "2.5", "true"):
        [(line, key, message)] = problems(f"[checkins]\nappend_window_days = {bad}\n")
        assert (line, key) == (2, "checkins.append_window_days")
        assert "from 0 to 30" in message and "as a note" in message
