"""Switchable faults for the sandbox Web API: latency, 429s, 5xx, timeouts and Slack errors.

A fault with `method=None` applies to every method. Faults with a count are used up one matching
call at a time, in the order they were added.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field


@dataclass
class _Rule:
    kind: str  # "rate_limit" | "server_error" | "timeout" | "slack_error"
    method: str | None
    remaining: int | None  # None: until cleared
    retry_after: int = 1
    status: int = 503
    seconds: float = 0.0
    apply: bool = False
    error: str = ""
    user: str | None = None

    def matches(self, method: str, targets: set[str]) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.user is not None and self.user not in targets:
            return False
        return self.remaining is None or self.remaining > 0


@dataclass
class Decision:
    """What the server should do with one call."""

    delay: float = 0.0
    reply_delay: float = 0.0  # sleep this long after carrying the call out, before answering
    timeout: float = 0.0  # sleep this long first (longer than the client waits)
    apply_after_timeout: bool = False
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    error: str | None = None  # a Slack error to answer with, HTTP 200

    @property
    def http_fault(self) -> bool:
        return self.status != 200


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[_Rule] = []
        self._latency: dict[str | None, float] = {}
        self._reply_delay: dict[str | None, float] = {}

    def latency(self, seconds: float, method: str | None = None) -> None:
        """Add a fixed delay to every call (of `method`, or of all methods)."""
        with self._lock:
            self._latency[method] = seconds

    def slow_reply(self, seconds: float, method: str | None = None) -> None:
        """Carry every call (of `method`, or of all methods) out at once but answer `seconds` later:
        a window in which Slack has done the work and the client doesn't know yet (crash tests)."""
        with self._lock:
            self._reply_delay[method] = seconds

    def rate_limit(self, method: str | None, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls with HTTP 429, `Retry-After: retry_after`, error `ratelimited`."""
        self._add(_Rule("rate_limit", method, times, retry_after=retry_after))

    def server_error(self, method: str | None, times: int | None = 1, status: int = 503) -> None:
        """Answer the next `times` calls with an HTTP 5xx (the call is not carried out); with
        `times=None`, every call until `clear()` or `end_outage()`: an outage."""
        self._add(_Rule("server_error", method, times, status=status))

    def end_outage(self) -> None:
        """Drop every 5xx rule (Slack is back), leaving other faults in place."""
        with self._lock:
            self._rules = [r for r in self._rules if r.kind != "server_error"]

    def timeout(self, method: str | None, times: int = 1, seconds: float = 31.0, apply: bool = False) -> None:
        """Sleep `seconds` before answering the next `times` calls (slack_sdk's default timeout is 30 s).

        With `apply=False` the call is lost (answered 504 after the sleep); with `apply=True` it is
        carried out after the sleep, as when Slack did the work but the response never arrived.
        """
        self._add(_Rule("timeout", method, times, seconds=seconds, apply=apply))

    def slack_error(self, method: str | None, error: str, user: str | None = None,
                    times: int | None = None) -> None:
        """Answer `{"ok": false, "error": error}` to calls (targeting `user`, if given: its ID or IM)."""
        self._add(_Rule("slack_error", method, times, error=error, user=user))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._latency.clear()
            self._reply_delay.clear()

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    def decide(self, method: str, targets: set[str]) -> Decision:
        """Use up the matching faults for one call and say what to do."""
        with self._lock:
            self._rules = [r for r in self._rules if r.remaining is None or r.remaining > 0]
            decision = Decision(delay=self._latency.get(method, self._latency.get(None, 0.0)),
                                reply_delay=self._reply_delay.get(method, self._reply_delay.get(None, 0.0)))
            for kind in ("timeout", "server_error", "rate_limit", "slack_error"):
                rule = next((r for r in self._rules if r.kind == kind and r.matches(method, targets)), None)
                if rule is None:
                    continue
                if rule.remaining is not None:
                    rule.remaining -= 1
                if kind == "timeout":
                    decision.timeout = rule.seconds
                    decision.apply_after_timeout = rule.apply
                    if not rule.apply:
                        decision.status = 504
                        return decision
                elif kind == "server_error":
                    decision.status = rule.status
                    return decision
                elif kind == "rate_limit":
                    decision.status = 429
                    decision.headers["Retry-After"] = str(rule.retry_after)
                    return decision
                else:
                    decision.error = rule.error
                    return decision
            return decision
