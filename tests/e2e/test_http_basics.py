"""The foundation end to end: signed requests over HTTP through the real server."""

from __future__ import annotations

import json
import urllib.request

from sqlalchemy import func, select

from storage.models import Goal, ProcessedEvent
from wiring.harness import BotHarness


def test_checkin_help_over_http_returns_a_help_text(bot: BotHarness) -> None:
    response = bot.slack.slash("help", user="U0REP1")
    assert response.status == 200
    assert "/checkin goal add" in response.text
    bot.sandbox.assert_no_violations()


def test_help_is_tailored_to_managers_and_admins(bot: BotHarness) -> None:
    rep = bot.slack.slash("", user="U0REP1").text
    manager = bot.slack.slash("help", user="U0MANAGER").text
    admin = bot.slack.slash("help", user="U0ADMIN").text
    assert "summary" not in rep and "For managers" in manager and "For admins" in admin


def test_a_forged_signature_gets_401_and_writes_nothing(bot: BotHarness) -> None:
    forged = bot.sandbox.client(bot.url, "not-the-secret")
    response = forged.dm("U0REP1", "hello", event_id="Ev-forged")
    assert response.status == 401
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 0


def test_a_stale_signature_gets_401(bot: BotHarness) -> None:
    stale = bot.sandbox.client(bot.url, "sandbox-signing-secret", timestamp_offset=-301)
    response = stale.slash("goal add Win Acme", user="U0REP1")
    assert response.status == 401
    with bot.services.sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(Goal)) == 0


def test_healthz_answers_200_while_the_database_is_reachable(bot: BotHarness) -> None:
    with urllib.request.urlopen(bot.base_url + "/healthz", timeout=3) as response:  # noqa: S310
        assert response.status == 200
        assert json.loads(response.read())["ok"] is True


def test_a_malformed_command_gets_a_polite_usage_line(bot: BotHarness) -> None:
    response = bot.slack.slash("pause forever", user="U0REP1")
    assert response.status == 200
    assert "Usage" in response.text and "Traceback" not in response.text
