"""A transport for tests whose Slack is a stand-in object with a sync `chat_postMessage`: each
recipient's messages are posted at once, in the calling thread, through the one sender."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

from handlers.sender import SendResult, send


class InlineTransport:
    def __init__(self, client: Any, concurrency: int, stopping: threading.Event | None = None,
                 pacing: Any = None) -> None:
        self.client = client

    def submit(self, messages: list[dict[str, Any]]) -> Future[list[SendResult]]:
        future: Future[list[SendResult]] = Future()
        future.set_result([send(self.client, message) for message in messages])
        return future

    def close(self) -> None:
        return None
