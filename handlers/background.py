"""Work that must not hold one of Bolt's listener threads: after an ack, or for an acked event.

Bolt runs listeners on one bounded pool and answers Slack only when a listener acks. Long work
left on that pool (users.info for 50 reps, DMs, uploads) makes later commands wait for a thread
and miss Slack's 3 s. So the slow part runs on a separate pool, and acks never wait behind it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Executor
from typing import Any

log = logging.getLogger(__name__)

Later = Callable[..., None]


def runner(executor: Executor | None) -> Later:
    """`run(work, *args)`: on `executor`, logging what it raises; inline when there is none
    (process_before_response: the work must finish before the HTTP response)."""

    def run(work: Callable[..., None], *args: Any) -> None:
        def guarded() -> None:
            try:
                work(*args)
            except Exception:
                log.exception("background work failed")

        if executor is None:
            work(*args)
        else:
            executor.submit(guarded)

    return run


def inline(work: Callable[..., None], *args: Any) -> None:
    work(*args)
