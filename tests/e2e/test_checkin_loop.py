"""The check-in loop end to end: schedule, send, answer, skip, snooze, remind, pause."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from core.clock import ManualClock
from storage.models import Answer, CheckIn
from wiring.harness import BotHarness

UTC = dt.UTC


def prompts_to(bot: BotHarness, user: str) -> list:
    return [m for m in bot.sandbox.dms_to(user) if (m.metadata or {}).get("event_type") == "checkin_prompt"]


def add_goals(bot: BotHarness, user: str, *goals: str) -> None:
    for goal in goals:
        response = bot.slack.slash(f"goal add {goal}", user=user)
        assert response.status == 200, response.text


def run_until_sent(bot: BotHarness, clock: ManualClock, user: str) -> CheckIn:
    """Plan, then move the clock to the rep's due time and dispatch."""
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == user, CheckIn.state == "scheduled")
                             .order_by(CheckIn.due_at))
        assert row is not None
        due = row.due_at
    clock.set(due)
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        sent = session.scalar(select(CheckIn).where(CheckIn.rep_id == user, CheckIn.state == "sent"))
        assert sent is not None
        return sent


def test_it_sends_the_first_checkin_at_ten_local_on_monday(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Close the Acme renewal")
    sent = run_until_sent(bot, clock, "U0REP1")
    # America/Los_Angeles is UTC-8 in early March: Monday 10:00 local is 18:00 UTC.
    assert sent.sent_at == dt.datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
    [message] = prompts_to(bot, "U0REP1")
    assert "*Close the Acme renewal*" in message.blocks[0]["text"]["text"]
    assert message.text and "Acme renewal" in message.text
    payload = message.metadata["event_payload"]
    assert payload["rep"] == "U0REP1" and payload["checkin_id"] == sent.id and payload["goal_id"] == sent.goal_id
    action_ids = {e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]}
    assert {"checkin_answer", "checkin_skip", "checkin_snooze"} <= action_ids
    bot.sandbox.assert_no_violations()


def test_a_dm_while_a_checkin_is_open_is_stored_once_under_retries(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Close the Acme renewal")
    sent = run_until_sent(bot, clock, "U0REP1")
    first = bot.slack.dm("U0REP1", "Legal review is the blocker; a call with their counsel would help.",
                         event_id="Ev-answer-1")
    assert first.status == 200
    retry = bot.slack.resend("Ev-answer-1", retry_num=1)
    assert retry.status == 200
    again = bot.slack.resend("Ev-answer-1", retry_num=2)
    assert again.status == 200
    with bot.services.sessions.begin() as session:
        answers = session.scalars(select(Answer)).all()
        assert len(answers) == 1
        assert answers[0].checkin_id == sent.id and answers[0].source == "dm"
        assert session.get(CheckIn, sent.id).state == "answered"
    assert bot.sandbox.calls_to("reactions.add"), "the rep gets a brief thank-you"
    bot.sandbox.assert_no_violations()


def test_the_answer_modal_stores_answer_confidence_and_help_flag(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Grow Globex expansion")
    sent = run_until_sent(bot, clock, "U0REP1")
    bot.slack.click("checkin_answer", user="U0REP1")
    view = bot.sandbox.views_of("U0REP1")[-1]
    response = bot.slack.submit_view(view, {"answer": {"answer_text": "Need pricing help"},
                                            "confidence": {"confidence_value": "2"},
                                            "help": {"help_wanted": ["yes"]}}, user="U0REP1")
    assert response.status == 200
    with bot.services.sessions.begin() as session:
        answer = session.scalar(select(Answer).where(Answer.checkin_id == sent.id))
        assert (answer.text, answer.confidence, answer.help_wanted) == ("Need pricing help", 2, True)
    bot.sandbox.assert_no_violations()


def test_a_thread_reply_adds_to_the_answer_and_keeps_the_first_wording(bot: BotHarness, clock: ManualClock) -> None:
    # Once replaced, the first wording was gone although the manager may have read it: nothing anyone
    # wrote may be lost. Re-wording is Slack's own edit, or the "Edit answer" form.
    add_goals(bot, "U0REP1", "Grow Globex expansion")
    sent = run_until_sent(bot, clock, "U0REP1")
    bot.slack.dm("U0REP1", "first thought", event_id="Ev-1")
    bot.slack.dm("U0REP1", "better thought", thread_ts=sent.message_ts, event_id="Ev-2")
    with bot.services.sessions.begin() as session:
        answers = session.scalars(select(Answer)).all()
        assert [a.text for a in answers] == ["first thought\n\nbetter thought"]


def test_skip_records_a_skip_without_guilt(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Grow Globex expansion")
    sent = run_until_sent(bot, clock, "U0REP1")
    bot.slack.click("checkin_skip", user="U0REP1")
    with bot.services.sessions.begin() as session:
        assert session.get(CheckIn, sent.id).state == "skipped"
    update = bot.sandbox.calls_to("chat.update")[-1]
    assert "Skipped" in str(update.args) and "why" not in str(update.args).lower()


def test_snooze_brings_the_checkin_back_in_two_hours(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Grow Globex expansion")
    sent = run_until_sent(bot, clock, "U0REP1")
    bot.slack.click("checkin_snooze", user="U0REP1")
    clock.advance(dt.timedelta(hours=1, minutes=59))
    bot.dispatch()
    assert len(prompts_to(bot, "U0REP1")) == 1
    clock.advance(dt.timedelta(minutes=1))
    bot.dispatch()
    prompts = prompts_to(bot, "U0REP1")
    assert len(prompts) == 2
    assert prompts[-1].metadata["event_payload"]["checkin_id"] == sent.id


def test_a_snooze_that_would_land_in_quiet_hours_moves_to_the_next_morning(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Grow Globex expansion")
    run_until_sent(bot, clock, "U0REP1")
    clock.set(dt.datetime(2026, 3, 3, 1, 0, tzinfo=UTC))  # Monday 17:00 in Los Angeles
    bot.slack.click("checkin_snooze", user="U0REP1")
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == "U0REP1", CheckIn.state == "scheduled",
                                                   CheckIn.kind == "scheduled").order_by(CheckIn.due_at))
        # Quiet from 18:00; the next allowed moment is Tuesday 09:00 PST = 17:00 UTC.
        assert row.due_at == dt.datetime(2026, 3, 3, 17, 0, tzinfo=UTC)


def test_one_gentle_reminder_after_a_day_and_never_a_second(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP2", "Land the Initech pilot")
    run_until_sent(bot, clock, "U0REP2")  # Berlin: Monday 10:00 CET
    clock.advance(dt.timedelta(hours=23))
    bot.dispatch()
    reminders = lambda: [m for m in bot.sandbox.dms_to("U0REP2")  # noqa: E731
                         if (m.metadata or {}).get("event_type") == "checkin_reminder"]
    assert reminders() == []
    clock.advance(dt.timedelta(hours=1))
    bot.dispatch()
    bot.dispatch()
    clock.advance(dt.timedelta(hours=30))
    bot.dispatch()
    assert len(reminders()) == 1
    bot.sandbox.assert_no_violations()


def test_a_paused_rep_gets_nothing_until_the_pause_ends(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP2", "Land the Initech pilot")
    assert "Paused" in bot.slack.slash("pause 2w", user="U0REP2").text
    for _ in range(13):
        bot.dispatch()
        clock.advance(dt.timedelta(days=1))
    assert prompts_to(bot, "U0REP2") == []
    assert "Welcome back" in bot.slack.slash("resume", user="U0REP2").text
    sent = run_until_sent(bot, clock, "U0REP2")
    assert sent.sent_at == dt.datetime(2026, 3, 16, 9, 0, tzinfo=UTC)  # Monday 10:00 in Berlin
    assert len(prompts_to(bot, "U0REP2")) == 1


def test_now_starts_a_checkin_at_once_and_it_is_marked_as_the_reps_own(bot: BotHarness) -> None:
    add_goals(bot, "U0REP3", "Win the Umbrella tender")
    response = bot.slack.slash("now", user="U0REP3")
    assert response.status == 200
    [message] = prompts_to(bot, "U0REP3")
    with bot.services.sessions.begin() as session:
        row = session.get(CheckIn, message.metadata["event_payload"]["checkin_id"])
        assert row.kind == "rep_now"


def test_a_rep_without_goals_is_invited_to_set_one(bot: BotHarness, clock: ManualClock) -> None:
    run_until_sent(bot, clock, "U0REP1")
    [message] = prompts_to(bot, "U0REP1")
    assert "/checkin goal add" in message.blocks[0]["text"]["text"]
    ids = {e["action_id"] for b in message.blocks if b["type"] == "actions" for e in b["elements"]}
    assert "goal_add_open" in ids


def test_goal_rotation_asks_about_each_of_three_goals_once_over_three_weeks(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP2", "Goal one", "Goal two", "Goal three")
    for _ in range(3):
        run_until_sent(bot, clock, "U0REP2")
        bot.slack.click("checkin_skip", user="U0REP2")
        clock.advance(dt.timedelta(hours=1))
    goal_ids = [m.metadata["event_payload"]["goal_id"] for m in prompts_to(bot, "U0REP2")]
    assert len(goal_ids) == 3 and len(set(goal_ids)) == 3


@pytest.mark.parametrize("text,expected", [
    ("goal add " + "x" * 281, "280"),
    ("pause 0d", "1 day"),
])
def test_limits_get_a_clear_message_and_save_nothing(bot: BotHarness, text: str, expected: str) -> None:
    response = bot.slack.slash(text, user="U0REP1")
    assert expected in response.text
    with bot.services.sessions.begin() as session:
        from storage.models import Goal

        assert session.scalar(select(func.count()).select_from(Goal)) == 0


def test_an_eleventh_goal_is_refused(bot: BotHarness) -> None:
    add_goals(bot, "U0REP1", *[f"Goal {i}" for i in range(10)])
    assert "10 active goals" in bot.slack.slash("goal add one more", user="U0REP1").text


def test_the_rep_can_pick_another_goal_for_the_open_checkin(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Acme renewal", "Globex upsell")
    sent = run_until_sent(bot, clock, "U0REP1")
    with bot.services.sessions.begin() as session:
        from storage.models import Goal

        other = session.scalar(select(Goal).where(Goal.rep_id == "U0REP1", Goal.id != sent.goal_id))
    bot.slack.click("checkin_pick_goal", user="U0REP1", value=f"{sent.id}:{other.id}")
    with bot.services.sessions.begin() as session:
        assert session.get(CheckIn, sent.id).goal_id == other.id
    update = bot.sandbox.calls_to("chat.update")[-1]
    assert f"*{other.text}*" in str(update.args["blocks"])
    bot.sandbox.assert_no_violations()


def test_a_forged_click_on_another_reps_checkin_is_refused(bot: BotHarness, clock: ManualClock) -> None:
    add_goals(bot, "U0REP1", "Acme renewal")
    sent = run_until_sent(bot, clock, "U0REP1")
    # U0REP2 forges a click on U0REP1's check-in: refused, nothing changes, nothing revealed.
    bot.slack.click("checkin_skip", user="U0REP2", value=str(sent.id), message=prompts_to(bot, "U0REP1")[0])
    with bot.services.sessions.begin() as session:
        assert session.get(CheckIn, sent.id).state == "sent"
    refusal = bot.sandbox.ephemerals_to("U0REP2")[-1]
    assert "can't share" in refusal.text and "Acme" not in refusal.text
