"""Privacy end to end: a manager sees only their reps, a rep only their own data, an admin only
aggregates; forged interaction payloads are refused without revealing anything; user text
never pings, mentions or links anywhere it is shown."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from sqlalchemy import delete, func, select

from core.clock import ManualClock
from sandbox.models import Message
from storage.models import Answer, CadenceAgreement, CheckIn, CoachingNote, Membership, Team
from storage.people import sync_config_teams
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER, OTHER, ADMIN, REP1, REP2 = "U0MANAGER", "U0OTHERMGR", "U0ADMIN", "U0REP1", "U0REP2"
REFUSAL = "Sorry, I can't share that with you."
INJECTION = "<!channel> & <@U0OTHERMGR> <https://evil.example|click>"
FORBIDDEN = ("<!channel>", "<@U0OTHERMGR>", "<https://evil.example")


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def of_type(messages: list[Message], event_type: str) -> list[Message]:
    return [m for m in messages if (m.metadata or {}).get("event_type") == event_type]


def answer_in_modal(bot: BotHarness, rep: str, text: str) -> Answer:
    assert bot.slack.slash("now", user=rep).status == 200
    bot.slack.click("checkin_answer", user=rep)
    bot.slack.submit_view(bot.sandbox.views_of(rep)[-1], {"answer": {"answer_text": text}}, user=rep)
    with bot.services.sessions.begin() as session:
        answer = session.scalar(select(Answer).where(Answer.rep_id == rep).order_by(Answer.id.desc()))
        assert answer is not None
        return answer


def last_ephemeral(bot: BotHarness, user: str) -> str:
    found = bot.sandbox.ephemerals_to(user)
    return (found[-1].text + " " + json.dumps(found[-1].blocks)) if found else ""


def notes(bot: BotHarness) -> int:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(CoachingNote)) or 0


def assert_literal(payload: Any) -> None:
    dumped = payload if isinstance(payload, str) else json.dumps(payload)
    for token in FORBIDDEN:
        assert token not in dumped, f"unescaped {token!r} in {dumped[:300]}"


def test_a_rep_asking_for_a_summary_gets_the_polite_refusal(bot: BotHarness) -> None:
    sync(bot)
    answer_in_modal(bot, REP2, "Private thoughts about Initech.")
    response = bot.slack.slash("summary", user=REP1)
    assert REFUSAL in response.text, "a refusal comes straight back in the ack"
    assert last_ephemeral(bot, REP1).startswith(REFUSAL)
    bot.slack.slash(f"summary <@{REP2}>", user=REP1)
    shown = last_ephemeral(bot, REP1)
    assert shown.startswith(REFUSAL) and "Initech" not in shown


def test_naming_someone_elses_rep_or_a_stranger_gives_the_same_refusal(bot: BotHarness) -> None:
    sync(bot)
    bot.sandbox.add_user("U0NOBODY", name="nobody")
    bot.slack.slash(f"summary <@{REP1}>", user=OTHER)
    theirs = last_ephemeral(bot, OTHER)
    bot.slack.slash("summary <@U0NOBODY>", user=OTHER)
    stranger = last_ephemeral(bot, OTHER)
    bot.slack.slash(f"summary <@{REP2}> <@U0NOBODY>", user=MANAGER)
    mixed = last_ephemeral(bot, MANAGER)
    assert theirs == stranger == mixed and theirs.startswith(REFUSAL)


def test_an_admin_gets_org_wide_aggregates_and_never_answer_text_or_names(bot: BotHarness) -> None:
    sync(bot)
    answer_in_modal(bot, REP1, "Confidential pipeline detail.")
    bot.slack.slash("summary", user=ADMIN)
    shown = last_ephemeral(bot, ADMIN)
    assert "Participation" in shown and "1 of 1 check-in answered" in shown
    assert "Confidential" not in shown and not re.search(r"\bana\b", shown) and REP1 not in shown
    bot.slack.slash(f"summary <@{REP1}>", user=ADMIN)
    assert last_ephemeral(bot, ADMIN).startswith(REFUSAL)
    bot.slack.open_home(ADMIN)
    home = json.dumps(bot.sandbox.home_of(ADMIN))
    assert "Organisation check-ins" in home and "Confidential" not in home and REP1 not in home
    assert not re.search(r"\bana\b", home)
    bot.sandbox.assert_no_violations()


def test_forged_thanks_and_reply_clicks_on_another_managers_answer_are_refused(bot: BotHarness) -> None:
    sync(bot)
    answer = answer_in_modal(bot, REP1, "Only for my manager.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    for action in ("answer_thanks", "answer_reply"):
        bot.slack.click(action, user=OTHER, value=str(answer.id), message=relay)
        assert last_ephemeral(bot, OTHER).startswith(REFUSAL)
    bot.slack.click("answer_thanks", user=OTHER, value="999999", message=relay)  # a made-up ID: same reply
    assert last_ephemeral(bot, OTHER).startswith(REFUSAL)
    assert notes(bot) == 0 and bot.sandbox.views_of(OTHER) == []
    assert of_type(bot.sandbox.dms_to(REP1), "coaching_note") == []
    bot.sandbox.assert_no_violations()


def test_a_forged_note_submission_is_refused_and_nothing_reaches_the_rep(bot: BotHarness) -> None:
    sync(bot)
    answer = answer_in_modal(bot, REP1, "Only for my manager.")
    forged = {"id": "V0FORGED01", "type": "modal", "callback_id": "coaching_note_submit",
              "private_metadata": str(answer.id), "title": {"type": "plain_text", "text": "Coaching note"},
              "blocks": [{"type": "input", "block_id": "note", "label": {"type": "plain_text", "text": "Note"},
                          "element": {"type": "plain_text_input", "action_id": "note_text"}}]}
    response = bot.slack.submit_view(forged, {"note": {"note_text": "gotcha"}}, user=OTHER)
    assert response.reply == {"response_action": "errors", "errors": {"note": REFUSAL}}
    assert notes(bot) == 0 and of_type(bot.sandbox.dms_to(REP1), "coaching_note") == []


def test_a_manager_who_no_longer_manages_the_rep_cannot_act_on_an_old_answer(bot: BotHarness) -> None:
    sync(bot)
    answer_in_modal(bot, REP1, "Sent while you were my manager.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    with bot.services.sessions.begin() as session:
        session.execute(delete(Membership).where(Membership.rep_id == REP1))
    bot.slack.click("answer_thanks", user=MANAGER, message=relay)
    assert last_ephemeral(bot, MANAGER).startswith(REFUSAL) and notes(bot) == 0


def test_an_addition_made_after_a_manager_left_reaches_only_the_remaining_manager(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash(f"team add <@{REP1}>", user=OTHER)
    bot.slack.click("team_join_accept", user=REP1)
    assert bot.slack.slash("now", user=REP1).status == 200
    bot.slack.dm(REP1, "first version")
    with bot.services.sessions.begin() as session:
        session.execute(delete(Membership).where(Membership.rep_id == REP1, Membership.team_pk.in_(
            select(Team.id).where(Team.manager_id == MANAGER))))
        checkin = session.scalar(select(CheckIn).where(CheckIn.rep_id == REP1))
        assert checkin is not None
    bot.slack.dm(REP1, "edited after one left", thread_ts=checkin.message_ts)
    [former] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    [current] = of_type(bot.sandbox.dms_to(OTHER), "checkin_answer")
    assert "first version" in json.dumps(former.blocks) and "after one left" not in json.dumps(former.blocks)
    assert "after one left" in json.dumps(current.blocks) and "first version" in json.dumps(current.blocks)


def test_forged_cadence_and_invitation_clicks_by_another_person_change_nothing(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash(f"cadence <@{REP1}> week tue 09:30", user=MANAGER)
    [proposal] = of_type(bot.sandbox.dms_to(REP1), "cadence_proposal")
    bot.slack.click("cadence_accept", user=REP2, message=proposal)
    assert last_ephemeral(bot, REP2).startswith(REFUSAL)
    bot.slack.slash(f"team add <@{REP1}>", user=OTHER)
    [invite] = of_type(bot.sandbox.dms_to(REP1), "manager_question")
    bot.slack.click("team_join_accept", user=REP2, message=invite)
    assert last_ephemeral(bot, REP2).startswith(REFUSAL)
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(CadenceAgreement.status)).all() == ["proposed"]
        pending = session.scalars(select(Membership.status).where(Membership.rep_id == REP1)).all()
        assert sorted(pending) == ["active", "pending"]


def test_only_a_reps_own_manager_may_propose_a_cadence(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash(f"cadence <@{REP1}> day", user=OTHER)
    assert last_ephemeral(bot, OTHER).startswith(REFUSAL)
    bot.slack.slash(f"cadence <@{REP2}> day", user=REP1)
    assert last_ephemeral(bot, REP1).startswith(REFUSAL)
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(CadenceAgreement)) == 0
    assert of_type(bot.sandbox.dms_to(REP1) + bot.sandbox.dms_to(REP2), "cadence_proposal") == []


def test_each_home_tab_shows_only_what_its_owner_may_see(bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    bot.slack.slash(f"team add <@{REP2}>", user=OTHER)
    bot.slack.click("team_join_accept", user=REP2)
    answer_in_modal(bot, REP1, "Ana's private answer.")
    clock.advance(dt.timedelta(minutes=5))
    answer_in_modal(bot, REP2, "Ben's shared answer.")
    for user in (MANAGER, OTHER, REP1):
        bot.slack.open_home(user)
    manager = json.dumps(bot.sandbox.home_of(MANAGER))
    other = json.dumps(bot.sandbox.home_of(OTHER))
    rep = json.dumps(bot.sandbox.home_of(REP1))
    assert "Ana's private answer." in manager and "Ben's shared answer." in manager
    assert "Ben's shared answer." in other and "Ana's private answer." not in other
    assert "Ben's shared answer." not in rep and "Your team" not in rep
    bot.sandbox.assert_no_violations()


def test_injected_mentions_and_links_show_literally_in_summary_manager_dm_and_home(
        bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    bot.slack.slash(f"goal add Grow {INJECTION}", user=REP1)
    answer = answer_in_modal(bot, REP1, f"Progress {INJECTION}")
    clock.advance(dt.timedelta(minutes=5))
    assert bot.slack.slash("now", user=REP1).status == 200
    bot.slack.dm(REP1, f"By DM {INJECTION}")
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.state == "answered")) == 2

    relays = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    assert len(relays) == 2
    for relay in relays:
        assert_literal(relay.blocks)
        assert_literal(relay.text)
        assert "&lt;!channel&gt;" in json.dumps(relay.blocks)
    bot.slack.click("answer_reply", user=MANAGER, message=relays[0])
    assert_literal(bot.sandbox.views_of(MANAGER)[-1]["blocks"])
    bot.slack.submit_view(bot.sandbox.views_of(MANAGER)[-1], {"note": {"note_text": f"Note {INJECTION}"}},
                          user=MANAGER)
    [note] = of_type(bot.sandbox.dms_to(REP1), "coaching_note")
    assert_literal(note.blocks)
    assert_literal(note.text)

    bot.slack.slash("summary", user=MANAGER)
    summary = bot.sandbox.ephemerals_to(MANAGER)[-1]
    assert_literal(summary.blocks)
    assert_literal(summary.text)
    assert "&lt;https://evil.example|click&gt;" in json.dumps(summary.blocks)
    bot.slack.open_home(MANAGER)
    home = bot.sandbox.home_of(MANAGER)
    assert home is not None and "By DM" in json.dumps(home)
    assert_literal(home)
    assert answer.text.endswith(INJECTION)  # stored as written; only the display is escaped
    bot.sandbox.assert_no_violations()


def test_an_answer_to_an_ad_hoc_question_is_passed_on_with_the_question_escaped(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash(f"ask <@{REP1}> What would help you move {INJECTION} forward?", user=MANAGER)
    bot.slack.dm(REP1, "An intro to their counsel.")
    [relay] = of_type(bot.sandbox.dms_to(MANAGER), "checkin_answer")
    shown = json.dumps(relay.blocks)
    assert "What would help you move" in shown and "An intro to their counsel." in shown
    assert_literal(relay.blocks)
    bot.sandbox.assert_no_violations()
