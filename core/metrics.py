"""Prometheus metrics, and the liveness facts `/readyz` reads. A leaf: imports nothing from the project.

Everything lives in prometheus_client's default registry, so `/metrics` also shows the process
collector (memory, CPU, open files). Label values are bounded sets chosen by the code (message
kinds, payload types, outcomes), never user input.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

CONTENT_TYPE = CONTENT_TYPE_LATEST

DISPATCH_PASSES = Counter("checkin_dispatch_passes", "Dispatch passes run, by outcome (ok or error).",
                          ["outcome"])
DISPATCH_DURATION = Histogram("checkin_dispatch_pass_duration_seconds", "Wall time of one dispatch pass.",
                              buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
MESSAGES = Counter("checkin_messages", "Messages the bot tried to post, by kind and result "
                   "(sent; failed: Slack refused for good; deferred: will be tried again; held: waiting for "
                   "the recipient's working hours).", ["kind", "result"])
SLACK_RATE_LIMITED = Counter("checkin_slack_rate_limited", "HTTP 429 answers from Slack's Web API, by method.",
                             ["method"])
REQUESTS = Counter("checkin_requests", "Slack requests (commands, clicks, submissions, events) that reached "
                   "the listeners, by kind; compare with checkin_request_ack_seconds_count.", ["kind"])
ACK_LATENCY = Histogram("checkin_request_ack_seconds", "Time from a Slack request reaching the app to its ack.",
                        ["kind"], buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10))
LAST_PASS = Gauge("checkin_dispatch_last_pass_timestamp_seconds",
                  "Unix time the newest dispatch pass of this process started or finished.")

# What a message's metadata event_type maps to when it is not a known kind: keeps labels bounded.
OTHER = "other"


@dataclass(frozen=True)
class OutboxState:
    depth: int  # messages waiting to be sent
    oldest_due_age_seconds: float  # how overdue the oldest waiting one is (0 when none)


OutboxProbe = Callable[[], OutboxState]


class _OutboxCollector(Collector):
    """Reads the outbox once per scrape through a probe the app wiring installs (`set_outbox_probe`)."""

    def __init__(self) -> None:
        self.probe: OutboxProbe | None = None

    def describe(self) -> Iterable[Metric]:
        return []  # the metrics exist only once a probe is set

    def collect(self) -> Iterable[Metric]:
        probe = self.probe
        if probe is None:
            return []
        try:
            state = probe()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the database blinked
            return []
        depth = GaugeMetricFamily("checkin_outbox_depth", "Messages due or waiting to be sent.")
        depth.add_metric([], state.depth)
        age = GaugeMetricFamily("checkin_outbox_oldest_due_age_seconds",
                                "Seconds since the oldest waiting message fell due (0 when none).")
        age.add_metric([], max(0.0, state.oldest_due_age_seconds))
        return [depth, age]


_OUTBOX = _OutboxCollector()
REGISTRY.register(_OUTBOX)


def set_outbox_probe(probe: OutboxProbe | None) -> None:
    """Install the function that measures the outbox (None removes it)."""
    _OUTBOX.probe = probe


def record_message(kind: str | None, result: str) -> None:
    MESSAGES.labels(kind=kind or OTHER, result=result).inc()


def render(registry: CollectorRegistry = REGISTRY) -> bytes:
    return generate_latest(registry)


class PassClock:
    """When this process's scheduler last showed signs of life, for `/readyz`.

    A pass that started recently counts as alive even before it finishes (a pass over 10,000 reps
    takes a while); one that started long ago and never finished does not.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def beat(self, at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self._lock:
            self._last = at if self._last is None else max(self._last, at)
        LAST_PASS.set(at)

    def last(self) -> float | None:
        with self._lock:
            return self._last


PASSES = PassClock()


@contextmanager
def timed_pass() -> Iterator[None]:
    """Count and time one dispatch pass; its start and end are heartbeats for `/readyz`."""
    PASSES.beat()
    started = time.perf_counter()
    outcome = "error"
    try:
        yield
        outcome = "ok"
    finally:
        DISPATCH_PASSES.labels(outcome=outcome).inc()
        DISPATCH_DURATION.observe(time.perf_counter() - started)
        PASSES.beat()
