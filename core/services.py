"""What listeners and the dispatcher share: settings, config, sessions, clock and Web API client."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Protocol
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


def make_web_client(token: str | None, api_url: str | None, timeout: int = 10) -> WebClient:
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


@dataclass(frozen=True)
class Tenant:
    """One installed workspace (OAuth mode). `key` is the `team_id` its rows carry: the workspace's
    T… ID, or the org's E… ID for an org-wide Enterprise Grid install."""

    key: str
    enterprise_id: str | None
    bot_user_id: str | None
    token: str = field(repr=False)


class Tenants(Protocol):
    """The installed workspaces, as `wiring.tenancy` reads them from the installation store."""

    def active(self) -> list[Tenant]:
        """Every installed workspace, tokens refreshed first when rotation is on (the dispatcher's view)."""
        ...

    def find(self, team_id: str | None, enterprise_id: str | None) -> Tenant | None:
        """The installation a request from this workspace (and org) speaks for, if installed."""
        ...

    def by_key(self, key: str) -> Tenant | None: ...

    def left(self, key: str, reason: str) -> bool:
        """Stop everything for a workspace at once (uninstalled, tokens revoked); False if it had left."""
        ...


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
    # OAuth mode (issue 11): the installed workspaces; None in single-token mode. A Services object
    # handed to a listener or a pass is scoped to one workspace (`scoped`): team_id, client, config.
    tenants: Tenants | None = None
    _clients: dict[str, tuple[str, WebClient]] = field(default_factory=dict, repr=False)

    @property
    def multi_workspace(self) -> bool:
        return self.tenants is not None

    def scoped(self, tenant: Tenant, client: WebClient | None = None) -> Services:
        """These services for one workspace: its key, bot user, config and client (Bolt's, in a request).

        A shallow copy: every other field (sessions, clock, caches, budgets keyed by team_id) is the
        same object in each copy, so a field meant to be shared must be an init field.
        """
        return replace(self, team_id=tenant.key, enterprise_id=tenant.enterprise_id, bot_user_id=tenant.bot_user_id,
                       client=client or self._client_of(tenant), config=self.config.for_workspace(tenant.key))

    def _client_of(self, tenant: Tenant) -> WebClient:
        # One client per workspace, kept while its token is the same (a rotated token gets a new one).
        cached = self._clients.get(tenant.key)
        if cached is not None and cached[0] == tenant.token:
            return cached[1]
        client = make_web_client(tenant.token, self.settings.api_url)
        self._clients[tenant.key] = (tenant.token, client)
        return client

    def client_for(self, team_id: str) -> WebClient:
        """The Web API client for the workspace whose rows carry `team_id` (the one client in
        single-token mode). Keyed by team_id, like the per-workspace rate budgets."""
        if self.tenants is None:
            if team_id != self.team_id:
                raise LookupError(f"this bot serves workspace {self.team_id} only")
            return self.client
        tenant = self.tenants.by_key(team_id)
        if tenant is None:
            raise LookupError(f"workspace {team_id} is not installed")
        return self._client_of(tenant)

    def each_workspace(self) -> list[Services]:
        """One scoped Services per installed workspace ([self] in single-token mode)."""
        if self.tenants is None:
            return [self]
        return [self.scoped(tenant) for tenant in self.tenants.active()]

    def knows(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """Whether a request naming this workspace (and org) is one of ours."""
        if self.tenants is not None:
            return self.tenants.find(team_id, enterprise_id) is not None
        if enterprise_id and enterprise_id != self.enterprise_id:
            return False
        return team_id == self.team_id
    # Set on SIGTERM: the outbox worker claims and starts nothing more, and gives back what it holds.
    stopping: threading.Event = field(default_factory=threading.Event)

    def now(self) -> dt.datetime:
        value = self.clock()
        if value.tzinfo is None:
            raise ValueError("the clock must return an aware datetime")
        return value.astimezone(dt.UTC)
