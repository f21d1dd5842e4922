"""The CSV summary's text: formulas stay text, times in UTC and in the rep's own zone (DST named)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest

from coaching.summary_csv import COLUMNS, CheckinRow, cell, to_csv


@pytest.mark.parametrize("value,expected", [
    ("=1+1", "'=1+1"), ("+44 20", "'+44 20"), ("-2", "'-2"), ("@SUM(A1)", "'@SUM(A1)"), ("\t=x", "'\t=x"),
    ("plain", "plain"), ("a=b", "a=b"), ("", ""),
])
def test_cells_a_spreadsheet_would_run_are_prefixed_with_a_quote(value: str, expected: str) -> None:
    assert cell(value) == expected


def row(**changes: object) -> CheckinRow:
    base = dict(rep_id="U1", rep_name="Ana", rep_zone="Europe/Berlin", goal="Renew Acme", kind="scheduled",
                state="answered", due_at=dt.datetime(2026, 3, 28, 9, 0, tzinfo=dt.UTC),
                sent_at=dt.datetime(2026, 3, 29, 9, 0, tzinfo=dt.UTC),
                answered_at=dt.datetime(2026, 3, 29, 10, 30, tzinfo=dt.UTC), answer='She said "no", then yes',
                confidence=3, help_wanted=False)
    base.update(changes)
    return CheckinRow(**base)  # type: ignore[arg-type]


def test_dst_spring_forward_berlin_local_times_carry_the_offset_of_their_own_day() -> None:
    # Berlin moves from UTC+1 to UTC+2 on 29 March 2026 at 02:00 local time.
    [parsed] = list(csv.DictReader(io.StringIO(to_csv([row()]))))
    assert list(parsed) == list(COLUMNS)
    assert parsed["due_utc"] == "2026-03-28T09:00:00Z" and parsed["due_local"] == "2026-03-28T10:00+01:00"
    assert parsed["sent_local"] == "2026-03-29T11:00+02:00" and parsed["answered_local"] == "2026-03-29T12:30+02:00"
    assert parsed["answer"] == 'She said "no", then yes' and parsed["help_wanted"] == "no"


def test_an_unanswered_checkin_leaves_the_answer_cells_empty() -> None:
    [parsed] = list(csv.DictReader(io.StringIO(to_csv([row(state="skipped", answered_at=None, answer=None,
                                                           confidence=None, help_wanted=None, sent_at=None)]))))
    assert [parsed[k] for k in ("sent_utc", "answered_utc", "answer", "confidence", "help_wanted")] == [""] * 5


def test_a_name_or_goal_that_reads_as_a_formula_is_quoted_too() -> None:
    text = to_csv([row(rep_name="=cmd|' /C calc'!A0", goal="+1 deal")])
    assert "'=cmd" in text and "'+1 deal" in text
