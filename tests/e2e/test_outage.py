"""A six-minute Slack outage (503, then 502), then recovery (issue 14, faults): every message that fell due meanwhile
(scheduled check-ins, a manager's question, an answer passed on to the manager) is delivered once
after Slack is back, and none expires or fails while its recipient's window is open."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from storage.models import CheckIn, OutboxMessage
from wiring.harness import BotHarness

UTC = dt.UTC
BOSS, REP1, REP2, REP3 = "U0BOSS", "U0NR1", "U0NR2", "U0NR3"
# Everyone in UTC, check-ins at 10:00 on working days, quiet 18:00-09:00: the outage below falls
# well inside everyone's window, so nothing may be held back or expired for their hours.
CONFIG = f"""
[cadence]
every = "day"
time = "10:00"

[[teams]]
name = "North"
manager = "{BOSS}"
members = ["{REP1}", "{REP2}", "{REP3}"]
"""
OUTAGE_START = dt.datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday
OUTAGE = dt.timedelta(minutes=6)


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config(CONFIG, "outage config")


def delivered_posts(bot: BotHarness) -> Counter[int]:
    """Successful chat.postMessage calls per outbox row (the id every post carries in its metadata)."""
    found: Counter[int] = Counter()
    for call in bot.sandbox.calls_to("chat.postMessage"):
        payload = (call.args.get("metadata") or {}).get("event_payload") or {}
        if call.status == 200 and "outbox_id" in payload:
            found[int(payload["outbox_id"])] += 1
    return found


def rows(bot: BotHarness) -> list[OutboxMessage]:
    with bot.services.sessions.begin() as session:
        found = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
        return found


def test_a_six_minute_outage_delays_every_due_message_and_delivers_each_once(
        bot: BotHarness, clock: ManualClock) -> None:
    for user in (BOSS, REP1, REP2, REP3):
        bot.sandbox.add_user(user, name=user.lower(), tz="UTC")
    bot.dispatch()  # 08:00: plans today's 10:00 check-ins
    clock.set(OUTAGE_START - dt.timedelta(minutes=10))
    assert bot.slack.slash("now", user=REP3).status == 200  # REP3 has a check-in open before the outage
    assert [m.event_type for m in bot.sandbox.dms_to(REP3)] == ["checkin_prompt"]

    clock.set(OUTAGE_START)
    bot.sandbox.faults.server_error(None, times=None, status=503)  # every Web API method answers 503
    bot.dispatch()
    clock.advance(dt.timedelta(minutes=1))
    assert bot.slack.dm(REP3, "Booked the Initech demo for Thursday.").status == 200  # passed on to BOSS
    clock.advance(dt.timedelta(minutes=1))
    bot.slack.slash(f"ask <@{REP1}> What would help you most with the Acme renewal?", user=BOSS)
    while clock() < OUTAGE_START + OUTAGE:
        if clock() == OUTAGE_START + OUTAGE / 2:  # the second half answers 502, which the client doesn't retry
            bot.sandbox.faults.end_outage()
            bot.sandbox.faults.server_error(None, times=None, status=502)
        bot.dispatch()
        clock.advance(dt.timedelta(minutes=1))
    during = rows(bot)
    assert {r.kind for r in during} >= {"checkin_prompt", "answer_relay", "manager_question"}
    assert not [r for r in during if r.state in ("failed", "cancelled")], "the outage dropped nothing"
    assert delivered_posts(bot).keys() == {next(r.id for r in during if r.kind == "checkin_now")}

    assert {c.status for c in bot.sandbox.calls_to("chat.postMessage")} >= {503, 502}
    bot.sandbox.faults.end_outage()
    recovered = clock()
    while clock() < recovered + dt.timedelta(minutes=30):
        bot.dispatch()
        clock.advance(dt.timedelta(minutes=1))

    due = {r.id for r in during}
    after = [r for r in rows(bot) if r.id in due]  # not tomorrow's check-ins, planned since
    posts = delivered_posts(bot)
    edits = {r.id for r in after if r.kind == "checkin_closed"}  # a chat.update, not a post
    for row in after:
        assert row.state == "sent", f"{row.kind} #{row.id} ended {row.state}: {row.last_error}"
        assert posts[row.id] == (0 if row.id in edits else 1), f"{row.kind} #{row.id} was posted {posts[row.id]} times"
        assert row.sent_at is not None and row.sent_at <= recovered + dt.timedelta(minutes=10), \
            f"{row.kind} #{row.id} waited too long after Slack recovered"
    assert posts.keys() == {r.id for r in after} - edits, "nothing posted that isn't in the outbox"
    kinds = Counter(r.kind for r in after)
    assert kinds["checkin_prompt"] >= 2 and kinds["answer_relay"] == 1 and kinds["manager_question"] == 1
    with bot.services.sessions.begin() as session:
        states = Counter(session.scalars(select(CheckIn.state)))
    assert states["expired"] == 0
    # The check-in answered during the outage lost its buttons once Slack came back (issue 14.7).
    prompt = next(m for m in bot.sandbox.dms_to(REP3) if m.event_type == "checkin_prompt")  # the one answered
    answered = bot.sandbox.workspace.find(prompt.channel, prompt.ts)
    assert answered is not None and "Answered" in answered.visible_text
    assert {"checkin_skip", "checkin_snooze"}.isdisjoint(answered.action_ids())
    assert len(edits) == 1
    relay = next(m for m in bot.sandbox.dms_to(BOSS) if m.event_type == "checkin_answer")
    assert "Booked the Initech demo" in relay.visible_text
    [question] = [m for m in bot.sandbox.dms_to(REP1) if m.event_type == "manager_question"]
    assert "Acme renewal" in question.visible_text


@pytest.mark.parametrize("button, note", [("checkin_skip", "Skipped"), ("checkin_snooze", "Snoozed")])
def test_a_checkin_skipped_or_snoozed_while_slack_fails_its_edits_loses_its_buttons_once_slack_is_back(
        bot: BotHarness, clock: ManualClock, button: str, note: str) -> None:
    bot.sandbox.add_user(REP1, name="rep1", tz="UTC")
    clock.set(OUTAGE_START)
    assert bot.slack.slash("now", user=REP1).status == 200
    [prompt] = [m for m in bot.sandbox.dms_to(REP1) if m.event_type == "checkin_prompt"]
    bot.sandbox.faults.server_error("chat.update", times=None, status=503)
    assert bot.slack.click(button, user=REP1, message=prompt).status == 200
    shown = bot.sandbox.workspace.find(prompt.channel, prompt.ts)
    assert shown is not None and button in shown.action_ids(), "Slack refused the edit: the buttons are still there"
    bot.sandbox.faults.end_outage()
    clock.advance(dt.timedelta(minutes=1))
    bot.dispatch()
    shown = bot.sandbox.workspace.find(prompt.channel, prompt.ts)
    assert shown is not None and note in shown.visible_text
    assert {"checkin_skip", "checkin_snooze", "checkin_answer"}.isdisjoint(shown.action_ids())
    assert [c.status for c in bot.sandbox.calls_to("chat.update")][-1] == 200


def test_a_snoozed_checkins_edit_still_waiting_when_it_comes_back_changes_only_the_old_message(
        bot: BotHarness, clock: ManualClock) -> None:
    bot.sandbox.add_user(REP1, name="rep1", tz="UTC")
    clock.set(OUTAGE_START)
    assert bot.slack.slash("now", user=REP1).status == 200
    [old] = [m for m in bot.sandbox.dms_to(REP1) if m.event_type == "checkin_prompt"]
    bot.sandbox.faults.server_error("chat.update", times=None, status=503)  # edits fail for hours
    assert bot.slack.click("checkin_snooze", user=REP1, message=old).status == 200
    while clock() < OUTAGE_START + dt.timedelta(hours=3):
        clock.advance(dt.timedelta(minutes=15))
        bot.dispatch()
    prompts = [m for m in bot.sandbox.dms_to(REP1) if m.event_type == "checkin_prompt"]
    assert len(prompts) == 2, "the snoozed check-in came back as a new message"
    bot.sandbox.faults.end_outage()
    for _ in range(6):
        clock.advance(dt.timedelta(minutes=15))
        bot.dispatch()
    shown_old = bot.sandbox.workspace.find(old.channel, old.ts)
    shown_new = bot.sandbox.workspace.find(prompts[-1].channel, prompts[-1].ts)
    assert shown_old is not None and "Snoozed" in shown_old.visible_text
    assert "checkin_snooze" not in shown_old.action_ids()
    assert shown_new is not None and "checkin_skip" in shown_new.action_ids(), "the new message keeps its buttons"
