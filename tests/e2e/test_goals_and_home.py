"""Goals: the modal edits, reorders and archives; App Home shows goals, next check-in, answers."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.clock import ManualClock
from storage.models import CheckIn, Goal
from wiring.harness import BotHarness


def goal_texts(bot: BotHarness, user: str) -> list[str]:
    with bot.services.sessions.begin() as session:
        rows = session.scalars(select(Goal).where(Goal.rep_id == user, Goal.archived_at.is_(None))
                               .order_by(Goal.position)).all()
        return [g.text for g in rows]


def test_goals_opens_a_modal_that_edits_reorders_and_archives(bot: BotHarness) -> None:
    for text in ("Acme renewal", "Globex upsell", "Initech pilot"):
        bot.slack.slash(f"goal add {text}", user="U0REP1")
    bot.slack.slash("goals", user="U0REP1")
    view = bot.sandbox.views_of("U0REP1")[-1]
    assert view["callback_id"] == "goals_edit"
    goal_ids = [int(b["block_id"][5:]) for b in view["blocks"] if b["block_id"].startswith("goal_")
                and b["block_id"][5:].isdigit()]
    bot.slack.click("goal_down", user="U0REP1", value=str(goal_ids[0]), view=view)
    assert goal_texts(bot, "U0REP1") == ["Globex upsell", "Acme renewal", "Initech pilot"]
    view = bot.sandbox.views_of("U0REP1")[-1]
    bot.slack.click("goal_archive", user="U0REP1", value=str(goal_ids[2]), view=view)
    assert goal_texts(bot, "U0REP1") == ["Globex upsell", "Acme renewal"]
    view = bot.sandbox.views_of("U0REP1")[-1]
    response = bot.slack.submit_view(view, {f"goal_{goal_ids[1]}": {"goal_text": "Globex upsell to 200 seats"},
                                            "goal_new": {"goal_text": "Hooli intro"}}, user="U0REP1")
    assert response.status == 200
    assert goal_texts(bot, "U0REP1") == ["Globex upsell to 200 seats", "Acme renewal", "Hooli intro"]
    bot.sandbox.assert_no_violations()


def test_a_goal_over_the_limit_in_the_modal_is_refused_in_place(bot: BotHarness) -> None:
    bot.slack.slash("goals", user="U0REP2")
    view = bot.sandbox.views_of("U0REP2")[-1]
    # Slack enforces max_length in the client; a forged submission still meets the server check.
    response = bot.slack.submit_view(view, {"goal_new": {"goal_text": "y" * 300}}, user="U0REP2")
    reply = response.json()
    assert reply["response_action"] == "errors" and "280" in reply["errors"]["goal_new"]
    assert goal_texts(bot, "U0REP2") == []


def test_another_reps_goal_cannot_be_archived_with_a_forged_click(bot: BotHarness) -> None:
    bot.slack.slash("goal add Ana's secret goal", user="U0REP1")
    with bot.services.sessions.begin() as session:
        goal_id = session.scalar(select(Goal.id).where(Goal.rep_id == "U0REP1"))
    bot.slack.slash("goals", user="U0REP2")
    view = bot.sandbox.views_of("U0REP2")[-1]
    forged = {**view, "blocks": [*view["blocks"], {"type": "actions", "block_id": "forged", "elements": [
        {"type": "button", "action_id": "goal_archive", "text": {"type": "plain_text", "text": "x"},
         "value": str(goal_id)}]}]}
    bot.slack.click("goal_archive", user="U0REP2", value=str(goal_id), view=forged)
    assert goal_texts(bot, "U0REP1") == ["Ana's secret goal"]


def test_app_home_shows_goals_next_checkin_and_escapes_them(bot: BotHarness) -> None:
    bot.slack.slash("goal add Win <!channel> & <https://evil|click>", user="U0REP1")
    bot.dispatch()
    bot.slack.open_home("U0REP1")
    home = bot.sandbox.home_of("U0REP1")
    assert home is not None
    text = str(home["blocks"])
    assert "Win &lt;!channel&gt; &amp; &lt;https://evil|click&gt;" in text
    assert "<!channel>" not in text and "<https://evil" not in text
    assert "Next check-in: <!date^1772474400^{date_short_pretty} {time}|Mon 02 Mar, 10:00 PST>" in text
    bot.sandbox.assert_no_violations()


def test_pause_and_resume_from_app_home(bot: BotHarness) -> None:
    bot.slack.open_home("U0REP1")
    bot.slack.click("home_pause_week", user="U0REP1")
    assert "Paused until" in str(bot.sandbox.home_of("U0REP1"))
    bot.slack.click("home_resume", user="U0REP1")
    assert "Paused until" not in str(bot.sandbox.home_of("U0REP1"))


def test_opening_app_home_does_not_enroll_anyone_in_checkins(bot: BotHarness, clock: ManualClock) -> None:
    bot.slack.open_home("U0ADMIN")
    bot.dispatch()
    clock.advance(dt.timedelta(days=8))
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(CheckIn).where(CheckIn.rep_id == "U0ADMIN")).all() == []
    bot.slack.slash("goal add Mentor two new reps", user="U0ADMIN")
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(CheckIn).where(CheckIn.rep_id == "U0ADMIN")).all() != []


def test_looking_at_goals_or_pausing_does_not_enrol_anyone(bot: BotHarness, clock: ManualClock) -> None:
    bot.slack.slash("goals", user="U0ADMIN")
    bot.slack.slash("pause 1w", user="U0ADMIN")
    bot.slack.click("goal_add_open", user="U0ADMIN", value="home",
                    message={"ts": "1.0", "blocks": [{"type": "actions", "block_id": "b", "elements": [
                        {"type": "button", "action_id": "goal_add_open", "value": "home",
                         "text": {"type": "plain_text", "text": "Add"}}]}]})
    bot.dispatch()
    clock.advance(dt.timedelta(days=8))
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(CheckIn).where(CheckIn.rep_id == "U0ADMIN")).all() == []
