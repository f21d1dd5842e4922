"""An edited or deleted answer changes the team digests already posted with it (issue 13.2): the
digest is rendered again from the database through a silent edit, as a forget does, so the manager
sees the new words, or the other reps' answers without the deleted one."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from sandbox.models import Message
from storage.models import Answer
from storage.people import sync_config_teams
from wiring.harness import BotHarness

MANAGER, REP1, REP2 = "U0MANAGER", "U0REP1", "U0REP2"
NY_MORNING = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)  # 10:00 in New York


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config('deliver_answers = "daily"\nadmins = ["U0ADMIN"]\n\n[[teams]]\nname = "West"\n'
                        'manager = "U0MANAGER"\nmembers = ["U0REP1", "U0REP2"]\n', "test config")


def answer(bot: BotHarness, rep: str, text: str) -> str:
    assert bot.slack.slash("now", user=rep).status == 200
    assert bot.slack.dm(rep, text).status == 200
    with bot.services.sessions.begin() as session:
        ts = session.scalar(select(Answer.message_ts).where(Answer.rep_id == rep))
        assert ts is not None
        return ts


def posted_digest(bot: BotHarness, clock: ManualClock) -> tuple[Message, str]:
    """Two answers in one posted digest; returns it and the ts of Ana's answer DM."""
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())
    first = answer(bot, REP1, "Ana: Globex pilot agreed.")
    answer(bot, REP2, "Ben: Initech stalled on legal.")
    clock.set(NY_MORNING)
    bot.dispatch()
    [digest] = [m for m in bot.sandbox.dms_to(MANAGER) if m.event_type == "team_digest"]
    assert "Globex pilot agreed" in digest.visible_text and "Initech stalled" in digest.visible_text
    return digest, first


def now_shown(bot: BotHarness, message: Message) -> str:
    found = bot.sandbox.workspace.find(message.channel, message.ts)
    assert found is not None
    return found.visible_text


def test_an_edited_answer_changes_the_digest_already_posted(bot: BotHarness, clock: ManualClock) -> None:
    digest, ts = posted_digest(bot, clock)
    assert bot.slack.edit_message(REP1, ts, "Ana: Globex pilot agreed for April.").status == 200
    assert "Globex pilot agreed for April" in now_shown(bot, digest)
    assert "Initech stalled" in now_shown(bot, digest)
    assert len([m for m in bot.sandbox.dms_to(MANAGER) if m.event_type == "team_digest"]) == 1  # edited, not new
    bot.sandbox.assert_no_violations()


def test_a_deleted_answer_leaves_the_digest_and_the_other_reps_stay(bot: BotHarness, clock: ManualClock) -> None:
    digest, ts = posted_digest(bot, clock)
    assert bot.slack.delete_message(REP1, ts).status == 200
    assert "Globex" not in now_shown(bot, digest)
    assert "Initech stalled" in now_shown(bot, digest)
    bot.sandbox.assert_no_violations()


def test_an_edit_at_the_managers_night_still_reaches_the_digest_at_once(bot: BotHarness, clock: ManualClock) -> None:
    digest, ts = posted_digest(bot, clock)
    clock.set(dt.datetime(2026, 3, 3, 6, 0, tzinfo=dt.UTC))  # 01:00 in New York: an edit notifies no one
    assert bot.slack.edit_message(REP1, ts, "Ana: pilot moved to May.").status == 200
    assert "pilot moved to May" in now_shown(bot, digest)


def test_an_answer_edited_in_the_form_changes_the_digest_already_posted(bot: BotHarness, clock: ManualClock) -> None:
    digest, _ = posted_digest(bot, clock)
    assert bot.slack.click("checkin_answer", user=REP1).status == 200  # "Edit answer" on the check-in DM
    view = bot.sandbox.views_of(REP1)[-1]
    assert bot.slack.submit_view(view, {"answer": {"answer_text": "Ana: the Globex pilot slipped to June."}},
                                 user=REP1).status == 200
    assert "slipped to June" in now_shown(bot, digest) and "Initech stalled" in now_shown(bot, digest)
