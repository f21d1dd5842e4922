"""Slack's Web API rate limits, emulated: a token bucket per (workspace, method), by the method's tier.

Tiers come from the method specs (`rate_limits: "t1".."t4"`, or `"t5"` for Slack's "special"
limits) when the spec folder is there, else from a small built-in table of the methods the
sandbox serves. `chat.postMessage` is special: about one message a second per channel (with a
small burst), plus an optional workspace-wide cap in posts a second. Over a limit the call is
answered as Slack does: HTTP 429, `Retry-After: <seconds>`, `{"ok": false, "error": "ratelimited"}`.

The time source is injectable, so a test on a simulated clock sees the same answers every run.
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

# Calls a minute per tier (Slack documents these as "1+", "20+", "50+", "100+" per minute).
TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
SPECIAL = 5
# Slack's published tiers for the methods the sandbox serves, for when no spec folder is present.
BUILTIN_TIERS = {
    "auth.test": SPECIAL, "oauth.v2.access": SPECIAL, "chat.postMessage": SPECIAL,
    "chat.postEphemeral": 4, "chat.update": 3, "chat.delete": 3,
    "conversations.open": 3, "conversations.history": 3, "conversations.replies": 3,
    "users.info": 4, "users.list": 2, "reactions.add": 3,
    "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
    "apps.connections.open": 3,
    "views.open": 4, "views.push": 4, "views.update": 4, "views.publish": 4,
}
POST_MESSAGE = "chat.postMessage"


def tier_of_spec(spec: dict[str, Any] | None) -> int | None:
    """The tier named in a method spec's `rate_limits` ("t3" -> 3), or None."""
    value = (spec or {}).get("rate_limits")
    if isinstance(value, str) and value[:1] == "t" and value[1:].isdigit():
        return int(value[1:])
    return None


@dataclass
class RateLimits:
    """What to emulate. Pass to `Sandbox.start(rate_limits=...)`; limits are off without it.

    `burst_seconds` sizes each tier's bucket (that many seconds' worth of calls may come at
    once); `channel_posts_per_second` and `channel_burst` limit chat.postMessage per channel;
    `workspace_post_cap` (posts a second, None = no cap) limits it per workspace, with a bucket of
    `workspace_burst` posts (default: one second's worth). `tiers` overrides a method's tier and
    `per_minute` a tier's rate. `clock` is the time source in seconds (default: the sandbox's clock).
    """

    workspace_post_cap: float | None = None
    workspace_burst: float | None = None
    channel_posts_per_second: float = 1.0
    channel_burst: float = 3.0
    burst_seconds: float = 10.0
    tiers: dict[str, int] = field(default_factory=dict)
    per_minute: dict[int, float] = field(default_factory=dict)
    clock: Callable[[], float] | None = None


@dataclass
class _Bucket:
    capacity: float
    rate: float  # tokens a second
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        if now > self.at:
            self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = max(self.at, now)

    def wait(self) -> float:
        """Seconds until one token is there (0 if there is one now)."""
        return 0.0 if self.tokens >= 1.0 else (1.0 - self.tokens) / self.rate


class Limiter:
    """The buckets, and the counts of calls and of 429s per method (for tests and benches)."""

    def __init__(self, config: RateLimits, clock: Callable[[], float],
                 spec_tier: Callable[[str], int | None]) -> None:
        self.config = config
        self.clock = config.clock or clock
        self._spec_tier = spec_tier
        self._lock = threading.Lock()
        self._buckets: dict[tuple[str, ...], _Bucket] = {}
        self.calls: Counter[str] = Counter()
        self.limited: Counter[str] = Counter()

    def tier(self, method: str) -> int | None:
        if method in self.config.tiers:
            return self.config.tiers[method]
        return self._spec_tier(method) or BUILTIN_TIERS.get(method)

    def _bucket(self, key: tuple[str, ...], per_second: float, capacity: float, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            capacity = max(capacity, 1.0)
            bucket = self._buckets[key] = _Bucket(capacity, per_second, capacity, now)
        bucket.refill(now)
        return bucket

    def _buckets_for(self, team: str, method: str, channel: str | None, now: float) -> list[_Bucket]:
        cfg = self.config
        tier = self.tier(method)
        if method == POST_MESSAGE:
            found = [self._bucket((team, method, channel or ""), cfg.channel_posts_per_second, cfg.channel_burst,
                                  now)]
            if cfg.workspace_post_cap:
                cap = cfg.workspace_post_cap
                found.append(self._bucket((team, method), cap, cfg.workspace_burst or cap, now))
            return found
        if tier is None or tier not in TIER_PER_MINUTE and tier not in cfg.per_minute:
            return []  # "special" tiers other than chat.postMessage: not limited here
        per_second = cfg.per_minute.get(tier, TIER_PER_MINUTE.get(tier, 0.0)) / 60.0
        return [self._bucket((team, method), per_second, per_second * cfg.burst_seconds, now)]

    def take(self, team: str, method: str, channel: str | None = None) -> int | None:
        """Spend one call: None if allowed, else the Retry-After in whole seconds (at least 1)."""
        with self._lock:
            now = self.clock()
            self.calls[method] += 1
            buckets = self._buckets_for(team, method, channel, now)
            wait = max((b.wait() for b in buckets), default=0.0)
            if wait > 0:
                self.limited[method] += 1
                return max(1, math.ceil(wait))
            for bucket in buckets:
                bucket.tokens -= 1.0
            return None

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.calls.clear()
            self.limited.clear()
