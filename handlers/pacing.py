"""Calling Slack within the workspace's shared budget (storage.budget) rather than bouncing off 429s.

Every post and every lookup a pass makes takes a token first; a 429 pauses that method for that
workspace, for every process, for its Retry-After. slack_sdk's own RateLimitErrorRetryHandler
would wait out a 429 inside the one thread that got it while every other thread and process kept
calling, so the calls made here go through a copy of the client without it: the shared pause
replaces it. (Listeners answering a person keep the usual client, retry included.)
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from core import metrics
from core.services import Services
from handlers.sender import retry_after_of
from storage.budget import POST_MESSAGE, budget_for, rate_for

T = TypeVar("T")
# How long a call waits for its budget before it is left for later (a long 429 pause).
MAX_WAIT = 20.0
# A listener delivering its own rows (a person is waiting, and so is Bolt's thread) waits less;
# what can't go now is sent by the outbox worker (`serve` drains these every few seconds).
LISTENER_WAIT = 2.0

_UNRETRIED: weakref.WeakKeyDictionary[WebClient, WebClient] = weakref.WeakKeyDictionary()


class Limited(Exception):
    """The budget for a method is spent or paused: the call was not made (or was answered 429)."""


def unretried(client: WebClient) -> WebClient:
    """The same client without slack_sdk's 429 retry (its other retries stay)."""
    if not isinstance(client, WebClient):
        return client  # a stand-in (tests): nothing to strip
    found = _UNRETRIED.get(client)
    if found is None:
        handlers = [h for h in client.retry_handlers if not isinstance(h, RateLimitErrorRetryHandler)]
        found = WebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                          ssl=client.ssl, proxy=client.proxy, headers=client.headers, team_id=getattr(client, "team_id", None),
                          retry_handlers=handlers)
        _UNRETRIED[client] = found
    return found


class Pacing:
    """chat.postMessage admission for one drain: the channel's turn and the workspace's shared
    budget, taken before each post by the transport (handlers.transport), which also reports a
    429 here so the pause holds for every worker."""

    def __init__(self, services: Services, max_wait: float = MAX_WAIT) -> None:
        self.team_id = services.team_id
        self.max_wait = max_wait
        self.budget, self.pacer = budget_for(services.engine)
        self.rate = rate_for(services.config, POST_MESSAGE)

    def admit(self, message: dict[str, Any]) -> bool:
        """Wait (blocking, at most max_wait) for this post's turn; False if it can't be had."""
        return (self.pacer.wait_turn(self.team_id, str(message.get("channel") or ""), self.max_wait)
                and self.budget.take(self.team_id, POST_MESSAGE, self.rate, self.max_wait))

    def admit_now(self, message: dict[str, Any]) -> Callable[[], bool] | None:
        """Take what this post needs without waiting: None if admitted, else the blocking rest of
        `admit`, for the caller to run off its event loop. Most posts of a fan-out are admitted
        here, sparing the loop a thread hop per post (which cost more CPU than the post)."""
        channel = str(message.get("channel") or "")
        if not self.pacer.try_turn(self.team_id, channel):
            return lambda: self.admit(message)
        if self.budget.try_take(self.team_id, POST_MESSAGE, self.rate):
            return None
        return lambda: self.budget.take(self.team_id, POST_MESSAGE, self.rate, self.max_wait)

    def paused(self, retry_after: float) -> None:
        """Slack answered 429: pause posting in this workspace, for every worker."""
        metrics.SLACK_RATE_LIMITED.labels(method=POST_MESSAGE).inc()
        self.budget.pause(self.team_id, POST_MESSAGE, retry_after)


def call(services: Services, team_id: str, method: str, fn: Callable[[WebClient], T],
         max_wait: float = MAX_WAIT) -> T:
    """Make one Web API call of `method` within the budget. Raises Limited rather than calling
    when the budget can't be had in `max_wait`, or when Slack answers 429 (the method is paused)."""
    budget, _ = budget_for(services.engine)
    if not budget.take(team_id, method, rate_for(services.config, method), max_wait):
        raise Limited(method)
    try:
        return fn(unretried(services.client))
    except SlackApiError as exc:
        wait = retry_after_of(exc)
        if wait is None:
            raise
        metrics.SLACK_RATE_LIMITED.labels(method=method).inc()
        budget.pause(team_id, method, wait)
        raise Limited(method) from exc


def reserve(services: Services, team_id: str, *methods: str, max_wait: float = MAX_WAIT) -> bool:
    """Take one call of each method (for a helper that makes those calls itself)."""
    budget, _ = budget_for(services.engine)
    return all(budget.take(team_id, m, rate_for(services.config, m), max_wait) for m in methods)
