"""`Sandbox`: the local Slack workspace emulator (Web API server, records, faults, simulated client)."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from sandbox.checks import SpecIndex, Violation
from sandbox.client import SlackClientSim, Transport
from sandbox.faults import Faults
from sandbox.methods import Ctx
from sandbox.models import (
    APP_ID,
    BOT_ID,
    BOT_USER_ID,
    TEAM_ID,
    Channel,
    Ephemeral,
    Message,
    UploadedFile,
    User,
)
from sandbox.records import Call, Recorder
from sandbox.socket_mode import SocketModeServer
from sandbox.views import ViewStore
from sandbox.webapi import WebApi, make_server
from sandbox.workspace import Workspace

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC_DIR = REPO_ROOT.parent / "shared" / "slack-spec"
DEFAULT_MANIFEST = REPO_ROOT / "manifest.yml"


class Sandbox:
    """A fake Slack workspace on 127.0.0.1. Use `Sandbox.start()` (also a context manager)."""

    bot_token = "xoxb-0000000000-sandbox"
    app_token = "xapp-1-A0SANDBOX-0000-sandbox"
    team_id = TEAM_ID
    app_id = APP_ID
    bot_id = BOT_ID
    bot_user_id = BOT_USER_ID

    def __init__(self, spec_dir: Path | None = None, manifest_path: Path | None = None, *,
                 clock: Callable[[], float] = time.time, trigger_ttl: float = 3.0, strict: bool = True) -> None:
        if spec_dir is None and DEFAULT_SPEC_DIR.is_dir():
            spec_dir = DEFAULT_SPEC_DIR
        self.spec_dir = spec_dir if spec_dir is not None and spec_dir.is_dir() else None
        self.workspace = Workspace(clock)
        self.view_store = ViewStore(self.workspace.lock, clock, trigger_ttl)
        self.faults = Faults()
        self.spec = SpecIndex(self.spec_dir, manifest_path or DEFAULT_MANIFEST)
        self.recorder = Recorder()
        self._socket: SocketModeServer | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        ctx = Ctx(self.workspace, self.view_store, "", self.socket_url)
        self.web = WebApi(ctx, self.spec, self.faults, self.recorder, strict)

    # ---- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def start(cls, spec_dir: Path | None = None, manifest_path: Path | None = None, *,
              clock: Callable[[], float] = time.time, trigger_ttl: float = 3.0, strict: bool = True) -> Sandbox:
        """Start the Web API server on 127.0.0.1 (ephemeral port).

        `spec_dir` defaults to ../shared/slack-spec when present (a missing folder skips the spec
        checks); `manifest_path` to the repo's manifest.yml. `clock` gives message timestamps (pass
        a simulated clock for demos); `trigger_ttl` is how long trigger_ids stay valid; with
        `strict=False` payloads that break Block Kit limits are recorded but still accepted.
        """
        sandbox = cls(spec_dir, manifest_path, clock=clock, trigger_ttl=trigger_ttl, strict=strict)
        sandbox._server = make_server(sandbox.web)
        sandbox.web.ctx.base_url = sandbox.base_url
        server = sandbox._server
        # A short poll interval keeps close() fast (shutdown waits for the poll loop).
        sandbox._thread = threading.Thread(target=lambda: server.serve_forever(poll_interval=0.02),
                                           name="slack-sandbox", daemon=True)
        sandbox._thread.start()
        return sandbox

    def close(self) -> None:
        self.web.stopping.set()
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the sandbox is not started: use Sandbox.start()")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_url(self) -> str:
        """The base_url for slack_sdk's WebClient (ends with /api/)."""
        return f"{self.base_url}/api/"

    @property
    def trigger_ttl(self) -> float:
        return self.view_store.trigger_ttl

    @trigger_ttl.setter
    def trigger_ttl(self, seconds: float) -> None:
        self.view_store.trigger_ttl = seconds

    def socket_url(self) -> str:
        """A Socket Mode URL (what apps.connections.open returns); starts the WebSocket server."""
        with self.workspace.lock:
            if self._socket is None:
                self._socket = SocketModeServer()
            return self._socket.new_url()

    @property
    def socket_server(self) -> SocketModeServer:
        self.socket_url()
        assert self._socket is not None
        return self._socket

    # ---- workspace set-up ---------------------------------------------------------------------
    def add_user(self, user_id: str, name: str | None = None, tz: str = "UTC", is_admin: bool = False,
                 real_name: str | None = None, deleted: bool = False, email: str | None = None) -> User:
        return self.workspace.add_user(user_id, name, tz, is_admin, real_name, deleted, email)

    def require_metadata(self, event_types: frozenset[str] | set[str]) -> None:
        """Record a violation for any chat.postMessage without metadata of one of these types."""
        self.web.metadata_types = frozenset(event_types)

    def deactivate_user(self, user_id: str) -> None:
        with self.workspace.lock:
            self.workspace.user(user_id).deleted = True

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None,
                    bot_is_member: bool = True) -> Channel:
        return copy.deepcopy(self.workspace.add_channel(channel_id, name, members, bot_is_member))

    def im_channel(self, user_id: str) -> str:
        """The user's IM with the bot (opened if needed)."""
        return self.workspace.im_for(user_id)

    # ---- records ------------------------------------------------------------------------------
    @property
    def calls(self) -> list[Call]:
        with self.recorder.lock:
            return list(self.recorder.calls)

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def violations(self) -> list[Violation]:
        with self.recorder.lock:
            return list(self.recorder.violations)

    def assert_no_violations(self) -> None:
        found = self.violations
        if found:
            raise AssertionError(f"{len(found)} Slack violation(s):\n" + "\n".join(f"  - {v}" for v in found))

    def reset_records(self) -> None:
        """Forget recorded calls and violations (the workspace state stays)."""
        with self.recorder.lock:
            self.recorder.calls.clear()
            self.recorder.violations.clear()

    def _channel_of(self, channel_or_user: str) -> str:
        if channel_or_user[:1] in ("U", "W") and channel_or_user in self.workspace.users:
            return "D" + channel_or_user[1:]
        return channel_or_user

    def messages(self, channel_or_user: str | None = None) -> list[Message]:
        """Messages in the workspace (a user ID means their IM with the bot), oldest first."""
        channel = self._channel_of(channel_or_user) if channel_or_user else None
        return self.workspace.all_messages(channel)

    def dms_to(self, user_id: str) -> list[Message]:
        """Messages the bot posted in its IM with the user (thread replies included)."""
        return [m for m in self.messages(user_id) if m.bot_id == BOT_ID]

    def ephemerals_to(self, user_id: str) -> list[Ephemeral]:
        """Ephemeral messages the user saw: chat.postEphemeral, response_url posts, slash command acks."""
        with self.workspace.lock:
            return copy.deepcopy([e for e in self.workspace.ephemerals if e.user == user_id and not e.deleted])

    def views_of(self, user_id: str) -> list[dict[str, Any]]:
        """The user's current views: the Home tab (if published), then open modals, bottom first."""
        return self.view_store.current(user_id)

    def view(self, view_id: str) -> dict[str, Any] | None:
        return self.view_store.get(view_id)

    def home_of(self, user_id: str) -> dict[str, Any] | None:
        return next((v for v in self.views_of(user_id) if v["type"] == "home"), None)

    @property
    def files(self) -> list[UploadedFile]:
        with self.workspace.lock:
            return copy.deepcopy(list(self.workspace.files.values()))

    # ---- simulated Slack client ---------------------------------------------------------------
    def client(self, bot_url: str | Transport | None = None, signing_secret: str = "", *,
               socket: bool = False, timestamp_offset: int = 0, sign_with: str | None = None,
               timeout: float = 10.0, ack_deadline: float | None = None) -> SlackClientSim:
        """A client that sends the bot signed requests as Slack does.

        `bot_url` is the bot's HTTP endpoint (e.g. http://127.0.0.1:3000/slack/events) or a transport
        callable `(body, headers) -> (status, headers, body)`; with `socket=True` requests go over
        the Socket Mode connection the bot opened instead. `timeout` is how long to wait for the
        bot's answer; with `ack_deadline` (Slack's is 3 s) a later answer is a "slow_ack" violation.
        """
        return SlackClientSim(self, bot_url, signing_secret, socket=socket, timestamp_offset=timestamp_offset,
                              sign_with=sign_with, timeout=timeout, ack_deadline=ack_deadline)

    def wait_for(self, condition: Callable[[], T], timeout: float = 5.0, interval: float = 0.01) -> T:
        """Poll until `condition()` is truthy and return it (for bots that ack first, work after)."""
        deadline = time.monotonic() + timeout
        while True:
            result = condition()
            if result:
                return result
            if time.monotonic() > deadline:
                raise TimeoutError(f"condition still false after {timeout} s")
            time.sleep(interval)
