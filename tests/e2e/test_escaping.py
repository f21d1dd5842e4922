"""Text a person wrote never becomes live markup, and escaping never pushes a surface past Slack's limits."""

from __future__ import annotations

import json

from sqlalchemy import select

from sandbox.checks import UNSAFE_MARKUP, live_markup
from storage.models import CheckIn
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

REP = "U0REP1"
INJECTION = "Win <!channel> & <@U0OTHERMGR|omar> <https://evil.example|click>"


def test_the_checkin_fallback_text_carries_the_goal_escaped(bot: BotHarness) -> None:
    bot.slack.slash(f"goal add {INJECTION}", user=REP)
    assert bot.slack.slash("now", user=REP).status == 200
    [prompt] = [m for m in bot.sandbox.dms_to(REP) if m.event_type == "checkin_prompt"]
    assert live_markup(prompt.text) is None and "&lt;!channel&gt;" in prompt.text
    assert [v for v in bot.sandbox.violations if v.kind == UNSAFE_MARKUP] == []


def test_the_updated_checkin_keeps_its_fallback_escaped(bot: BotHarness) -> None:
    bot.slack.slash(f"goal add {INJECTION}", user=REP)
    bot.slack.slash("now", user=REP)
    bot.slack.dm(REP, "Going well")
    updates = [c for c in bot.sandbox.calls_to("chat.update")]
    assert updates and all(live_markup(str(c.args.get("text"))) is None for c in updates)


def test_a_home_tab_with_ten_long_goals_full_of_ampersands_still_publishes(bot: BotHarness) -> None:
    for i in range(10):
        goal = (f"{i} R&D & P&L " + "&" * 280)[:280]
        assert bot.slack.slash(f"goal add {goal}", user=REP).status == 200
    bot.slack.open_home(REP)
    publishes = bot.sandbox.calls_to("views.publish")
    assert publishes and all(c.ok for c in publishes), [c.response for c in publishes]
    home = bot.sandbox.home_of(REP)
    assert home is not None
    text = json.dumps(home)
    assert all(f"{i} R&amp;D" in text for i in range(10))
    bot.sandbox.assert_no_violations()


def test_the_goal_pickers_deselect_is_not_refused(bot: BotHarness) -> None:
    bot.slack.slash("goal add Win Acme", user=REP)
    bot.slack.slash("goal add Grow Globex", user=REP)
    bot.slack.slash("now", user=REP)
    with bot.services.sessions.begin() as session:
        before = session.scalar(select(CheckIn.goal_id).where(CheckIn.rep_id == REP))
    response = bot.slack.click("checkin_pick_goal", user=REP, value=None)
    assert response.status == 200
    assert not any(e.text.startswith("Sorry") for e in bot.sandbox.ephemerals_to(REP))
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(CheckIn.goal_id).where(CheckIn.rep_id == REP)) == before
