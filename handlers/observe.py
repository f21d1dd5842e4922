"""A Bolt middleware that counts Slack requests, times each one's ack (for /metrics), and sets the
request's log fields (workspace, kind).

Bolt's global middleware runs before the listener but does not wrap it, so the time is taken by
the ack itself: the middleware puts a timing `Ack` in the request context, which Bolt then hands
to the listener (or calls itself for events). Works the same over HTTP and Socket Mode.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.context.ack import Ack

from core import logcontext, metrics
from handlers.slash import SIMPLE

# First words of /checkin that become part of the label; anything else is "other".
_SUBCOMMANDS = SIMPLE | {"goal", "pause", "summary", "ask", "cadence", "team"}


def request_kind(body: dict[str, Any]) -> str:
    """A bounded label for a request: '/checkin health', 'block_actions', 'event:message'..."""
    if "command" in body:
        words = str(body.get("text") or "").split()
        head = words[0].lower() if words else "help"
        return f"{str(body['command'])[:32]} {head if head in _SUBCOMMANDS else 'other'}"
    kind = str(body.get("type") or "unknown")[:32]
    if kind == "event_callback":
        return "event:" + str((body.get("event") or {}).get("type") or "unknown")[:32]
    return kind


def team_of(body: dict[str, Any]) -> str | None:
    team = body.get("team_id") or (body.get("team") or {}).get("id")
    return str(team)[:32] if team else None


class TimedAck(Ack):
    def __init__(self, kind: str, started: float) -> None:
        super().__init__()
        self.kind = kind
        self.started = started

    def __call__(self, *args: Any, **kwargs: Any) -> BoltResponse:
        first = self.response is None
        response = super().__call__(*args, **kwargs)
        if first:
            metrics.ACK_LATENCY.labels(kind=self.kind).observe(time.perf_counter() - self.started)
        return response


def count_and_time(req: BoltRequest, next: Callable[[], BoltResponse]) -> BoltResponse:  # noqa: A002 - Bolt's name
    kind = request_kind(req.body)
    metrics.REQUESTS.labels(kind=kind).inc()
    # Not reset afterwards: Bolt submits the listener after this returns, and the listener's thread
    # copies this context (core.logcontext.ContextExecutor). The next request starts clean.
    logcontext.set_fields(workspace=team_of(req.body), kind=kind)
    req.context["ack"] = TimedAck(kind, time.perf_counter())
    return next()


def register(app: App) -> None:
    app.use(count_and_time)
