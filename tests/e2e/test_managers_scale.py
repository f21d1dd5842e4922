"""A 60-rep team with long, hostile answers: the summary is paginated within every Block Kit limit."""

from __future__ import annotations

import datetime as dt
import json
from unittest.mock import ANY

import pytest

from core.config import AdminConfig, parse_config
from storage.models import Answer, CheckIn, Goal, Membership, Team, User
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER = "U0MANAGER"
REPS = [f"U0BIG{n:03d}" for n in range(60)]
LONG_GOAL = ("Grow <!channel> & <@U0OTHERMGR> " * 20)[:280]
LONG_ANSWER = ("Progress <https://evil.example|click> & *bold* <!here> " * 60)[:3000]


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config("", "no config teams: the big team is the manager's only one")


def seed_big_team(bot: BotHarness) -> None:
    now = bot.services.now()
    team_id = bot.services.team_id
    with bot.services.sessions.begin() as session:
        team = Team(team_id=team_id, name="Big", manager_id=MANAGER, source="command")
        session.add(team)
        session.flush()
        for index, rep in enumerate(REPS):
            session.add(User(team_id=team_id, slack_id=rep, display_name=f"Rep & <{index:03d}>" + "x" * 200,
                             role="rep", created_at=now - dt.timedelta(days=60), prompt_sequence=0))
            session.add(Membership(team_id=team_id, team_pk=team.id, rep_id=rep, status="active", created_at=now))
            goal = Goal(team_id=team_id, rep_id=rep, text=LONG_GOAL, position=1, created_at=now)
            session.add(goal)
            session.flush()
            for week in range(4):
                sent = now - dt.timedelta(days=7 * week + 1)
                checkin = CheckIn(team_id=team_id, rep_id=rep, goal_id=goal.id, kind="scheduled", due_at=sent,
                                  state="answered", attempts=1, snooze_count=0, sent_at=sent, closed_at=sent,
                                  created_at=sent)
                session.add(checkin)
                session.flush()
                session.add(Answer(team_id=team_id, checkin_id=checkin.id, rep_id=rep, goal_id=goal.id,
                                   text=LONG_ANSWER, confidence=1 + (week + index) % 5, help_wanted=week == 0,
                                   source="modal", created_at=sent, updated_at=sent))


def test_a_60_rep_summary_with_long_answers_stays_within_block_kit_limits(bot: BotHarness) -> None:
    seed_big_team(bot)
    response = bot.slack.slash("summary", user=MANAGER)
    assert response.status == 200
    assert "sent it to our DM" in bot.sandbox.ephemerals_to(MANAGER)[-1].text
    pages = [m for m in bot.sandbox.dms_to(MANAGER) if (m.metadata or {}).get("event_type") == "team_digest"]
    assert len(pages) >= 2
    shown = ""
    for number, page in enumerate(pages, 1):
        assert page.text and len(page.blocks) <= 50
        assert page.event_payload == {"manager": MANAGER, "page": number, "pages": len(pages), "outbox_id": ANY}
        for block in page.blocks:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= 3000
        shown += json.dumps(page.blocks) + page.text
    for index in range(60):
        assert f"Rep &amp; &lt;{index:03d}&gt;" in shown
    for token in ("<!channel>", "<!here>", "<@U0OTHERMGR>", "<https://evil.example"):
        assert token not in shown
    assert "Participation:* 100% (240 of 240 check-ins answered) across 60 reps" in shown
    bot.sandbox.assert_no_violations()


def test_a_few_named_reps_fit_in_one_private_reply(bot: BotHarness) -> None:
    seed_big_team(bot)
    bot.slack.slash(f"summary <@{REPS[0]}> <@{REPS[1]}> 2w", user=MANAGER)
    reply = bot.sandbox.ephemerals_to(MANAGER)[-1]
    assert "2 of your reps, last 2 weeks" in json.dumps(reply.blocks)
    assert reply.text.startswith("Team summary, last 2 weeks")
    assert [m for m in bot.sandbox.dms_to(MANAGER)] == []
    bot.sandbox.assert_no_violations()


def test_a_large_summary_that_could_not_be_sent_says_so(bot: BotHarness) -> None:
    seed_big_team(bot)
    bot.sandbox.faults.slack_error("chat.postMessage", "channel_not_found", user=MANAGER)
    bot.slack.slash("summary", user=MANAGER)
    reply = bot.sandbox.ephemerals_to(MANAGER)[-1].text
    assert "sent it to our DM" not in reply
    assert "could send only 0 of its" in reply
