"""What listeners and the dispatcher share: settings, config, sessions, clock and Web API client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core.config import AdminConfig
from core.settings import Settings

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_web_client(token: str, api_url: str | None, timeout: int = 10) -> WebClient:
    """A Web API client that retries transient failures: 429 honouring Retry-After, 5xx, and
    failures to connect.

    A connection reset *after* the request went out is not retried: Slack may already have
    posted the message, and a blind retry would post it twice (the dispatcher looks it up instead).
    """
    base_url = WebClient.BASE_URL
    if api_url:
        base_url = api_url if api_url.endswith("/") else api_url + "/"
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ServerErrorRetryHandler(max_retry_count=2),
            ConnectionErrorRetryHandler(max_retry_count=2, error_types=[URLError]),
        ],
    )


@dataclass
class Services:
    settings: Settings
    config: AdminConfig
    engine: Engine
    sessions: sessionmaker[Session]
    client: WebClient
    clock: Clock = field(default=system_clock)
    # Filled from auth.test on start; rows are keyed by it until multi-workspace support lands.
    team_id: str = "T0UNKNOWN"
    # The Enterprise Grid org the workspace belongs to (None outside Grid); also from auth.test.
    enterprise_id: str | None = None
    bot_user_id: str | None = None

    def now(self) -> dt.datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(dt.UTC)
