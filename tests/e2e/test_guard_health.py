"""`/checkin health` and the App Home meter: each signal against its line, and admin aggregates only."""

from __future__ import annotations

import datetime as dt

from core.clock import ManualClock
from handlers.context import REFUSAL
from handlers.render.guard_health import PREPARING
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True


def health(bot: BotHarness, user: str) -> dict:
    """`/checkin health`: the ack says the report is coming; the report follows via response_url."""
    ack = bot.slack.slash("health", user=user).reply
    assert ack is not None and ack["text"] == PREPARING and ack["response_type"] == "ephemeral"
    # In tests each listener finishes before its HTTP response, so the ack shows up last.
    report = [e for e in bot.sandbox.ephemerals_to(user) if e.source != "ack"][-1]
    return {"text": report.text, "blocks": report.blocks}


def texts(blocks: list[dict]) -> str:
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in blocks)


def test_health_shows_each_signal_against_its_line_with_an_eight_week_trend(
        bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    for day in range(4):
        bot.slack.slash(f"ask @ana What would help you most this week? ({day})", user="U0MANAGER")
        clock.advance(dt.timedelta(hours=20))
    bot.slack.click("ask_send_anyway", user="U0MANAGER")  # the fourth was held by the budget
    reply = health(bot, "U0MANAGER")
    shown = texts(reply["blocks"])
    for name in ("Frequency", "Tone", "Coverage", "Feedback", "Fatigue", "Contact gap"):
        assert name in shown
    assert "4 in 7 days (line 3) ⚠️" in shown and "*<@U0REP1>* · watch" in shown
    assert "8 wk" in shown and "What good looks like" in shown
    bot.sandbox.assert_no_violations()


def test_a_rep_asking_for_health_gets_the_polite_refusal(bot: BotHarness) -> None:
    assert bot.slack.slash("health", user="U0REP1").reply["text"] == REFUSAL


def test_admins_see_how_many_managers_drift_never_who(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(days=15))
    bot.dispatch()
    reply = health(bot, "U0ADMIN")
    shown = texts(reply["blocks"]) + reply["text"]
    assert "1 manager with reps" in shown and "watch 1" in shown
    assert "<@" not in shown and "U0MANAGER" not in shown and "U0REP" not in shown
    bot.sandbox.assert_no_violations()


def test_app_home_shows_managers_their_meter_and_admins_the_counts(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(days=15))
    bot.slack.open_home("U0MANAGER")
    manager_home = texts(bot.sandbox.home_of("U0MANAGER")["blocks"])
    assert "Your check-in health" in manager_home and "<@U0REP1>: contact gap" in manager_home
    bot.slack.click("guard_show_health", user="U0MANAGER")
    assert "Contact gap" in str(bot.sandbox.views_of("U0MANAGER")[-1]["blocks"])
    bot.slack.open_home("U0ADMIN")
    admin_home = texts(bot.sandbox.home_of("U0ADMIN")["blocks"])
    assert "organisation-wide" in admin_home and "U0REP" not in admin_home
    bot.slack.open_home("U0REP1")
    assert "Your check-in health" not in texts(bot.sandbox.home_of("U0REP1")["blocks"])
    bot.sandbox.assert_no_violations()
