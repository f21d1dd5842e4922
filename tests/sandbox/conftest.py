"""Fixtures for the sandbox's own tests."""

from collections.abc import Iterator

import pytest
from slack_sdk import WebClient

from sandbox import Sandbox


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox.start() as sandbox:
        sandbox.add_user("U0REP1", name="ana", tz="America/Los_Angeles")
        sandbox.add_user("U0REP2", name="ben", tz="Europe/Berlin")
        sandbox.add_user("U0MGR", name="maria", tz="America/New_York")
        yield sandbox


@pytest.fixture
def web(sb: Sandbox) -> WebClient:
    return WebClient(token=sb.bot_token, base_url=sb.api_url, timeout=5)
