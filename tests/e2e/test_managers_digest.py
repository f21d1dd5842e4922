"""`deliver_answers = "daily" | "weekly"`: answers reach managers as one `team_digest` per period,
never twice however many dispatch passes run."""

from __future__ import annotations

import datetime as dt
import threading
from unittest.mock import ANY

import pytest

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from handlers.passes import run_pass
from sandbox.models import Message
from storage.people import sync_config_teams
from wiring.harness import BotHarness

MANAGER, REP1, REP2 = "U0MANAGER", "U0REP1", "U0REP2"
UTC = dt.UTC
TEAMS = """
admins = ["U0ADMIN"]

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2", "U0REP3"]
"""


@pytest.fixture
def admin_config(request: pytest.FixtureRequest) -> AdminConfig:
    mode = getattr(request, "param", "daily")
    return parse_config(f'deliver_answers = "{mode}"\n' + TEAMS, "test config")


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def of_type(messages: list[Message], event_type: str) -> list[Message]:
    return [m for m in messages if (m.metadata or {}).get("event_type") == event_type]


def answer(bot: BotHarness, rep: str, text: str) -> None:
    assert bot.slack.slash("now", user=rep).status == 200
    assert bot.slack.dm(rep, text).status == 200


def digests(bot: BotHarness) -> list[Message]:
    return of_type(bot.sandbox.dms_to(MANAGER), "team_digest")


def test_daily_digest_is_sent_once_per_day_under_repeated_and_concurrent_passes(
        bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    answer(bot, REP1, "Monday news from Ana.")
    clock.advance(dt.timedelta(minutes=5))
    answer(bot, REP2, "Monday news from Ben.")
    assert of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer") == [], "no DM per answer"
    bot.dispatch()
    assert digests(bot) == [], "03:00 in New York: quiet hours"

    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 10:00 in New York
    bot.dispatch()
    bot.dispatch()
    threads = [threading.Thread(target=run_pass, args=(bot.services,)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    [digest] = digests(bot)
    assert digest.event_payload == {"manager": MANAGER, "answers": 2, "outbox_id": ANY}
    assert "Monday news from Ana." in str(digest.blocks) and "Monday news from Ben." in str(digest.blocks)
    assert digest.text and {"answer_reply", "answer_thanks"} <= set(digest.action_ids())

    clock.advance(dt.timedelta(hours=2))
    answer(bot, REP1, "Late Monday update.")
    bot.dispatch()
    assert len(digests(bot)) == 1, "the rest of today's answers wait for tomorrow's digest"
    clock.set(dt.datetime(2026, 3, 3, 15, 0, tzinfo=UTC))
    bot.dispatch()
    bot.dispatch()
    second = digests(bot)[1:]
    assert len(second) == 1
    assert "Late Monday update." in str(second[0].blocks) and "Monday news" not in str(second[0].blocks)
    bot.sandbox.assert_no_violations()


def test_thanks_from_a_digest_reaches_the_rep(bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    answer(bot, REP1, "Shipped it.")
    bot.dispatch()
    [digest] = digests(bot)
    bot.slack.click("answer_thanks", user=MANAGER, message=digest)
    # 15:00 UTC is 07:00 in Los Angeles: the thanks waits for the rep's working day.
    assert of_type(bot.sandbox.dms_to(REP1), "coaching_note") == []
    clock.set(dt.datetime(2026, 3, 2, 17, 0, tzinfo=UTC))
    bot.dispatch()
    [thanks] = of_type(bot.sandbox.dms_to(REP1), "coaching_note")
    assert "thanks" in thanks.text.lower()


@pytest.mark.parametrize("admin_config", ["weekly"], indirect=True)
def test_weekly_digest_comes_once_a_week(bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    answer(bot, REP1, "First week.")
    bot.dispatch()
    assert len(digests(bot)) == 1
    clock.set(dt.datetime(2026, 3, 4, 15, 0, tzinfo=UTC))
    answer(bot, REP1, "Midweek thought.")
    bot.dispatch()
    assert len(digests(bot)) == 1
    clock.set(dt.datetime(2026, 3, 9, 15, 0, tzinfo=UTC))
    bot.dispatch()
    bot.dispatch()
    assert len(digests(bot)) == 2
    assert "Midweek thought." in str(digests(bot)[1].blocks) and "First week." not in str(digests(bot)[1].blocks)


def test_the_dispatch_command_sends_digests_without_building_the_app(bot: BotHarness, clock: ManualClock) -> None:
    """`checkin-bot dispatch` builds services but no Bolt app; its pass must still send digests."""
    from wiring.boot import build_services

    sync(bot)
    answer(bot, REP1, "Answer before a cron pass.")
    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=UTC))  # 10:00 in New York
    cron_services = build_services(bot.settings, bot.services.config, clock=clock)
    run_pass(cron_services)
    cron_services.engine.dispose()
    [digest] = digests(bot)
    assert "Answer before a cron pass." in str(digest.blocks)
