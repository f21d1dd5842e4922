"""Run the real bot against the sandbox: the same factory, listeners, server and dispatch pass.

Used by the end-to-end tests and by `checkin-bot demo`. Nothing here changes how the bot
behaves; it only wires the production pieces to a local workspace and a movable clock.
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
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


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the install page's redirect points at slack.com: read it, don't follow it


def install_through(base_url: str, authorize: Callable[[], str]) -> int:
    """Open `base_url`/slack/install, get the approval's code from `authorize` (the sandbox's, maybe
    in another process), follow the redirect back with code and state. The redirect's HTTP status."""
    opener = urllib.request.build_opener(_NoRedirect())
    with opener.open(base_url + "/slack/install", timeout=10) as page:
        cookie = page.headers.get("Set-Cookie", "").split(";", 1)[0]
        found = re.search(r"state=([A-Za-z0-9_.~%-]+)", page.read().decode() + page.headers.get("Location", ""))
    if not found:
        raise AssertionError("the install page carries no state")
    query = urllib.parse.urlencode({"code": authorize(), "state": urllib.parse.unquote(found.group(1))})
    request = urllib.request.Request(f"{base_url}/slack/oauth_redirect?{query}", headers={"Cookie": cookie})
    try:
        with opener.open(request, timeout=10) as done:
            return int(done.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


class BotHarness:
    """The bot wired to `sandbox`. With `http=True` requests go through the real waitress server."""

    def __init__(self, sandbox: Sandbox, database_url: str, config: AdminConfig | None = None,
                 clock: Clock = system_clock, http: bool = True, process_before_response: bool = True,
                 oauth: bool = False) -> None:
        """`oauth=True`: no bot token; workspaces are added with `install()` through the OAuth redirect."""
        self.sandbox = sandbox
        sandbox.require_metadata(EVENT_TYPES)  # CONTRACT §4: every posted message carries one
        if oauth:
            self.settings = Settings(signing_secret=SIGNING_SECRET, api_url=sandbox.api_url, database_url=database_url,
                                     client_id=sandbox.client_id, client_secret=sandbox.client_secret)
        else:
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

    def install(self, team: str | None = None, *, enterprise_id: str | None = None, user: str = "") -> int:
        """Install the bot as a person would: open /slack/install, approve in the sandbox (org-wide
        with `enterprise_id` alone), follow the redirect back with its code and state. Returns the
        redirect's HTTP status."""
        return install_through(self.base_url,
                               lambda: self.sandbox.authorize(team, enterprise_id=enterprise_id, user=user))

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
