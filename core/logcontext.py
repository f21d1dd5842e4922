"""Per-request and per-message log fields (workspace, kind, outbox id), and the log formats.

A leaf: imports nothing from the project. Fields live in a context variable, so each thread or
task sees its own; `ContextExecutor` carries them into the threads Bolt runs listeners on.
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from types import MappingProxyType
from typing import Any, ParamSpec, TypeVar

from pythonjsonlogger.json import JsonFormatter

P = ParamSpec("P")
T = TypeVar("T")

FIELDS = ("workspace", "kind", "outbox_id")
_fields: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "checkin_log_fields", default=MappingProxyType({}))
_defaults: dict[str, Any] = {}

# slack_sdk's and Bolt's DEBUG logs print request and response bodies: reps' answers, in clear.
SLACK_LOGGERS = ("slack_sdk", "slack_bolt", "slack")


def set_default(**fields: Any) -> None:
    """Fields every line carries unless a request says otherwise (the workspace, once known)."""
    _defaults.update({k: v for k, v in fields.items() if v is not None})


def set_fields(**fields: Any) -> None:
    """Replace this context's fields (a new request starts clean)."""
    _fields.set(MappingProxyType({k: v for k, v in fields.items() if v is not None}))


@contextmanager
def bind(**fields: Any) -> Iterator[None]:
    """Add fields for the duration of a block."""
    token = _fields.set(MappingProxyType({**_fields.get(), **{k: v for k, v in fields.items() if v is not None}}))
    try:
        yield
    finally:
        _fields.reset(token)


def current() -> dict[str, Any]:
    return {**_defaults, **_fields.get()}


class ContextFilter(logging.Filter):
    """Copies the context's fields onto each record, where the JSON formatter finds them."""

    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in current().items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


class ContextExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitter's context (so keep its log fields)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()

        def run() -> T:
            return context.run(fn, *args, **kwargs)

        return super().submit(run)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure(level: int, json_lines: bool, slack_debug: bool) -> None:
    """Root logging: plain text or one JSON object a line; Slack's libraries quiet unless asked."""
    root = logging.getLogger()
    root.setLevel(level)
    for name in SLACK_LOGGERS:
        # Their DEBUG dumps only when SLACK_DEBUG=1 asks for them, whatever LOG_LEVEL says.
        logging.getLogger(name).setLevel(logging.DEBUG if slack_debug else max(level, logging.INFO))
    if any(not getattr(h, "_checkin_coach", False) for h in root.handlers):
        return  # someone else (a test runner, an embedding app) owns the output, as with basicConfig
    handler = logging.StreamHandler()
    handler._checkin_coach = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    if json_lines:
        # "time" is ISO 8601 in UTC (from record.created), which log collectors parse as is.
        handler.setFormatter(JsonFormatter("%(levelname)s %(name)s %(message)s", timestamp="time",
                                           rename_fields={"levelname": "level", "name": "logger"}))
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
