"""Exactly once under races (issue 15 item 4): concurrent `/checkin now`, and an answer to a
check-in that was never delivered."""

from __future__ import annotations

import copy
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from storage.models import Answer, CheckIn
from wiring.harness import BotHarness

REP = "U0REP1"


def test_twenty_concurrent_checkin_now_give_one_checkin(bot: BotHarness) -> None:
    bot.slack.slash("goal add Close the Acme renewal", user=REP)
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(lambda _: bot.slack.slash("now", user=REP).status, range(20)))
    assert statuses == [200] * 20
    with bot.services.sessions.begin() as session:
        now_checkins = session.scalar(select(func.count()).select_from(CheckIn).where(
            CheckIn.rep_id == REP, CheckIn.kind == "rep_now"))
    prompts = [m for m in bot.sandbox.dms_to(REP) if (m.metadata or {}).get("event_type") == "checkin_prompt"]
    assert (now_checkins, len(prompts)) == (1, 1)


def test_an_answer_cannot_close_a_checkin_that_was_never_delivered(bot: BotHarness) -> None:
    bot.slack.slash("goal add Close the Acme renewal", user=REP)
    bot.dispatch()  # plans the next scheduled check-in; not sent yet
    bot.slack.slash("now", user=REP)
    bot.slack.click("checkin_answer", user=REP)
    real = next(v for v in reversed(bot.sandbox.views_of(REP)) if v.get("callback_id") == "checkin_answer_submit")
    with bot.services.sessions.begin() as session:
        scheduled = session.scalar(select(CheckIn.id).where(CheckIn.rep_id == REP, CheckIn.state == "scheduled"))
    assert scheduled is not None
    forged = copy.deepcopy(real)
    forged["private_metadata"], forged["id"] = str(scheduled), f"{real['id']}-forged"
    bot.slack.submit_view(forged, {"answer": {"answer_text": "early"}}, user=REP)
    with bot.services.sessions.begin() as session:
        assert session.get(CheckIn, scheduled).state == "scheduled"  # type: ignore[union-attr]
        assert session.scalar(select(func.count()).select_from(Answer).where(Answer.checkin_id == scheduled)) == 0
