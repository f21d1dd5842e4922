"""What listeners and the dispatcher share: settings, config, sessions, clock and Web API client."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from core import metrics
from core.config import AdminConfig
from core.settings import Settings

Clock = Callable[[], dt.datetime]


def system_clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class CountingRateLimitHandler(RateLimitErrorRetryHandler):
    """Slack's own 429 handling (wait Retry-After, try again), counting every 429 for /metrics."""

    def can_retry(self, *, state: RetryState, request: HttpRequest, response: HttpResponse | None = None,
                  error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            # The method is the URL's last segment (…/api/chat.postMessage): a bounded label.
            metrics.SLACK_RATE_LIMITED.labels(method=request.url.rstrip("/").rsplit("/", 1)[-1][:64]).inc()
        return super().can_retry(state=state, request=request, response=response, error=error)


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
            CountingRateLimitHandler(max_retry_count=3),
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
    # Set on SIGTERM: the outbox worker claims and starts nothing more, and gives back what it holds.
    stopping: threading.Event = field(default_factory=threading.Event)

    def now(self) -> dt.datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(dt.UTC)
