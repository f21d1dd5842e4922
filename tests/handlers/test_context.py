"""Listeners find the services in Bolt's context, where the wiring's middleware put them."""

from __future__ import annotations

from typing import Any

import pytest
from slack_bolt import BoltContext

from handlers.context import SERVICES_KEY, services_of
from wiring.harness import BotHarness


def test_services_of_names_the_missing_middleware() -> None:
    with pytest.raises(RuntimeError, match="wiring.app.build_app"):
        services_of(BoltContext())
    with pytest.raises(RuntimeError):
        services_of(BoltContext({SERVICES_KEY: "not services"}))


def test_the_app_puts_its_services_into_every_requests_context(bot: BotHarness) -> None:
    seen: list[Any] = []

    @bot.app.command("/probe")
    def probe(ack: Any, context: BoltContext) -> None:
        seen.append(services_of(context))
        ack()

    bot.slack.slash("help", user="U0REP1", command="/probe")
    assert seen == [bot.services]
