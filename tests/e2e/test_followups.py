"""Follow-ups of replies and forget (issues 13.2, 14.7-8), end to end through the sandbox: more words
in an answered check-in's thread are added, never replacing; digests already posted follow an edit
or deletion; an offered DM's offer shows its edited words; the "Answered" swap is retried.

Maya manages from New York; Ana is in Los Angeles. Monday 2 March 2026 17:30 UTC is inside both
their working hours.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from sandbox.models import Message
from storage.models import Answer
from tests.conftest import DEFAULT_TEST_CONFIG
from tests.e2e.test_replies import answer_by_dm, of_type, sync
from wiring.harness import BotHarness

MANAGER, ANA = "U0MANAGER", "U0REP1"
BOTH_AT_WORK = dt.datetime(2026, 3, 2, 17, 30, tzinfo=dt.UTC)  # NY 12:30, LA 09:30


@pytest.fixture
def admin_config(request: pytest.FixtureRequest) -> AdminConfig:
    """The test config, with `[checkins] append_window_days` set where a test asks (indirect param)."""
    days = getattr(request, "param", None)
    text = DEFAULT_TEST_CONFIG if days is None else (
        DEFAULT_TEST_CONFIG.replace("\n[[teams]]", f"\n[checkins]\nappend_window_days = {days}\n\n[[teams]]", 1))
    return parse_config(text, "test config")


def answer_text(bot: BotHarness, rep: str) -> str | None:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(Answer.text).where(Answer.rep_id == rep))


def shown(bot: BotHarness, message: Message) -> str:
    now = bot.sandbox.workspace.find(message.channel, message.ts)
    assert now is not None
    return now.visible_text


def ephemeral_texts(bot: BotHarness, user: str) -> str:
    return "\n".join(str(c.args.get("text")) for c in bot.sandbox.calls_to("chat.postEphemeral")
                     if c.args.get("user") == user)


def test_a_reply_in_an_answered_checkins_thread_adds_to_the_answer(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    checkin, _ = answer_by_dm(bot, ANA, "Globex wants a pilot in April.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    clock.advance(dt.timedelta(minutes=10))
    assert bot.slack.dm(ANA, "Also: Initech asked for pricing.", thread_ts=checkin.message_ts).status == 200
    assert answer_text(bot, ANA) == "Globex wants a pilot in April.\n\nAlso: Initech asked for pricing."
    assert "Globex wants a pilot" in shown(bot, relay) and "Initech asked for pricing" in shown(bot, relay)
    assert "added this to your check-in answer" in ephemeral_texts(bot, ANA)
    assert len(of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")) == 1  # updated, not posted again
    bot.sandbox.assert_no_violations()


def test_a_thread_addition_is_its_own_part_and_editing_it_keeps_the_first_wording(
        bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    checkin, _ = answer_by_dm(bot, ANA, "Globex wants a pilot in April.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert bot.slack.dm(ANA, "Initech asked for pricing.", thread_ts=checkin.message_ts).status == 200
    added = [m for m in bot.sandbox.messages(ANA) if m.user == ANA][-1]
    assert added.text == "Initech asked for pricing." and added.thread_ts == checkin.message_ts
    assert bot.slack.edit_message(ANA, added.ts, "Initech asked for a quote.").status == 200
    assert answer_text(bot, ANA) == "Globex wants a pilot in April.\n\nInitech asked for a quote."
    assert "asked for a quote" in shown(bot, relay) and "asked for pricing" not in shown(bot, relay)


def test_a_thread_addition_that_would_pass_the_limit_changes_nothing_and_says_so(
        bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    checkin, _ = answer_by_dm(bot, ANA, "x" * 3000)
    assert bot.slack.dm(ANA, "y" * 1500, thread_ts=checkin.message_ts).status == 200
    assert answer_text(bot, ANA) == "x" * 3000
    assert "Nothing was changed" in ephemeral_texts(bot, ANA)


@pytest.mark.parametrize("admin_config", [10], indirect=True)
def test_a_longer_append_window_from_the_config_adds_a_dm_a_week_later(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "All good this week.")
    clock.set(BOTH_AT_WORK + dt.timedelta(days=7))
    assert bot.slack.dm(ANA, "Update: Globex signed.").status == 200
    assert answer_text(bot, ANA) == "All good this week.\n\nUpdate: Globex signed."
    assert "Shall I pass this on" not in ephemeral_texts(bot, ANA)


@pytest.mark.parametrize("admin_config", [0], indirect=True)
def test_an_append_window_of_zero_offers_even_a_dm_minutes_later(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "All good this week.")
    clock.advance(dt.timedelta(minutes=5))
    assert bot.slack.dm(ANA, "Forgot: out Friday.").status == 200
    assert answer_text(bot, ANA) == "All good this week."
    assert "Shall I pass this on" in ephemeral_texts(bot, ANA)


def test_editing_a_dm_only_offered_shows_the_new_words_in_a_fresh_offer_and_sends_them(
        bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "All good this week.")
    clock.set(BOTH_AT_WORK + dt.timedelta(days=7))
    assert bot.slack.dm(ANA, "Out Friday for the dentist.").status == 200
    dm = [m for m in bot.sandbox.messages(ANA) if m.user == ANA][-1]
    first_offer = bot.sandbox.ephemerals_to(ANA)[-1]
    assert "Out Friday for the dentist." in first_offer.text  # the offer shows what would be sent
    assert bot.slack.edit_message(ANA, dm.ts, "Out Friday and Monday for the dentist.").status == 200
    fresh = bot.sandbox.ephemerals_to(ANA)[-1]
    assert fresh is not first_offer and "Out Friday and Monday" in fresh.text and "edited" in fresh.text
    assert {"late_dm_send", "late_dm_discard"} <= set(fresh.action_ids())
    assert "updated the message I passed on" not in ephemeral_texts(bot, ANA)  # it was never passed on
    before = len(bot.sandbox.dms_to(MANAGER))
    bot.slack.click("late_dm_send", user=ANA, message=first_offer)  # the older offer sends the new words too
    [note] = of_type(bot.sandbox.dms_to(MANAGER)[before:], "coaching_note")
    assert "Out Friday and Monday for the dentist." in note.visible_text
    bot.sandbox.assert_no_violations()


def test_deleting_a_dm_only_offered_withdraws_the_offer(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    assert bot.slack.dm(ANA, "Thinking of quitting, honestly.").status == 200
    dm = [m for m in bot.sandbox.messages(ANA) if m.user == ANA][-1]
    offer = bot.sandbox.ephemerals_to(ANA)[-1]
    assert bot.slack.delete_message(ANA, dm.ts).status == 200
    assert "won't send it" in ephemeral_texts(bot, ANA)
    before = len(bot.sandbox.dms_to(MANAGER))
    bot.slack.click("late_dm_send", user=ANA, message=offer)
    assert len(bot.sandbox.dms_to(MANAGER)) == before
