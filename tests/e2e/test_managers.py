"""Managers end to end: team invitations, answers passed on, notes and thanks, team summaries."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest.mock import ANY

from sqlalchemy import func, select

from core.clock import ManualClock
from sandbox.models import Message
from storage.models import Answer, CheckIn, CoachingNote, Membership
from storage.people import sync_config_teams
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER, OTHER, REP1, REP2 = "U0MANAGER", "U0OTHERMGR", "U0REP1", "U0REP2"


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def of_type(messages: list[Message], event_type: str) -> list[Message]:
    return [m for m in messages if (m.metadata or {}).get("event_type") == event_type]


def open_checkin(bot: BotHarness, rep: str) -> CheckIn:
    assert bot.slack.slash("now", user=rep).status == 200
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == rep, CheckIn.state == "sent"))
        assert row is not None
        return row


def answer_in_modal(bot: BotHarness, rep: str, text: str, confidence: str | None = None,
                    help_wanted: bool = False) -> Answer:
    checkin = open_checkin(bot, rep)
    bot.slack.click("checkin_answer", user=rep)
    values: dict[str, Any] = {"answer": {"answer_text": text}}
    if confidence:
        values["confidence"] = {"confidence_value": confidence}
    if help_wanted:
        values["help"] = {"help_wanted": ["yes"]}
    assert bot.slack.submit_view(bot.sandbox.views_of(rep)[-1], values, user=rep).status == 200
    with bot.services.sessions.begin() as session:
        answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
        assert answer is not None
        return answer


def last_ephemeral(bot: BotHarness, user: str) -> str:
    found = bot.sandbox.ephemerals_to(user)
    assert found, f"no ephemeral for {user}"
    return found[-1].text + " " + str(found[-1].blocks)


def test_an_answer_reaches_the_manager_as_a_dm_with_checkin_answer_metadata(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash("goal add Close the Acme renewal", user=REP1)
    answer = answer_in_modal(bot, REP1, "Legal is the blocker; a call with counsel would help.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert relay.event_payload == {"checkin_id": answer.checkin_id, "rep": REP1, "manager": MANAGER,
                                   "goal_id": answer.goal_id, "answer_id": answer.id, "outbox_id": ANY}
    assert "Legal is the blocker" in str(relay.blocks) and "Close the Acme renewal" in str(relay.blocks)
    assert {"answer_reply", "answer_thanks"} <= set(relay.action_ids()) and relay.text
    assert of_type(bot.sandbox.dms_to(OTHER), "checkin_answer") == []
    bot.sandbox.assert_no_violations()


def test_a_coaching_note_reaches_the_rep_and_is_stored(bot: BotHarness) -> None:
    sync(bot)
    answer = answer_in_modal(bot, REP1, "Pricing is unclear to me.")
    bot.slack.click("answer_reply", user=MANAGER)
    modal = bot.sandbox.views_of(MANAGER)[-1]
    assert modal["callback_id"] == "coaching_note_submit"
    response = bot.slack.submit_view(modal, {"note": {"note_text": "Let's walk through it on Thursday."}},
                                     user=MANAGER)
    assert response.status == 200 and response.reply is None
    [note] = of_type(bot.sandbox.dms_to(REP1), "coaching_note")
    assert "walk through it on Thursday" in str(note.blocks) and note.text
    assert note.event_payload == {"checkin_id": answer.checkin_id, "rep": REP1, "manager": MANAGER, "outbox_id": ANY}
    with bot.services.sessions.begin() as session:
        stored = session.scalars(select(CoachingNote)).all()
        assert [(n.kind, n.text, n.answer_id) for n in stored] == [
            ("note", "Let's walk through it on Thursday.", answer.id)]
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert "You sent a note" in str(relay.blocks) and "answer_reply" not in relay.action_ids()
    bot.sandbox.assert_no_violations()


def test_thanks_is_stored_once_and_tells_the_rep_briefly(bot: BotHarness) -> None:
    sync(bot)
    answer_in_modal(bot, REP1, "Shipped the proposal.")
    relay = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")[0]
    bot.slack.click("answer_thanks", user=MANAGER, message=relay)
    bot.slack.click("answer_thanks", user=MANAGER, message=relay)
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(CoachingNote)
                              .where(CoachingNote.kind == "thanks")) == 1
    [thanks] = of_type(bot.sandbox.dms_to(REP1), "coaching_note")
    assert "thanks" in thanks.text.lower() and len(thanks.text) < 120
    bot.sandbox.assert_no_violations()


def test_a_thread_reply_added_to_an_answer_refreshes_the_managers_copy_without_a_second_dm(bot: BotHarness) -> None:
    sync(bot)
    checkin = open_checkin(bot, REP1)
    bot.slack.dm(REP1, "first thought")
    bot.slack.dm(REP1, "better thought", thread_ts=checkin.message_ts)
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert "better thought" in str(relay.blocks) and "first thought" in str(relay.blocks)


def test_team_add_shares_nothing_until_the_rep_confirms(bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    bot.slack.slash(f"team add <@{REP1}>", user=OTHER)
    assert "asked" in last_ephemeral(bot, OTHER)
    [invite] = of_type(bot.sandbox.dms_to(REP1), "manager_question")
    assert {"team_join_accept", "team_join_decline"} <= set(invite.action_ids())
    answer_in_modal(bot, REP1, "Before confirming.")
    assert of_type(bot.sandbox.dms_to(OTHER), "checkin_answer") == []
    bot.slack.slash(f"summary <@{REP1}>", user=OTHER)
    assert last_ephemeral(bot, OTHER).startswith("Sorry, I can't share that with you.")

    bot.slack.click("team_join_accept", user=REP1, message=invite)
    with bot.services.sessions.begin() as session:
        statuses = sorted(session.scalars(select(Membership.status).where(Membership.rep_id == REP1)))
        assert statuses == ["active", "active"]
    assert any("confirmed" in m.text for m in of_type(bot.sandbox.dms_to(OTHER), "manager_question"))
    clock.advance(dt.timedelta(minutes=5))
    answer_in_modal(bot, REP1, "After confirming.")
    for manager in (MANAGER, OTHER):
        relays = of_type(bot.sandbox.dms_to(manager), "checkin_answer")
        assert "After confirming." in str(relays[-1].blocks)
        assert relays[-1].event_payload["manager"] == manager
    assert not any("Before confirming." in str(m.blocks) for m in bot.sandbox.dms_to(OTHER))
    bot.sandbox.assert_no_violations()


def test_a_declined_invitation_shares_nothing(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash(f"team add <@{REP2}>", user=OTHER)
    bot.slack.click("team_join_decline", user=REP2)
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Membership)
                              .where(Membership.rep_id == REP2, Membership.status != "active")) == 0
    bot.slack.slash(f"summary <@{REP2}>", user=OTHER)
    assert last_ephemeral(bot, OTHER).startswith("Sorry, I can't share that with you.")


def test_summary_shows_counts_goal_excerpt_confidence_trend_help_and_contact(
        bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    bot.slack.slash("goal add Grow Globex expansion", user=REP1)
    answer_in_modal(bot, REP1, "Slow start with procurement.", confidence="2")
    clock.advance(dt.timedelta(days=2))
    answer_in_modal(bot, REP1, "Procurement signed; need help with the rollout plan.", confidence="4",
                    help_wanted=True)
    clock.advance(dt.timedelta(days=2))
    open_checkin(bot, REP1)
    bot.slack.click("checkin_skip", user=REP1)
    relay = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")[0]
    bot.slack.click("answer_thanks", user=MANAGER, message=relay)

    response = bot.slack.slash("summary 2w", user=MANAGER)
    assert response.status == 200
    shown = last_ephemeral(bot, MANAGER)
    assert "3 check-ins sent · 2 answered · 1 skipped · 0 paused" in shown
    assert "*Grow Globex expansion*" in shown and "need help with the rollout plan" in shown
    assert "Confidence (1–5): 2 → 4 (rising)" in shown
    assert "1 open request for help" in shown and "Last contact: today" in shown
    assert "Participation:* 67% (2 of 3 check-ins answered) across 3 reps" in shown
    assert "thanked 1 and replied to 0 of 2 answers" in shown
    assert "per rep per week (agreed cadence: 1.0)" in shown
    for word in ("fail", "missed", "behind", "lazy"):
        assert word not in shown.lower()
    bot.sandbox.assert_no_violations()
