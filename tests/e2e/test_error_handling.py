"""Bolt's global error handler: a listener bug gets a polite reply, never a traceback."""

from __future__ import annotations

import pytest

from handlers.errors import SORRY
from wiring.harness import BotHarness


def test_a_listener_error_gets_a_polite_reply_and_no_traceback(bot: BotHarness, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("handlers.help.role_of", broken)
    response = bot.slack.slash("help", user="U0REP1")
    assert "Traceback" not in response.text and "boom" not in response.text
    replies = [e.text for e in bot.sandbox.ephemerals_to("U0REP1")]
    assert SORRY in replies
    assert any("unhandled error" in r.message for r in caplog.records)


def test_an_oversized_command_is_refused_politely_and_saves_nothing(bot: BotHarness) -> None:
    response = bot.slack.slash("goal add " + "x" * 5000, user="U0REP1")
    assert response.status == 200 and "Nothing was saved" in response.text


def test_an_unknown_subcommand_points_to_help(bot: BotHarness) -> None:
    assert "/checkin help" in bot.slack.slash("dance", user="U0REP1").text
