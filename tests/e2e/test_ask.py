"""`/checkin ask` end to end: the tone check, the touch budget, the held reply and its buttons."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.clock import ManualClock
from handlers.context import REFUSAL
from sandbox.models import Ephemeral, Message
from storage.models import Answer, CheckIn, ManagerQuestion
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

ASK_BUTTONS = {"ask_use_suggestion", "ask_send_anyway", "ask_cancel"}


def questions_to(bot: BotHarness, rep: str) -> list[Message]:
    return [m for m in bot.sandbox.dms_to(rep) if m.event_type == "manager_question"]


def last_ephemeral(bot: BotHarness, user: str) -> Ephemeral:
    return bot.sandbox.ephemerals_to(user)[-1]


def stored_questions(bot: BotHarness) -> list[ManagerQuestion]:
    with bot.services.sessions.begin() as session:
        return list(session.scalars(select(ManagerQuestion).order_by(ManagerQuestion.id)))


def block_text(item: Message | Ephemeral) -> str:
    return "\n".join(str((b.get("text") or {}).get("text") or "") for b in item.blocks)


def test_a_coaching_question_reaches_the_rep_as_an_answerable_checkin(bot: BotHarness) -> None:
    reply = bot.slack.slash("ask @ana What would help you move the Acme renewal forward?", user="U0MANAGER")
    # Acked at once (empty); the confirmation follows once Slack has taken the DM.
    assert reply.status == 200 and reply.text == ""
    assert "Sent to" in last_ephemeral(bot, "U0MANAGER").text
    [dm] = questions_to(bot, "U0REP1")
    assert "What would help you move the Acme renewal forward?" in block_text(dm) and dm.text
    payload = dm.event_payload
    assert payload["rep"] == "U0REP1" and payload["manager"] == "U0MANAGER"
    with bot.services.sessions.begin() as session:
        row = session.get(CheckIn, payload["checkin_id"])
        assert (row.kind, row.state, row.prompt) == ("adhoc", "sent", "What would help you move the Acme renewal forward?")
    bot.slack.dm("U0REP1", "Legal is the blocker; an intro to their counsel would help.")
    with bot.services.sessions.begin() as session:
        answer = session.scalar(select(Answer))
        assert answer is not None and answer.checkin_id == payload["checkin_id"]
    [stored] = stored_questions(bot)
    assert (stored.status, stored.label, stored.hold_reasons) == ("sent", "coaching", None)
    bot.sandbox.assert_no_violations()


def test_a_blaming_question_is_held_with_a_rewrite_and_three_buttons(bot: BotHarness) -> None:
    bot.slack.slash("ask @ana Why did you miss the Acme deadline?", user="U0MANAGER")
    assert questions_to(bot, "U0REP1") == []
    held = last_ephemeral(bot, "U0MANAGER")
    assert set(held.action_ids()) == ASK_BUTTONS
    assert "blame" in block_text(held) and "What did you learn" in block_text(held)
    bot.slack.click("ask_use_suggestion", user="U0MANAGER")
    [dm] = questions_to(bot, "U0REP1")
    assert "What did you learn" in block_text(dm) and "Why did you" not in block_text(dm)
    [stored] = stored_questions(bot)
    assert (stored.status, stored.hold_reasons, stored.used_suggestion, stored.overridden) == (
        "sent", "tone", True, False)
    assert not last_ephemeral(bot, "U0MANAGER").action_ids(), "the held reply loses its buttons"
    bot.sandbox.assert_no_violations()


def test_sending_anyway_is_recorded_as_an_override(bot: BotHarness) -> None:
    bot.slack.slash("ask @ana What's the status of the Globex deal?", user="U0MANAGER")
    bot.slack.click("ask_send_anyway", user="U0MANAGER")
    bot.slack.click("ask_send_anyway", user="U0MANAGER", message=bot.sandbox.ephemerals_to("U0MANAGER")[0])
    [dm] = questions_to(bot, "U0REP1")  # a second click sends nothing more
    assert "status of the Globex deal" in block_text(dm)
    [stored] = stored_questions(bot)
    assert (stored.status, stored.label, stored.overridden, stored.used_suggestion) == (
        "sent", "status_demand", True, False)
    bot.sandbox.assert_no_violations()


def test_cancel_sends_nothing(bot: BotHarness) -> None:
    bot.slack.slash("ask @ana You need to finish the report today.", user="U0MANAGER")
    bot.slack.click("ask_cancel", user="U0MANAGER")
    assert questions_to(bot, "U0REP1") == []
    [stored] = stored_questions(bot)
    assert (stored.status, stored.label) == ("cancelled", "directive")
    bot.sandbox.assert_no_violations()


def test_only_a_managers_own_reps_can_be_asked_and_the_refusal_reveals_nothing(bot: BotHarness) -> None:
    not_theirs = bot.slack.slash("ask @ana What would help?", user="U0OTHERMGR").text
    nobody = bot.slack.slash("ask <@U0NOBODY> What would help?", user="U0OTHERMGR").text
    a_rep = bot.slack.slash("ask @ben What would help?", user="U0REP1").text
    assert REFUSAL in not_theirs and not_theirs == nobody == a_rep
    assert questions_to(bot, "U0REP1") == [] and questions_to(bot, "U0REP2") == []
    assert stored_questions(bot) == []
    bot.sandbox.assert_no_violations()


def test_forged_ask_buttons_are_refused(bot: BotHarness) -> None:
    bot.slack.slash("ask @ana Why did you miss the Acme deadline?", user="U0MANAGER")
    held = last_ephemeral(bot, "U0MANAGER")
    for intruder in ("U0OTHERMGR", "U0REP1", "U0ADMIN"):
        for action in sorted(ASK_BUTTONS):
            bot.slack.click(action, user=intruder, message=held)
            assert last_ephemeral(bot, intruder).text == REFUSAL
    # The manager's own button, but with another manager's question id in the value.
    bot.slack.slash("ask @omar What would help?", user="U0MANAGER")  # refused: not their rep
    bot.slack.click("ask_send_anyway", user="U0MANAGER", message=held, value="999999")
    assert last_ephemeral(bot, "U0MANAGER").text == REFUSAL
    assert questions_to(bot, "U0REP1") == []
    [stored] = stored_questions(bot)
    assert stored.status == "held" and not stored.overridden
    bot.sandbox.assert_no_violations()


def test_a_question_past_the_weekly_budget_is_held_with_the_count_and_cadence(
        bot: BotHarness, clock: ManualClock) -> None:
    for day in range(3):
        bot.slack.slash(f"ask @ben What would help you most this week? ({day})", user="U0MANAGER")
        clock.advance(dt.timedelta(days=1))
    assert len(questions_to(bot, "U0REP2")) == 3
    bot.slack.slash("ask @ben What are you most proud of lately?", user="U0MANAGER")
    held = last_ephemeral(bot, "U0MANAGER")
    text = block_text(held)
    assert set(held.action_ids()) == ASK_BUTTONS
    assert "*3*" in text and "limit of 3" in text and "weekly check-ins" in text
    assert len(questions_to(bot, "U0REP2")) == 3
    assert stored_questions(bot)[-1].hold_reasons == "budget"
    bot.slack.click("ask_use_suggestion", user="U0MANAGER")  # without a rewrite, the advice is to wait
    assert len(questions_to(bot, "U0REP2")) == 3
    waited = stored_questions(bot)[-1]
    assert (waited.status, waited.used_suggestion) == ("cancelled", True)
    # A rep's own `/checkin now` doesn't use up a manager's budget.
    bot.slack.slash("now", user="U0REP3")
    bot.slack.slash("ask @chen What are you most proud of lately?", user="U0MANAGER")
    assert len(questions_to(bot, "U0REP3")) == 1
    bot.sandbox.assert_no_violations()


def test_user_text_in_a_question_is_escaped_everywhere(bot: BotHarness) -> None:
    bot.slack.slash("ask @ana What would help with <b>R&D</b> @channel <https://evil.example|a link>?",
                    user="U0MANAGER")
    [dm] = questions_to(bot, "U0REP1")
    shown = block_text(dm) + dm.text
    assert "&lt;b&gt;R&amp;D&lt;/b&gt;" in shown
    assert "<!channel>" not in shown and "<https://" not in shown
    bot.slack.click("checkin_answer", user="U0REP1")
    modal = bot.sandbox.views_of("U0REP1")[-1]
    assert "&lt;b&gt;R&amp;D" in str(modal["blocks"])
    bot.sandbox.assert_no_violations()
