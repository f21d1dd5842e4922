"""A manager who writes back to the rep counts as responding (issue 13.2 with the drift guard's
feedback signal): a reply passed on to the rep acknowledges the rep's latest answer, as a note on
it would, so "asking without ever responding" does not fire for a manager who does respond."""

from __future__ import annotations

import datetime as dt

from coaching.drift import DEFAULT_THRESHOLDS, compute_signals
from core.clock import ManualClock
from storage import guard_history
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True
MANAGER, ANA = "U0MANAGER", "U0REP1"


def acknowledged(bot: BotHarness) -> list[bool]:
    with bot.services.sessions.begin() as session:
        found = guard_history.pair_histories(session, bot.services.config, bot.services.team_id,
                                             [(MANAGER, ANA)], bot.services.now())[(MANAGER, ANA)]
        assert compute_signals(found, DEFAULT_THRESHOLDS, bot.services.now())["feedback"].observed
        return [a.acknowledged for a in found.answers if a.answered_at is not None]


def test_a_managers_reply_to_the_reps_late_dm_counts_as_responding(bot: BotHarness, clock: ManualClock) -> None:
    assert bot.slack.slash("ask @ana What would help you move the Acme renewal forward?", user=MANAGER).status == 200
    assert bot.slack.dm(ANA, "A call with their CFO would help.").status == 200
    assert acknowledged(bot) == [False]
    clock.advance(dt.timedelta(days=5))  # past the append window: the DM is offered as a note
    assert bot.slack.dm(ANA, "I booked the CFO call for Thursday.").status == 200
    bot.slack.click("late_dm_send", user=ANA)
    passed = [m for m in bot.sandbox.dms_to(MANAGER) if "booked the CFO call" in m.visible_text]
    assert passed, "the rep's DM reached the manager"
    assert acknowledged(bot) == [False], "the rep's own words acknowledge nothing"
    assert bot.slack.dm(MANAGER, "Great, tell me how it goes.", thread_ts=passed[-1].ts).status == 200
    assert any("tell me how it goes" in m.visible_text for m in bot.sandbox.dms_to(ANA))
    assert acknowledged(bot) == [True]
    bot.sandbox.assert_no_violations()
