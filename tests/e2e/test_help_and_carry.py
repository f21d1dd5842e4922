"""Help that reaches the manager, and carry-forward, end to end through the sandbox (issue 13).

The rep (ben) is in Berlin and their manager (maya) in New York, with the default cadence (working
days Monday to Friday, quiet 18:00-09:00 in each person's own zone): the nudge must land in the
manager's day, not the rep's.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.clock import ManualClock
from sandbox.models import Message
from storage.models import Answer, CheckIn, HelpRequest, OutboxMessage
from storage.people import sync_config_teams
from wiring.harness import BotHarness

MANAGER, REP = "U0MANAGER", "U0REP2"
NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")
ANSWER = "Good call with Acme. I'm blocked on the legal review though. I'll call their CFO on Tuesday."


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def first_checkin(bot: BotHarness, clock: ManualClock) -> CheckIn:
    sync(bot)
    assert bot.slack.slash("goal add Close the Acme renewal", user=REP).status == 200
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        due = session.scalar(select(CheckIn.due_at).where(CheckIn.rep_id == REP, CheckIn.state == "scheduled"))
    assert due is not None
    clock.set(due)
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        sent = session.scalar(select(CheckIn).where(CheckIn.rep_id == REP, CheckIn.state == "sent"))
        assert sent is not None
        return sent


def nudges(bot: BotHarness, user: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(user) if "help_id" in ((m.metadata or {}).get("event_payload") or {})]


def prompts(bot: BotHarness, user: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(user) if m.event_type == "checkin_prompt"]


def run_hourly(bot: BotHarness, clock: ManualClock, hours: int) -> None:
    for _ in range(hours):
        clock.advance(dt.timedelta(hours=1))
        bot.dispatch()


def posted_at(message: Message) -> dt.datetime:
    return dt.datetime.fromtimestamp(float(message.ts), dt.UTC)


def test_a_help_request_from_a_dm_reply_is_nudged_once_in_the_managers_hours(
        bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    asked = clock()
    assert bot.slack.dm(REP, ANSWER).status == 200
    # The rep is told what was read from their words, privately, with a way to undo it.
    [confirmation] = [e for e in bot.sandbox.ephemerals_to(REP) if "request for help" in e.text]
    assert "blocked on the legal review" in confirmation.text and "checkin_help_clear" in str(confirmation.blocks)
    with bot.services.sessions.begin() as session:
        request = session.scalar(select(HelpRequest).where(HelpRequest.checkin_id == checkin.id))
        assert request is not None and (request.state, request.source) == ("open", "words")
        answer = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
        assert answer is not None and answer.help_wanted and answer.next_step == "call their CFO on Tuesday"
    # The manager's summary starts with it.
    assert bot.slack.slash("summary", user=MANAGER).status == 200
    summary = bot.sandbox.ephemerals_to(MANAGER)[-1]
    first_sections = [b for b in summary.blocks if b["type"] == "section"]
    assert "open request for help" in first_sections[0]["text"]["text"]
    assert "blocked on the legal review" in first_sections[0]["text"]["text"]

    # A week of hourly passes, the manager never answering.
    run_hourly(bot, clock, 24 * 7)
    [nudge] = nudges(bot, MANAGER)
    assert nudges(bot, REP) == [], "the rep is never nudged about their own request"
    local = posted_at(nudge).astimezone(NEW_YORK)
    assert local.weekday() < 5 and dt.time(9, 0) <= local.time() < dt.time(18, 0), local
    # Asked on Monday (before dawn in New York): two of the manager's working days later is Wednesday.
    assert local.date() == (asked.astimezone(NEW_YORK) + dt.timedelta(days=2)).date()
    assert "help_resolve" in nudge.action_ids() and "answer_reply" in nudge.action_ids()
    assert "blocked on the legal review" in str(nudge.blocks)
    with bot.services.sessions.begin() as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "help_nudge")).all()
        assert [(r.recipient, r.state) for r in rows] == [(MANAGER, "sent")]
    bot.sandbox.assert_no_violations()


def test_the_next_checkin_on_the_goal_asks_how_the_carried_step_went(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    run_hourly(bot, clock, 24 * 7)
    latest = prompts(bot, REP)[-1]
    question = latest.blocks[0]["text"]["text"]
    assert "call their CFO on Tuesday" in question and "*Close the Acme renewal*" in question
    assert question.count("?") == 1, "still one open question"
    assert "next_step_drop" in latest.action_ids()
    # Dropping it turns the question into an ordinary open one about the goal.
    assert bot.slack.click("next_step_drop", user=REP, message=latest).status == 200
    updated = [c for c in bot.sandbox.calls_to("chat.update") if "call their CFO" not in str(c.args)]
    assert updated, "the open check-in was re-rendered without the dropped step"
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(Answer.next_step_state).where(Answer.rep_id == REP)) == "dropped"
    bot.sandbox.assert_no_violations()


def test_a_managers_thanks_closes_the_request_and_no_nudge_follows(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    run_hourly(bot, clock, 8)  # the answer reaches the manager in their morning
    [relay] = [m for m in bot.sandbox.dms_to(MANAGER) if m.event_type == "checkin_answer"]
    assert "would like help" in str(relay.blocks)
    assert bot.slack.click("answer_thanks", user=MANAGER, message=relay).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "resolved"
    run_hourly(bot, clock, 24 * 5)
    assert nudges(bot, MANAGER) == []


def test_the_manager_marks_it_resolved_from_app_home(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.click("checkin_help", user=REP).status == 200  # the button on the check-in DM
    assert bot.slack.open_home(MANAGER).status == 200
    home = bot.sandbox.home_of(MANAGER)
    assert home is not None and "open request for help" in str(home["blocks"][1])
    assert bot.slack.click("help_resolve", user=MANAGER, view=home).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "resolved"
    assert "open request for help" not in str(bot.sandbox.home_of(MANAGER))
    run_hourly(bot, clock, 24 * 5)
    assert nudges(bot, MANAGER) == []


def test_the_rep_can_undo_a_help_request_read_from_their_words(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    [confirmation] = [e for e in bot.sandbox.ephemerals_to(REP) if "request for help" in e.text]
    assert bot.slack.click("checkin_help_clear", user=REP, message=confirmation).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "withdrawn"
        assert session.scalar(select(Answer.help_wanted)) is False
    run_hourly(bot, clock, 24 * 5)
    assert nudges(bot, MANAGER) == []


def test_wording_that_declines_help_opens_no_request(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, "Legal signed, not blocked any more; no help needed.").status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest)) is None
    assert not [e for e in bot.sandbox.ephemerals_to(REP) if "request for help" in e.text]


def test_unticking_help_in_the_form_clears_it(bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    bot.slack.click("checkin_answer", user=REP)
    bot.slack.submit_view(bot.sandbox.views_of(REP)[-1], {"answer": {"answer_text": "Need pricing input"},
                                                          "help": {"help_wanted": ["yes"]}}, user=REP)
    bot.slack.click("checkin_answer", user=REP)
    modal = bot.sandbox.views_of(REP)[-1]
    assert bot.slack.submit_view(modal, {"answer": {"answer_text": "Sorted it with Raj"}, "help": {"help_wanted": []}},
                                 user=REP).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state).where(HelpRequest.checkin_id == checkin.id)) == "withdrawn"
        assert session.scalar(select(Answer.help_wanted)) is False


def answered_message(bot: BotHarness, checkin: CheckIn) -> Message:
    found = bot.sandbox.workspace.find(checkin.channel, checkin.message_ts)
    assert found is not None
    return found


def test_confidence_and_help_are_set_from_the_answered_dm(bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    assert bot.slack.dm(REP, "Two demos booked this week.").status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest)) is None
    message = answered_message(bot, checkin)
    assert {"checkin_help", "checkin_confidence", "checkin_answer"} <= set(message.action_ids())
    assert bot.slack.click("checkin_confidence", user=REP, value=f"{checkin.id}:2", message=message).status == 200
    assert bot.slack.click("checkin_help", user=REP, message=answered_message(bot, checkin)).status == 200
    with bot.services.sessions.begin() as session:
        answer = session.scalar(select(Answer))
        assert answer is not None and (answer.confidence, answer.help_wanted) == (2, True)
    message = answered_message(bot, checkin)
    assert "checkin_help_clear" in message.action_ids() and "You asked for help" in str(message.blocks)
    assert bot.slack.click("checkin_help_clear", user=REP, message=message).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "withdrawn"
    bot.sandbox.assert_no_violations()


def test_the_rep_edits_the_carried_step_and_the_next_checkin_quotes_the_edit(
        bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    assert bot.slack.dm(REP, "Going to book a demo with their ops team.").status == 200
    message = answered_message(bot, checkin)
    assert "Next step noted" in str(message.blocks)
    assert bot.slack.click("next_step_edit", user=REP, message=message).status == 200
    modal = bot.sandbox.views_of(REP)[-1]
    assert modal["callback_id"] == "next_step_submit"
    assert bot.slack.submit_view(modal, {"next_step": {"next_step_text": "book the demo for <!channel> ops"}},
                                 user=REP).status == 200
    run_hourly(bot, clock, 24 * 7)
    question = prompts(bot, REP)[-1].blocks[0]["text"]["text"]
    assert "book the demo for &lt;!channel&gt; ops" in question, "the rep's words are quoted, escaped"


def test_another_reps_checkin_or_request_is_refused(bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    # Another rep clicking "I'd like help" with this check-in's id changes nothing.
    assert bot.slack.click("checkin_help_clear", user="U0REP1", value=str(checkin.id),
                           message=answered_message(bot, checkin)).status == 200
    with bot.services.sessions.begin() as session:
        request = session.scalar(select(HelpRequest))
        assert request is not None and request.state == "open"
        help_id = request.id
    # A manager who doesn't manage this rep can't resolve it.
    assert bot.slack.slash("summary", user=MANAGER).status == 200
    summary = bot.sandbox.ephemerals_to(MANAGER)[-1]
    assert bot.slack.click("help_resolve", user="U0OTHERMGR", value=str(help_id), message=summary).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "open"
    assert "can't share that" in bot.sandbox.ephemerals_to("U0OTHERMGR")[-1].text


def test_the_rep_drops_a_carried_step_from_app_home(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, "Next step: send the revised quote.").status == 200
    assert bot.slack.open_home(REP).status == 200
    home = bot.sandbox.home_of(REP)
    assert home is not None and "Next steps I'll ask you about" in str(home["blocks"])
    assert "“send the revised quote”" in str(home["blocks"])
    assert bot.slack.click("next_step_drop", user=REP, view=home).status == 200
    assert "Next steps I'll ask you about" not in str(bot.sandbox.home_of(REP))
    run_hourly(bot, clock, 24 * 7)
    assert "send the revised quote" not in prompts(bot, REP)[-1].blocks[0]["text"]["text"]


def test_help_asked_with_the_button_stays_ticked_when_the_rep_then_answers_in_the_form(
        bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    assert bot.slack.click("checkin_help", user=REP).status == 200
    assert bot.slack.click("checkin_answer", user=REP).status == 200
    modal = bot.sandbox.views_of(REP)[-1]
    help_block = next(b for b in modal["blocks"] if b.get("block_id") == "help")
    assert help_block["element"].get("initial_options"), "the form shows the request already made"
    assert bot.slack.submit_view(modal, {"answer": {"answer_text": "Pricing is tricky"},
                                         "help": {"help_wanted": ["yes"]}}, user=REP).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state).where(HelpRequest.checkin_id == checkin.id)) == "open"
        assert session.scalar(select(Answer.help_wanted)) is True


def test_forget_takes_the_reps_words_in_a_help_request_with_the_answers(bot: BotHarness, clock: ManualClock) -> None:
    first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    assert bot.slack.slash("forget", user=REP).status == 200
    assert bot.slack.click("forget_confirm", user=REP, message=bot.sandbox.ephemerals_to(REP)[-1]).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest)) is None
    assert bot.slack.slash("summary", user=MANAGER).status == 200
    assert "legal review" not in str(bot.sandbox.ephemerals_to(MANAGER)[-1].blocks)
    run_hourly(bot, clock, 24 * 5)
    assert nudges(bot, MANAGER) == []


def test_an_edit_of_the_same_words_does_not_bring_back_an_undone_request(bot: BotHarness, clock: ManualClock) -> None:
    checkin = first_checkin(bot, clock)
    assert bot.slack.dm(REP, ANSWER).status == 200
    [confirmation] = [e for e in bot.sandbox.ephemerals_to(REP) if "request for help" in e.text]
    assert bot.slack.click("checkin_help_clear", user=REP, message=confirmation).status == 200
    assert bot.slack.dm(REP, ANSWER + " Also the deck is ready.", thread_ts=checkin.message_ts).status == 200
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(HelpRequest.state)) == "withdrawn"
    assert len([e for e in bot.sandbox.ephemerals_to(REP) if "request for help" in e.text]) == 1
