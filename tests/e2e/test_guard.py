"""The drift guard end to end: warnings from a dispatch pass, once, to the manager only."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from core.clock import ManualClock
from handlers.context import REFUSAL
from sandbox.models import Message
from storage.models import ManagerQuestion, WarningSent
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

WARNING_TYPES = {"drift_warning", "contact_gap"}


def warnings_to(bot: BotHarness, user: str, kind: str | None = None) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(user)
            if m.event_type in WARNING_TYPES and (kind is None or m.event_type == kind)]


def block_text(message: Message) -> str:
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in message.blocks)


def ask(bot: BotHarness, question: str, then_click: str | None = None) -> None:
    reply = bot.slack.slash(f"ask @ana {question}", user="U0MANAGER")
    assert reply.status == 200, reply.text
    if then_click:
        bot.slack.click(then_click, user="U0MANAGER")


def test_four_questions_in_five_days_give_the_manager_one_private_warning(
        bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()  # plans Monday's check-ins; by Saturday they are too late to send
    ask(bot, "What would help you move the Acme renewal forward?")
    clock.advance(dt.timedelta(days=1))
    ask(bot, "Why did you miss the Acme deadline?", then_click="ask_send_anyway")
    clock.advance(dt.timedelta(days=2))
    ask(bot, "Why didn't you call Globex back?", then_click="ask_send_anyway")
    clock.advance(dt.timedelta(days=2))
    ask(bot, "What are you most proud of this week?")
    held = bot.sandbox.ephemerals_to("U0MANAGER")[-1]
    assert "limit of 3" in block_text(held), "the fourth question is held by the budget"  # type: ignore[arg-type]
    bot.slack.click("ask_send_anyway", user="U0MANAGER")
    rep_messages = len(bot.sandbox.dms_to("U0REP1"))
    assert rep_messages == 4

    bot.dispatch()
    [warning] = warnings_to(bot, "U0MANAGER")
    assert warning.event_type == "drift_warning"
    assert warning.event_payload["manager"] == "U0MANAGER" and warning.event_payload["rep"] == "U0REP1"
    shown = block_text(warning)
    assert "Observed:" in shown and "Agreed:" in shown and "Why it matters:" in shown and "Try this:" in shown
    assert {"guard_cadence_hint", "guard_show_health"} <= set(warning.action_ids())
    assert len(bot.sandbox.dms_to("U0REP1")) == rep_messages, "the rep is never told"
    with bot.services.sessions.begin() as session:
        questions = session.scalars(select(ManagerQuestion)).all()
        assert [q.overridden for q in questions] == [False, True, True, True]
        assert {w.signal for w in session.scalars(select(WarningSent))} >= {"frequency"}

    bot.dispatch()  # the same day: nothing more
    clock.advance(dt.timedelta(hours=5))
    bot.dispatch()
    assert len(warnings_to(bot, "U0MANAGER")) == 1
    assert warnings_to(bot, "U0REP1") == []
    bot.sandbox.assert_no_violations()


def test_fifteen_days_without_a_checkin_give_one_contact_gap_nudge(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(days=15))
    bot.dispatch()
    [nudge] = warnings_to(bot, "U0MANAGER")
    assert nudge.event_type == "contact_gap" and nudge.event_payload["manager"] == "U0MANAGER"
    assert "15 days since the last check-in" in block_text(nudge)
    bot.dispatch()
    assert len(warnings_to(bot, "U0MANAGER")) == 1
    for rep in ("U0REP1", "U0REP2", "U0REP3"):
        assert warnings_to(bot, rep) == []
    assert warnings_to(bot, "U0OTHERMGR") == []
    bot.sandbox.assert_no_violations()


def test_a_paused_rep_gives_no_contact_gap_nudge(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    for rep in ("U0REP1", "U0REP2", "U0REP3"):
        assert bot.slack.slash("pause 3w", user=rep).status == 200
    clock.advance(dt.timedelta(days=15))
    bot.dispatch()
    assert warnings_to(bot, "U0MANAGER") == []
    bot.sandbox.assert_no_violations()


def test_the_warning_buttons_show_the_cadence_syntax_and_the_health_report(
        bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(days=15))
    bot.dispatch()
    [nudge] = warnings_to(bot, "U0MANAGER")
    bot.slack.click("guard_cadence_hint", user="U0MANAGER", message=nudge)
    hint = bot.sandbox.ephemerals_to("U0MANAGER")[-1].text
    assert "/checkin cadence" in hint and "week mon 10:00" in hint
    bot.slack.click("guard_show_health", user="U0MANAGER", message=nudge)
    modal = bot.sandbox.views_of("U0MANAGER")[-1]
    assert modal["type"] == "modal" and "Contact gap" in str(modal["blocks"])
    # Someone else pressing the same button learns nothing about the rep.
    bot.slack.click("guard_cadence_hint", user="U0OTHERMGR", message=nudge)
    assert bot.sandbox.ephemerals_to("U0OTHERMGR")[-1].text == REFUSAL
    bot.sandbox.assert_no_violations()


def test_two_dispatch_passes_at_once_send_one_warning(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()
    clock.advance(dt.timedelta(days=15))
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(lambda _: bot.dispatch(), range(2)))
    assert len(warnings_to(bot, "U0MANAGER", "contact_gap")) == 1
    bot.sandbox.assert_no_violations()
