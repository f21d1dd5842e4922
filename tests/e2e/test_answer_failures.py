"""When storage fails, nothing the rep wrote is lost silently."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from core.clock import ManualClock
from storage.models import Answer, CheckIn
from wiring.harness import BotHarness


def _broken_store(*_args: object, **_kwargs: object) -> None:
    raise OperationalError("INSERT INTO answers", {}, Exception("disk I/O error"))


def _open_checkin(bot: BotHarness, clock: ManualClock) -> CheckIn:
    bot.slack.slash("goal add Close the Acme renewal", user="U0REP1")
    bot.dispatch()
    clock.set(dt.datetime(2026, 3, 2, 18, 0, tzinfo=dt.UTC))
    bot.dispatch()
    with bot.services.sessions.begin() as session:
        row = session.scalar(select(CheckIn).where(CheckIn.rep_id == "U0REP1", CheckIn.state == "sent"))
        assert row is not None
        return row


def test_a_failed_modal_save_shows_an_error_and_keeps_the_text(bot: BotHarness, clock: ManualClock,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    _open_checkin(bot, clock)
    bot.slack.click("checkin_answer", user="U0REP1")
    view = bot.sandbox.views_of("U0REP1")[-1]
    monkeypatch.setattr("storage.checkins.record_answer", _broken_store)
    response = bot.slack.submit_view(view, {"answer": {"answer_text": "My precious answer"}}, user="U0REP1")
    reply = response.json()
    assert reply["response_action"] == "errors"
    assert "still here" in reply["errors"]["answer"]
    # The modal stays open, so Slack keeps the text in the field.
    assert any(v.get("callback_id") == "checkin_answer_submit" for v in bot.sandbox.views_of("U0REP1"))
    bot.sandbox.assert_no_violations()


def test_a_failed_dm_save_quotes_the_text_back(bot: BotHarness, clock: ManualClock,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    _open_checkin(bot, clock)
    monkeypatch.setattr("storage.checkins.record_answer", _broken_store)
    bot.slack.dm("U0REP1", "Pricing <!channel> is the blocker & legal", event_id="Ev-fail")
    last = bot.sandbox.ephemerals_to("U0REP1")[-1]
    assert "couldn't save" in last.text
    assert "Pricing &lt;!channel&gt; is the blocker &amp; legal" in last.text
    with bot.services.sessions.begin() as session:
        assert session.scalars(select(Answer)).all() == []
    bot.sandbox.assert_no_violations()


def test_a_dm_after_a_failed_save_is_still_taken_once_storage_recovers(bot: BotHarness, clock: ManualClock,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    _open_checkin(bot, clock)
    with monkeypatch.context() as patch:
        patch.setattr("storage.checkins.record_answer", _broken_store)
        bot.slack.dm("U0REP1", "first try", event_id="Ev-a")
    # The failed delivery's event id was rolled back with the answer, so Slack's retry is stored.
    bot.slack.resend("Ev-a", retry_num=1)
    with bot.services.sessions.begin() as session:
        assert [a.text for a in session.scalars(select(Answer))] == ["first try"]
