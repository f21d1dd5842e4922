"""How the outbox worker's posts travel: one kept-alive aiohttp session per drain.

slack_sdk's sync WebClient opens a new connection for every call (over TLS, a new handshake too),
which was most of the CPU a check-in cost. A drain opens one `KeepAlive`: an event loop in its own
thread and one aiohttp session that every post of the drain shares (slack_sdk's AsyncWebClient),
with at most `concurrency` recipients being posted to at once and as many connections kept open.

The worker calls `submit(messages)` once per recipient and gets a `concurrent.futures.Future`, as
from a thread pool: a recipient's messages go in order, different people's side by side, and a
future not yet started can be cancelled (it then never reaches Slack). Once `stopping` is set no
new recipient is started: their futures resolve to "unsent", for the worker to give back.

Posting itself and the error policy stay in handlers.sender (`post_async`, `classify_error`); the
rare edits and uploads (`op` other than a post) go through `handlers.sender.send` in a thread.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any, Protocol, TypeVar

import aiohttp
from slack_sdk import WebClient
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState
from slack_sdk.web.async_client import AsyncWebClient

from core import metrics
from handlers.sender import SendResult, post_async, send

log = logging.getLogger(__name__)
T = TypeVar("T")


class Transport(Protocol):
    """What the worker posts through: one future per recipient's messages, in order."""

    def submit(self, messages: list[dict[str, Any]]) -> Future[list[SendResult]]: ...

    def close(self) -> None: ...


class Admission(Protocol):
    """The shared rate budget (handlers.pacing.Pacing): blocking waits, so called off the loop."""

    def admit(self, message: dict[str, Any]) -> bool: ...

    def admit_now(self, message: dict[str, Any]) -> Callable[[], bool] | None: ...

    def paused(self, retry_after: float) -> None: ...


# (the sync client whose token and base URL to use, concurrency, stop flag, pacing) -> a transport.
TransportFactory = Callable[[WebClient, int, threading.Event | None, Admission | None], Transport]
# A post answered 429 waits its turn after the shared pause and tries again, this many times.
PACED_RETRIES = 3


class CountingAsyncRateLimitHandler(AsyncRateLimitErrorRetryHandler):
    """Slack's 429 handling (wait Retry-After, try again), counting every 429 for /metrics."""

    async def _can_retry_async(self, *, state: RetryState, request: HttpRequest,
                               response: HttpResponse | None = None, error: Exception | None = None) -> bool:
        if response is not None and response.status_code == 429:
            metrics.SLACK_RATE_LIMITED.labels(method=request.url.rstrip("/").rsplit("/", 1)[-1][:64]).inc()
        return await super()._can_retry_async(state=state, request=request, response=response, error=error)


def retry_handlers(paced: bool = False) -> list[AsyncRetryHandler]:
    """The sync client's policy (core.services.make_web_client) for the async client: 429 after
    Retry-After, 5xx, and failures to connect only; a connection lost after the request went out
    is not retried (Slack may have posted it). When the posts are paced on the shared budget, a 429
    is not retried here: it pauses the method for every worker instead (handlers.pacing)."""
    return [
        *([] if paced else [CountingAsyncRateLimitHandler(max_retry_count=3)]),
        AsyncServerErrorRetryHandler(max_retry_count=2),
        AsyncConnectionErrorRetryHandler(max_retry_count=2, error_types=[aiohttp.ClientConnectorError,
                                                                         aiohttp.ConnectionTimeoutError]),
    ]


def sdk_logger() -> logging.Logger:
    """slack_sdk's logger for the fan-out, its own level set to what it would inherit.

    slack_sdk checks `logger.level`, not the effective level: on a logger left at NOTSET it
    formats every request and response body for a DEBUG line that is then dropped, which cost
    more CPU per post than the post itself.
    """
    logger = logging.getLogger("slack_sdk.web.outbox")
    logger.setLevel(logging.NOTSET)
    logger.setLevel(logger.getEffectiveLevel())
    return logger


class KeepAlive:
    """One drain's posting: an event loop thread, one aiohttp session, `concurrency` at a time."""

    def __init__(self, client: WebClient, concurrency: int, stopping: threading.Event | None = None,
                 pacing: Admission | None = None) -> None:
        self.stopping = stopping
        self.pacing = pacing
        self._sync = client  # for the rare edits and uploads (handlers.sender.send), off the loop
        self._loop = asyncio.new_event_loop()
        # One thread per recipient in flight for the budget's blocking waits (asyncio's default
        # executor has only a few on a small machine, which would cap the fan-out).
        self._waits = ThreadPoolExecutor(max_workers=max(4, concurrency), thread_name_prefix="outbox-pace")
        self._loop.set_default_executor(self._waits)
        self._thread = threading.Thread(target=self._loop.run_forever, name="outbox-io", daemon=True)
        self._thread.start()
        self._tasks: set[asyncio.Task[None]] = set()
        self._pending_lock = threading.Lock()
        self._pending: list[tuple[Future[list[SendResult]], list[dict[str, Any]]]] = []
        self._woken = False
        try:
            self._client, self._gate = self._run(self._open(client, concurrency, pacing is not None))
        except BaseException:
            self._stop_loop()
            raise

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    @staticmethod
    async def _open(client: WebClient, concurrency: int, paced: bool) -> tuple[AsyncWebClient, asyncio.Semaphore]:
        # Mirrors the sync client the worker was given (its token, URL, timeout and TLS context),
        # so whatever picks the client (one workspace or many) picks the transport's too.
        connector = aiohttp.TCPConnector(limit=concurrency, ssl=client.ssl if client.ssl is not None else True)
        session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=client.timeout))
        async_client = AsyncWebClient(token=client.token, base_url=client.base_url, timeout=client.timeout,
                                      ssl=client.ssl, session=session, headers=dict(client.headers or {}),
                                      logger=sdk_logger(), retry_handlers=retry_handlers(paced))
        return async_client, asyncio.Semaphore(concurrency)

    def submit(self, messages: list[dict[str, Any]]) -> Future[list[SendResult]]:
        future: Future[list[SendResult]] = Future()
        # A batch's hundreds of submits wake the loop once, not once each (every wake-up is a
        # write to the loop's self-pipe and a GIL hand-over).
        with self._pending_lock:
            self._pending.append((future, messages))
            wake, self._woken = not self._woken, True
        if wake:
            self._loop.call_soon_threadsafe(self._start_pending)
        return future

    def _start_pending(self) -> None:
        with self._pending_lock:
            pending, self._pending, self._woken = self._pending, [], False
        for future, messages in pending:
            task = self._loop.create_task(self._post_in_order(future, messages))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _post_in_order(self, future: Future[list[SendResult]], messages: list[dict[str, Any]]) -> None:
        async with self._gate:
            if not future.set_running_or_notify_cancel():
                return  # cancelled before it started: nothing reached Slack
            try:
                results = []
                for message in messages:
                    if self.stopping is not None and self.stopping.is_set():
                        results.append(SendResult("unsent", error="not sent: stopping"))
                    elif message.get("op", "post") != "post":
                        # chat.update / chat.delete / an upload: rare, so the sync client in a
                        # thread, under the same error policy, rather than an async twin of each.
                        results.append(await asyncio.to_thread(send, self._sync, message))
                    else:
                        results.append(await self._post_paced({k: v for k, v in message.items() if k != "op"}))
                future.set_result(results)
            except BaseException as exc:  # noqa: BLE001 - handed to the waiting worker, which raises it
                future.set_exception(exc)

    async def _post_paced(self, message: dict[str, Any]) -> SendResult:
        if self.pacing is None:
            return await post_async(self._client, **message)
        result = SendResult("transient", error="ratelimited")
        for _ in range(PACED_RETRIES + 1):
            # The budget's waits block (a short database transaction on PostgreSQL): off the loop.
            rest = self.pacing.admit_now(message)
            if rest is not None and not await asyncio.to_thread(rest):
                return SendResult("transient", error="ratelimited")
            result = await post_async(self._client, **message)
            if result.retry_after is None:
                return result
            await asyncio.to_thread(self.pacing.paused, result.retry_after)
        return result

    def close(self) -> None:
        """Wait for every post started or queued, then close the session and the loop."""
        try:
            self._run(self._drain())
        finally:
            self._stop_loop()

    async def _drain(self) -> None:
        self._start_pending()  # anything submitted whose wake-up has not run yet
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self._client.session is not None:
            await self._client.session.close()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        if not self._thread.is_alive():
            self._loop.close()
        self._waits.shutdown(wait=False)

    def __enter__(self) -> KeepAlive:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
