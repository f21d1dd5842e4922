"""`/checkin forget` means forgotten (issue 14): after it, no message the bot posted (as it reads now,
after its edits), no Home tab and no stored row holds any of the rep's answers, and an export shows
what is left. A chat.update that fails is retried by the outbox until it is done."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import String, Text, func, select

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from handlers.render import summary as summary_render
from sandbox.models import Message
from storage.models import Answer, Base, CoachingNote, Goal, OutboxMessage
from storage.people import sync_config_teams
from tests.conftest import DEFAULT_TEST_CONFIG, with_any_hour
from wiring.harness import BotHarness

MANAGER, REP1, REP2 = "U0MANAGER", "U0REP1", "U0REP2"
WORDS = ["Ana's secret: the Acme legal review slipped.", "Ana's worry about the Q3 quota.",
         "Ana's note on the Globex pilot budget."]
KEPT = "Ben's own words about Initech."
GOAL = "Ana's private goal: win Hooli"


@pytest.fixture(params=["immediately", "daily"], ids=["relays", "digest"])
def admin_config(request: pytest.FixtureRequest) -> AdminConfig:
    # People in four zones here; their hours are not what is tested (see conftest).
    text = with_any_hour(DEFAULT_TEST_CONFIG)
    return parse_config(f'deliver_answers = "{request.param}"\n' + text, "forget config")


def answer(bot: BotHarness, clock: ManualClock, rep: str, text: str) -> None:
    assert bot.slack.slash("now", user=rep).status == 200
    assert bot.slack.dm(rep, text).status == 200
    clock.advance(dt.timedelta(minutes=5))


def bot_messages(bot: BotHarness) -> list[Message]:
    bot_id = bot.sandbox.workspace.team.bot_id
    return [m for m in bot.sandbox.messages() if m.bot_id == bot_id and not m.deleted]


def shown(message: Message) -> str:
    return message.text + json.dumps(message.blocks, ensure_ascii=False)


def stored_strings(bot: BotHarness) -> list[tuple[str, str, str]]:
    """(table, column, value) for every string column of every row in the database."""
    found: list[tuple[str, str, str]] = []
    with bot.services.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            for row in connection.execute(select(*columns)) if columns else []:
                found += [(table.name, c.name, v) for c, v in zip(columns, row, strict=True) if isinstance(v, str)]
    return found


def leaks(bot: BotHarness, texts: list[str]) -> list[str]:
    out = [f"message {m.ts} in {m.channel}: {shown(m)[:200]}" for m in bot_messages(bot)
           if any(t in shown(m) for t in texts)]
    for user in (MANAGER, REP1, REP2):
        home = json.dumps(bot.sandbox.home_of(user) or {}, ensure_ascii=False)
        out += [f"Home of {user}" for t in texts if t in home]
    out += [f"row of {table}.{column}" for table, column, value in stored_strings(bot)
            if any(t in value for t in texts)]
    return out


def count(bot: BotHarness, model: Any, **where: str) -> int:
    with bot.services.sessions.begin() as session:
        query = select(func.count()).select_from(model)
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        return session.scalar(query) or 0


def seed(bot: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ana answers three check-ins and has a goal and a note; her answers are passed on, a summary
    goes out as pages, and the Home tabs are published."""
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())
    bot.slack.slash(f"goal add {GOAL}", user=REP1)
    for text in WORDS:
        answer(bot, clock, REP1, text)
    answer(bot, clock, REP2, KEPT)
    bot.dispatch()  # relays went at once; with deliver_answers = "daily", this sends the digest
    holding = next(m for m in bot.sandbox.dms_to(MANAGER) if WORDS[0] in shown(m))
    bot.slack.click("answer_reply", user=MANAGER, message=holding)  # a note on Ana's first answer
    bot.slack.submit_view(bot.sandbox.views_of(MANAGER)[-1], {"note": {"note_text": "Good catch."}}, user=MANAGER)
    monkeypatch.setattr(summary_render, "ROWS_PER_PAGE", 1)  # three reps: a summary of three DM pages
    bot.slack.slash("summary", user=MANAGER)
    bot.slack.open_home(MANAGER)
    bot.slack.open_home(REP1)

    posted = shown_everywhere = "".join(shown(m) for m in bot_messages(bot))
    assert WORDS[-1] in shown_everywhere and KEPT in posted, "the answers reached the manager"
    kinds = {m.event_type for m in bot.sandbox.dms_to(MANAGER)}
    relay_kind = "checkin_answer" if bot.services.config.deliver_answers == "immediately" else "team_digest"
    assert relay_kind in kinds
    pages = [m for m in bot.sandbox.dms_to(MANAGER) if m.event_payload.get("pages")]
    assert len(pages) == 3 and any(WORDS[-1] in shown(p) for p in pages), "the summary went out in pages"
    assert WORDS[-1] in json.dumps(bot.sandbox.home_of(MANAGER))
    assert leaks(bot, WORDS), "the test can see the words it looks for"


def confirm_forget(bot: BotHarness) -> None:
    bot.slack.slash("forget", user=REP1)
    prompt = bot.sandbox.ephemerals_to(REP1)[-1]
    assert "goals" in prompt.text + json.dumps(prompt.blocks)
    bot.slack.click("forget_confirm", user=REP1, message=prompt)


def test_after_forget_nothing_posted_shown_or_stored_holds_the_reps_answers(
        bot: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(bot, clock, monkeypatch)
    confirm_forget(bot)
    assert "Deleted 3 answers, 1 goal and 1 note" in bot.sandbox.ephemerals_to(REP1)[-1].text
    assert leaks(bot, WORDS) == []
    assert GOAL not in json.dumps([v for _, _, v in stored_strings(bot)])
    assert count(bot, Goal, rep_id=REP1) == count(bot, CoachingNote, rep_id=REP1) == 0
    assert count(bot, Answer, rep_id=REP2) == 1
    assert any(KEPT in shown(m) for m in bot_messages(bot)), "Ben's answer stays where it was posted"
    assert bot.sandbox.calls_to("chat.delete") == [], "edited in place"
    posts_before = len(bot.sandbox.calls_to("chat.postMessage"))

    bot.slack.slash("export", user=REP1)
    data = json.loads(bot.sandbox.files[-1].content or b"")
    assert data["answers"] == [] and data["goals"] == [] and data["notes_received"] == []
    assert data["checkins"], "the record of check-ins sent stays, without any words"
    assert not [t for t in WORDS + [GOAL] if t in json.dumps(data)]
    clock.advance(dt.timedelta(minutes=30))
    bot.dispatch()
    assert len(bot.sandbox.calls_to("chat.postMessage")) == posts_before, "a retraction never posts anew"
    bot.sandbox.assert_no_violations()


def test_a_failed_update_is_retried_by_the_outbox_until_the_answer_is_gone(
        bot: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    seed(bot, clock, monkeypatch)
    bot.sandbox.faults.server_error("chat.update", times=3)  # one more than the client's own retries
    bot.sandbox.faults.server_error("views.publish", times=6)  # both Homes: the rep's, then the manager's
    confirm_forget(bot)
    assert "keep trying" in bot.sandbox.ephemerals_to(REP1)[-1].text
    left = [m for m in bot_messages(bot) if any(t in shown(m) for t in WORDS)]
    assert len(left) == 1, "only the copy whose update failed still shows the answers"
    assert WORDS[-1] in json.dumps(bot.sandbox.home_of(MANAGER)), "the manager's Home wasn't published yet"
    with bot.services.sessions.begin() as session:
        retry = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "retract",
                                                            OutboxMessage.state == "pending")).all()
        assert len(retry) == 1 and retry[0].last_error == "http_503"
    clock.advance(dt.timedelta(minutes=2))
    bot.dispatch()
    assert leaks(bot, WORDS) == []
    with bot.services.sessions.begin() as session:
        states = set(session.scalars(select(OutboxMessage.state).where(
            OutboxMessage.kind.in_(["retract", "home_refresh"]))))
        homes = set(session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.kind == "home_refresh")))
    assert states == {"sent"} and homes == {REP1, MANAGER}
    bot.sandbox.assert_no_violations()
