"""Run the real bot against the sandbox: the same factory, listeners, server and dispatch pass.

Used by the end-to-end tests and by `checkin-bot demo`. Nothing here changes how the bot
behaves; it only wires the production pieces to a local workspace and a movable clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from types import TracebackType
from typing import Any

from core.config import AdminConfig
from core.services import Clock, system_clock
from core.settings import Settings
from handlers.delivery import CONCURRENCY
from handlers.passes import run_pass
from handlers.render import EVENT_TYPES
from sandbox.client import SlackClientSim, bolt_transport
from sandbox.server import Sandbox
from wiring.app import build_app
from wiring.boot import build_services
from wiring.config import parse_checked
from wiring.server import make_server, stop_server

SIGNING_SECRET = "sandbox-signing-secret"
BOT_TOKEN = "xoxb-sandbox-bot-token"


class BotHarness:
    """The bot wired to `sandbox`. With `http=True` requests go through the real waitress server."""

    def __init__(self, sandbox: Sandbox, database_url: str, config: AdminConfig | None = None,
                 clock: Clock = system_clock, http: bool = True, process_before_response: bool = True) -> None:
        self.sandbox = sandbox
        sandbox.require_metadata(EVENT_TYPES)  # CONTRACT §4: every posted message carries one
        self.settings = Settings(bot_token=BOT_TOKEN, signing_secret=SIGNING_SECRET, api_url=sandbox.api_url,
                                 database_url=database_url)
        self.services = build_services(self.settings, config or parse_checked(""), clock=clock)
        # Finishing each listener before responding makes tests deterministic; production acks first.
        self.app = build_app(self.services, process_before_response=process_before_response)
        self._server: Any = None
        self._thread: threading.Thread | None = None
        if http:
            self._server = make_server(self.app, self.services.engine, port=0, host="127.0.0.1", threads=4,
                                       services=self.services)
            self._thread = threading.Thread(target=self._server.run, name="bot-http", daemon=True)
            self._thread.start()
            self.slack: SlackClientSim = sandbox.client(self.url, SIGNING_SECRET)
        else:
            self.slack = sandbox.client(bolt_transport(self.app), SIGNING_SECRET)

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("this harness runs in-process (http=False)")
        return f"http://127.0.0.1:{self._server.effective_port}/slack/events"

    @property
    def base_url(self) -> str:
        return self.url.removesuffix("/slack/events")

    def dispatch(self, now: dt.datetime | None = None, concurrency: int = CONCURRENCY) -> Any:
        return run_pass(self.services, now, concurrency)

    def close(self) -> None:
        if self._server is not None:
            stop_server(self._server)
            if self._thread is not None:
                self._thread.join(timeout=5)
            self._server = None
        self.services.engine.dispose()

    def __enter__(self) -> BotHarness:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
