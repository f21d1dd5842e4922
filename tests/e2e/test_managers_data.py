"""Data rights end to end: `/checkin export` uploads the caller's own data; `/checkin forget`
deletes a rep's answers after a confirmation, and their manager's views reflect it."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import func, select

from core.clock import ManualClock
from storage.models import Answer, CheckIn
from storage.people import sync_config_teams
from wiring.harness import BotHarness

# People in four zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

MANAGER, REP1, REP2 = "U0MANAGER", "U0REP1", "U0REP2"


def sync(bot: BotHarness) -> None:
    with bot.services.sessions.begin() as session:
        sync_config_teams(session, bot.services.team_id, bot.services.config, bot.services.now())


def answer_by_dm(bot: BotHarness, rep: str, text: str) -> None:
    assert bot.slack.slash("now", user=rep).status == 200
    assert bot.slack.dm(rep, text).status == 200


def answers_of(bot: BotHarness, rep: str) -> int:
    with bot.services.sessions.begin() as session:
        return session.scalar(select(func.count()).select_from(Answer).where(Answer.rep_id == rep)) or 0


def test_export_uploads_the_callers_own_data_as_a_json_file_in_their_dm(bot: BotHarness) -> None:
    sync(bot)
    bot.slack.slash("goal add Close the Acme renewal", user=REP1)
    answer_by_dm(bot, REP1, "Mine: legal review next week.")
    answer_by_dm(bot, REP2, "Not yours: Initech pilot.")
    assert bot.slack.slash("export", user=REP1).status == 200
    assert "JSON file" in bot.sandbox.ephemerals_to(REP1)[-1].text
    [upload] = bot.sandbox.files
    assert upload.completed and upload.filename.endswith(".json")
    assert upload.channels == [bot.sandbox.im_channel(REP1)]
    data = json.loads(upload.content or b"")
    assert data["user"]["slack_id"] == REP1
    assert [g["text"] for g in data["goals"]] == ["Close the Acme renewal"]
    assert [a["text"] for a in data["answers"]] == ["Mine: legal review next week."]
    assert "Initech" not in (upload.content or b"").decode()
    methods = [c.method for c in bot.sandbox.calls]
    assert methods.index("files.getUploadURLExternal") < methods.index("files.completeUploadExternal")
    bot.sandbox.assert_no_violations()


def test_a_managers_export_holds_their_notes_but_not_their_reps_answers(bot: BotHarness) -> None:
    sync(bot)
    answer_by_dm(bot, REP1, "Rep-only words.")
    bot.slack.click("answer_reply", user=MANAGER)
    bot.slack.submit_view(bot.sandbox.views_of(MANAGER)[-1], {"note": {"note_text": "Nice work."}}, user=MANAGER)
    bot.slack.slash("export", user=MANAGER)
    data = json.loads(bot.sandbox.files[-1].content or b"")
    assert [n["text"] for n in data["notes_written"]] == ["Nice work."]
    assert data["answers"] == [] and "Rep-only words." not in json.dumps(data)


def test_forget_asks_first_then_deletes_the_reps_answers_everywhere(bot: BotHarness, clock: ManualClock) -> None:
    sync(bot)
    answer_by_dm(bot, REP1, "Something I'd rather not keep.")
    clock.advance(dt.timedelta(minutes=5))
    answer_by_dm(bot, REP1, "Another thing to delete.")
    bot.slack.slash("summary", user=MANAGER)
    assert "Another thing to delete." in json.dumps(bot.sandbox.ephemerals_to(MANAGER)[-1].blocks)

    bot.slack.slash("forget", user=REP1)
    prompt = bot.sandbox.ephemerals_to(REP1)[-1]
    assert "2" in prompt.text and {"forget_confirm", "forget_cancel"} <= set(prompt.action_ids())
    assert answers_of(bot, REP1) == 2, "nothing is deleted before the confirmation"
    bot.slack.click("forget_confirm", user=REP1, message=prompt)
    assert answers_of(bot, REP1) == 0
    assert "Deleted 2 answers" in bot.sandbox.ephemerals_to(REP1)[-1].text
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn)) == 2, "check-ins themselves stay"

    bot.slack.slash("summary", user=MANAGER)
    summary = json.dumps(bot.sandbox.ephemerals_to(MANAGER)[-1].blocks, ensure_ascii=False)
    assert "rather not keep" not in summary and "Another thing" not in summary
    assert "2 check-ins sent · 0 answered" in summary
    for relay in [m for m in bot.sandbox.dms_to(MANAGER) if (m.metadata or {}).get("event_type") == "checkin_answer"]:
        assert "rather not keep" not in json.dumps(relay.blocks) and "Another thing" not in relay.text
        assert "deleted this check-in answer" in relay.text
    bot.slack.open_home(MANAGER)
    assert "rather not keep" not in json.dumps(bot.sandbox.home_of(MANAGER))
    bot.sandbox.assert_no_violations()


def test_forget_cancelled_keeps_everything(bot: BotHarness) -> None:
    sync(bot)
    answer_by_dm(bot, REP1, "Keep me.")
    bot.slack.slash("forget", user=REP1)
    bot.slack.click("forget_cancel", user=REP1)
    assert answers_of(bot, REP1) == 1
    assert "Nothing was deleted" in bot.sandbox.ephemerals_to(REP1)[-1].text


def test_forget_with_nothing_stored_says_so(bot: BotHarness) -> None:
    bot.slack.slash("forget", user=REP2)
    assert "nothing to delete" in bot.sandbox.ephemerals_to(REP2)[-1].text
