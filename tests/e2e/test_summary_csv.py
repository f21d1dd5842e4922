"""`/checkin summary … csv` and App Home's button: the team's check-ins as a CSV file in the manager's DM.

One row per check-in, times in UTC and in the rep's zone, under the summary's rules: only the
manager's own confirmed reps, nothing of another team, no answer a rep has deleted, and no cell a
spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io

import pytest

from coaching.summary_csv import COLUMNS
from core.config import AdminConfig, parse_config
from handlers.cmd_manager import CSV_MANAGERS_ONLY
from handlers.context import REFUSAL
from tests.conftest import ANY_HOUR_CADENCE
from tests.e2e.test_managers import answer_in_modal, sync
from wiring.harness import BotHarness

MANAGER, OTHER, REP1, REP2, REP4 = "U0MANAGER", "U0OTHERMGR", "U0REP1", "U0REP2", "U0REP4"


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config(f"""
admins = ["U0ADMIN"]
{ANY_HOUR_CADENCE}
[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2", "U0REP3"]

[[teams]]
name = "East"
manager = "U0OTHERMGR"
members = ["U0REP4"]
""", "csv test")


def csv_files(bot: BotHarness) -> list[list[dict[str, str]]]:
    out = []
    for f in bot.sandbox.files:
        if f.filename.endswith(".csv") and f.content is not None:
            assert f.completed and f.channels == [], "uploaded privately, shown through the DM's link"
            out.append(list(csv.DictReader(io.StringIO(f.content.decode("utf-8")))))
    return out


def test_the_csv_has_one_row_per_checkin_of_this_team_only_with_both_zones(bot: BotHarness) -> None:
    bot.sandbox.add_user(REP4, name="dana", tz="Asia/Tokyo")
    sync(bot)
    bot.slack.slash("goal add Close the Acme renewal", user=REP1)
    answer_in_modal(bot, REP1, "=HYPERLINK(\"http://evil\") legal is slow", confidence="4", help_wanted=True)
    answer_in_modal(bot, REP2, "Pricing page is live.")
    answer_in_modal(bot, REP4, "East team secret: the Zeta deal.")

    bot.slack.slash("summary 2w csv", user=MANAGER)
    reply = [e for e in bot.sandbox.ephemerals_to(MANAGER) if e.source != "ack"][-1].text
    assert "CSV" in reply and "our DM" in reply
    [rows] = csv_files(bot)
    assert list(rows[0].keys()) == list(COLUMNS)
    assert sorted(r["rep_id"] for r in rows) == [REP1, REP2], "one row per check-in, and only this team's"
    raw = next(f.content for f in bot.sandbox.files if f.filename.endswith(".csv"))
    assert raw is not None and b"Zeta" not in raw and REP4.encode() not in raw

    ana = next(r for r in rows if r["rep_id"] == REP1)
    assert ana["answer"].startswith("'=HYPERLINK("), "a formula stays text"
    assert ana["goal"] == "Close the Acme renewal" and ana["state"] == "answered"
    assert ana["confidence"] == "4" and ana["help_wanted"] == "yes"
    assert ana["rep_zone"] == "America/Los_Angeles"
    assert ana["sent_utc"].endswith("Z")
    # 2 March 2026, 08:00 UTC is 00:00 in Los Angeles (PST, UTC-8).
    assert ana["sent_utc"].startswith("2026-03-02T08:00") and ana["sent_local"] == "2026-03-02T00:00-08:00"
    ben = next(r for r in rows if r["rep_id"] == REP2)
    assert ben["rep_zone"] == "Europe/Berlin" and ben["sent_local"].endswith("+01:00")

    [dm] = [m for m in bot.sandbox.dms_to(MANAGER) if "check-ins, last 2 weeks" in m.text]
    assert (dm.metadata or {}).get("event_type") == "team_digest"
    assert ".csv" in str(dm.blocks) and "2 rows for 3 reps" in dm.text
    bot.sandbox.assert_no_violations()


def test_a_forgotten_answer_and_another_managers_rep_stay_out(bot: BotHarness) -> None:
    bot.sandbox.add_user(REP4, name="dana", tz="Asia/Tokyo")
    sync(bot)
    answer_in_modal(bot, REP1, "Something I later deleted.")
    bot.slack.slash("forget", user=REP1)
    bot.slack.click("forget_confirm", user=REP1)
    answer_in_modal(bot, REP4, "East only.")

    # Asking for another team's rep gets the summary's refusal; the other manager gets only theirs.
    assert bot.slack.slash(f"summary <@{REP4}> csv", user=MANAGER).reply["text"] == REFUSAL
    assert csv_files(bot) == []
    bot.slack.slash("summary csv", user=MANAGER)
    [rows] = csv_files(bot)
    assert [r["rep_id"] for r in rows] == [REP1]
    assert rows[0]["answer"] == "" and b"deleted" not in next(
        f.content or b"" for f in bot.sandbox.files if f.filename.endswith(".csv"))
    bot.slack.slash("summary csv", user=OTHER)
    assert [[r["rep_id"] for r in rows] for rows in csv_files(bot)][-1] == [REP4]


def test_admins_get_aggregates_only_and_home_has_a_button(bot: BotHarness) -> None:
    sync(bot)
    assert bot.slack.slash("summary csv", user="U0ADMIN").reply["text"] == CSV_MANAGERS_ONLY
    assert csv_files(bot) == []
    answer_in_modal(bot, REP1, "Home button row.")
    bot.slack.open_home(MANAGER)
    assert "summary_csv" in str(bot.sandbox.home_of(MANAGER))
    bot.slack.click("summary_csv", user=MANAGER, value="4")
    [rows] = csv_files(bot)
    assert [r["rep_id"] for r in rows] == [REP1]
    bot.sandbox.assert_no_violations()


def test_when_uploads_are_refused_the_manager_is_told_in_the_dm(bot: BotHarness) -> None:
    sync(bot)
    answer_in_modal(bot, REP1, "Anything.")
    bot.sandbox.faults.slack_error("files.getUploadURLExternal", "file_uploads_disabled")
    bot.slack.slash("summary csv", user=MANAGER)
    assert csv_files(bot) == []
    assert [m for m in bot.sandbox.dms_to(MANAGER) if "couldn't attach the CSV" in m.text]
