"""Replies that land (issue 13.2), end to end through the sandbox, with the default cadence: every
message sent on someone's behalf waits for its reader's working hours.

Maya manages from New York (UTC-5 in early March 2026); Ana is in Los Angeles (UTC-8) and Chen in
Sydney (UTC+11). Monday 2 March 17:30 UTC is inside both Maya's and Ana's working hours.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.clock import ManualClock
from sandbox.models import Message
from storage.models import Answer, CheckIn, CoachingNote, RelayedMessage
from storage.people import sync_config_teams
from wiring.harness import BotHarness

MANAGER, ANA, CHEN = "U0MANAGER", "U0REP1", "U0REP3"
BOTH_AT_WORK = dt.datetime(2026, 3, 2, 17, 30, tzinfo=dt.UTC)  # NY 12:30, LA 09:30


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def of_type(messages: list[Message], event_type: str) -> list[Message]:
    return [m for m in messages if m.event_type == event_type]


def answer_by_dm(bot: BotHarness, rep: str, text: str) -> tuple[CheckIn, str]:
    """The rep asks for a check-in and answers it with a plain DM; returns the check-in and the DM's ts."""
    assert bot.slack.slash("now", user=rep).status == 200
    assert bot.slack.dm(rep, text).status == 200
    with bot.services.sessions.begin() as session:
        checkin = session.scalar(select(CheckIn).where(CheckIn.rep_id == rep, CheckIn.state == "answered"))
        answer = session.scalar(select(Answer).where(Answer.rep_id == rep))
        assert checkin is not None and answer is not None and answer.message_ts is not None
        return checkin, answer.message_ts


def write_note(bot: BotHarness, text: str) -> None:
    bot.slack.click("answer_reply", user=MANAGER)
    modal = bot.sandbox.views_of(MANAGER)[-1]
    assert bot.slack.submit_view(modal, {"note": {"note_text": text}}, user=MANAGER).status == 200


def answer_text(bot: BotHarness, rep: str) -> str | None:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(Answer.text).where(Answer.rep_id == rep))


def shown(bot: BotHarness, message: Message) -> str:
    """What the person sees in that message now (after any chat.update)."""
    now = bot.sandbox.workspace.find(message.channel, message.ts)
    assert now is not None
    return now.visible_text


def ephemeral_texts(bot: BotHarness, user: str) -> str:
    return "\n".join(e.text for e in bot.sandbox.ephemerals_to(user))


def test_a_reps_reply_to_a_note_at_the_managers_night_reaches_them_in_their_morning(
        bot: BotHarness, clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC))  # NY Mon 10:00; Sydney Tue 02:00
    sync(bot)
    answer_by_dm(bot, CHEN, "The Sydney pilot is live; two stores so far.")
    assert of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")  # Maya's working hours: at once
    write_note(bot, "Great start. What did the second store need from us?")
    assert of_type(bot.sandbox.dms_to(CHEN), "coaching_note") == []  # Chen's night: held
    clock.set(dt.datetime(2026, 3, 2, 22, 5, tzinfo=dt.UTC))  # Sydney Tue 09:05
    bot.dispatch()
    [note] = of_type(bot.sandbox.dms_to(CHEN), "coaching_note")

    clock.set(dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC))  # Sydney Tue 10:30; NY Mon 18:30 (quiet)
    assert bot.slack.dm(CHEN, "Mostly training for the till staff.", thread_ts=note.ts).status == 200
    assert of_type(bot.sandbox.dms_to(MANAGER), "coaching_note") == []
    assert "start of their working day" in ephemeral_texts(bot, CHEN)
    with bot.services.sessions.begin() as session:  # stored before anything is sent: nothing is lost
        [stored] = session.scalars(select(RelayedMessage)).all()
        assert (stored.sender, stored.recipient, stored.text) == (CHEN, MANAGER, "Mostly training for the till staff.")

    bot.dispatch(dt.datetime(2026, 3, 3, 13, 55, tzinfo=dt.UTC))  # NY Tue 08:55: still before her day
    assert of_type(bot.sandbox.dms_to(MANAGER), "coaching_note") == []
    clock.set(dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC))  # NY Tue 09:00
    bot.dispatch()
    [reply] = of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")
    assert "Mostly training for the till staff." in reply.visible_text and "chen" in reply.visible_text
    assert "What did the second store need" in reply.visible_text  # which note it answers
    assert reply.event_payload["rep"] == CHEN and reply.event_payload["manager"] == MANAGER

    # Maya answers at the start of her day, which is Chen's night: it waits for Chen's morning.
    clock.set(dt.datetime(2026, 3, 3, 14, 5, tzinfo=dt.UTC))  # NY Tue 09:05; Sydney Wed 01:05
    bot.slack.dm(MANAGER, "Let's book them a session with the trainer.", thread_ts=reply.ts)
    assert len(of_type(bot.sandbox.dms_to(CHEN), "coaching_note")) == 1
    assert "start of their working day" in ephemeral_texts(bot, MANAGER)
    clock.set(dt.datetime(2026, 3, 3, 22, 0, tzinfo=dt.UTC))  # Sydney Wed 09:00
    bot.dispatch()
    assert "session with the trainer" in of_type(bot.sandbox.dms_to(CHEN), "coaching_note")[-1].visible_text
    bot.sandbox.assert_no_violations()


def test_the_managers_reply_reaches_the_rep_and_the_conversation_goes_on(bot: BotHarness,
                                                                       clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Pricing for Globex is still open.")
    write_note(bot, "Want to rehearse the pricing call together?")
    [note] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    bot.slack.dm(ANA, "Yes please, Wednesday works.", thread_ts=note.ts)
    [to_maya] = of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")
    assert "Yes please, Wednesday works." in to_maya.visible_text
    assert "Passed on to maya." in ephemeral_texts(bot, ANA)

    bot.slack.dm(MANAGER, "Booked 14:00 Wednesday.", thread_ts=to_maya.ts)
    [_, to_ana] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    assert "Booked 14:00 Wednesday." in to_ana.visible_text and "maya" in to_ana.visible_text
    assert "Passed on to ana." in ephemeral_texts(bot, MANAGER)

    bot.slack.dm(ANA, "See you then!", thread_ts=to_ana.ts)  # and back again
    assert "See you then!" in of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")[-1].visible_text
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(Answer.text).where(Answer.rep_id == ANA)) == "Pricing for Globex is still open."
    bot.sandbox.assert_no_violations()


def test_a_retried_reply_event_is_passed_on_once(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Pipeline review done.")
    write_note(bot, "Nice. Which deal worries you most?")
    [note] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    bot.slack.dm(ANA, "Initech, honestly.", thread_ts=note.ts, event_id="Ev0REPLY1")
    bot.slack.resend("Ev0REPLY1")
    bot.slack.resend("Ev0REPLY1", retry_num=2)
    assert len(of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")) == 1


def test_a_managers_reply_in_the_thread_of_an_answer_is_a_note_to_the_rep(bot: BotHarness,
                                                                         clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Lost the Hooli deal on price.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    bot.slack.dm(MANAGER, "Thanks for saying so. Let's look at what we'd change.", thread_ts=relay.ts)
    [note] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    assert "what we'd change" in note.visible_text
    with bot.services.sessions.begin() as session:
        [stored] = session.scalars(select(CoachingNote)).all()
        assert (stored.kind, stored.manager_id, stored.rep_id) == ("note", MANAGER, ANA)
    assert "You sent a note" in shown(bot, relay)


def test_an_edited_answer_updates_what_the_manager_sees(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    _, ts = answer_by_dm(bot, ANA, "Demo with Umbrella on Tuesday.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert bot.slack.edit_message(ANA, ts, "Demo with Umbrella moved to Thursday.").status == 200
    assert answer_text(bot, ANA) == "Demo with Umbrella moved to Thursday."
    assert "moved to Thursday" in shown(bot, relay) and "on Tuesday" not in shown(bot, relay)
    assert len(of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")) == 1  # updated, not sent again
    assert "updated your check-in answer" in ephemeral_texts(bot, ANA)
    bot.sandbox.assert_no_violations()


def test_an_edit_before_the_answer_reaches_the_manager_is_what_they_get(bot: BotHarness,
                                                                       clock: ManualClock) -> None:
    clock.set(dt.datetime(2026, 3, 2, 16, 0, tzinfo=dt.UTC))  # LA 08:00 (/checkin now is at once); NY 11:00
    sync(bot)
    clock.set(dt.datetime(2026, 3, 2, 23, 30, tzinfo=dt.UTC))  # NY 18:30: the answer waits for Maya's morning
    _, ts = answer_by_dm(bot, ANA, "Sent the contract to Acme.")
    assert of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer") == []
    bot.slack.edit_message(ANA, ts, "Sent the contract to Acme; they signed!")
    clock.set(dt.datetime(2026, 3, 3, 14, 0, tzinfo=dt.UTC))
    bot.dispatch()
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert "they signed!" in relay.visible_text
    assert all(c.args.get("ts") != relay.ts for c in bot.sandbox.calls_to("chat.update"))  # nothing to fix up


def test_a_deleted_answer_is_removed_and_taken_out_of_the_managers_dm(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    _, ts = answer_by_dm(bot, ANA, "Thinking of leaving the Initech account.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert bot.slack.delete_message(ANA, ts).status == 200
    assert answer_text(bot, ANA) is None
    assert "Initech" not in shown(bot, relay) and "deleted this check-in answer" in shown(bot, relay)
    assert "removed it" in ephemeral_texts(bot, ANA)
    bot.sandbox.assert_no_violations()


def test_a_dm_after_answering_is_added_to_that_answer(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Quarter is on track.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    clock.set(BOTH_AT_WORK + dt.timedelta(minutes=20))
    assert bot.slack.dm(ANA, "Forgot to say: Globex renewal came in too.").status == 200
    assert answer_text(bot, ANA) == "Quarter is on track.\n\nForgot to say: Globex renewal came in too."
    assert "added this to your check-in answer" in ephemeral_texts(bot, ANA)
    assert "Globex renewal came in" in shown(bot, relay)
    assert "haven't saved it" not in ephemeral_texts(bot, ANA)
    bot.sandbox.assert_no_violations()


def test_a_dm_long_after_the_last_answer_is_offered_to_the_manager_as_a_note(bot: BotHarness,
                                                                            clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "All good this week.")
    clock.set(BOTH_AT_WORK + dt.timedelta(days=7))
    bot.slack.dm(ANA, "Heads-up: I'm out Friday for a dentist appointment.")
    assert answer_text(bot, ANA) == "All good this week."  # not glued onto last week's answer
    assert "Shall I pass this on to maya" in ephemeral_texts(bot, ANA)
    before = len(bot.sandbox.dms_to(MANAGER))
    bot.slack.click("late_dm_send", user=ANA)
    [note] = of_type(bot.sandbox.dms_to(MANAGER)[before:], "coaching_note")
    assert "out Friday for a dentist appointment" in note.visible_text
    bot.slack.click("late_dm_send", user=ANA, message=bot.sandbox.ephemerals_to(ANA)[-1])  # a second click
    assert len(bot.sandbox.dms_to(MANAGER)) == before + 1


def test_a_dm_offered_and_declined_is_not_sent_or_kept(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    bot.slack.dm(ANA, "Just testing the bot, ignore me.")
    before = len(bot.sandbox.dms_to(MANAGER))
    bot.slack.click("late_dm_discard", user=ANA)
    assert len(bot.sandbox.dms_to(MANAGER)) == before
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(RelayedMessage)).all() == []


def test_a_dm_added_to_an_answer_can_be_edited_like_the_answer(bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Quarter is on track.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    bot.slack.dm(ANA, "Globex renewal came in too.")
    added = [m for m in bot.sandbox.messages(ANA) if m.user == ANA][-1]
    assert added.user == ANA and added.text == "Globex renewal came in too."
    bot.slack.edit_message(ANA, added.ts, "Globex and Initech renewals came in too.")
    assert answer_text(bot, ANA) == "Quarter is on track.\n\nGlobex and Initech renewals came in too."
    assert "Globex and Initech" in shown(bot, relay)


def test_a_reply_edited_or_deleted_after_it_was_passed_on_changes_the_managers_copy(
        bot: BotHarness, clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Pricing for Globex is still open.")
    write_note(bot, "Want to rehearse the pricing call together?")
    [note] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    bot.slack.dm(ANA, "Yes, Wednesday.", thread_ts=note.ts)
    mine = [m for m in bot.sandbox.messages(ANA) if m.user == ANA][-1]
    assert mine.user == ANA and mine.thread_ts == note.ts
    [to_maya] = of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")
    bot.slack.edit_message(ANA, mine.ts, "Yes, Thursday instead.")
    assert "Yes, Thursday instead." in shown(bot, to_maya) and "Wednesday" not in shown(bot, to_maya)
    bot.slack.delete_message(ANA, mine.ts)
    assert "Thursday" not in shown(bot, to_maya) and "deleted this message" in shown(bot, to_maya)
    with bot.services.sessions.begin() as session:
        assert [r.text for r in session.scalars(select(RelayedMessage))] == [""]
    assert len(of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")) == 1
    bot.sandbox.assert_no_violations()


def test_a_file_or_a_broadcast_reply_in_a_notes_thread_reaches_the_manager(bot: BotHarness,
                                                                          clock: ManualClock) -> None:
    clock.set(BOTH_AT_WORK)
    sync(bot)
    answer_by_dm(bot, ANA, "Drafted the Globex proposal.")
    write_note(bot, "Could I see the draft?")
    [note] = of_type(bot.sandbox.dms_to(ANA), "coaching_note")
    bot.slack.share_file(ANA, "Here it is.", filename="globex.pdf", thread_ts=note.ts)
    bot.slack.broadcast_reply(ANA, "Pricing is on page 3.", thread_ts=note.ts)
    first, second = of_type(bot.sandbox.dms_to(MANAGER), "coaching_note")
    assert "Here it is." in first.visible_text and "/globex.pdf" in first.visible_text  # linked, not copied
    assert "Pricing is on page 3." in second.visible_text
    assert answer_text(bot, ANA) == "Drafted the Globex proposal."  # neither became the answer
