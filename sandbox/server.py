"""`Sandbox`: the local Slack workspace emulator (Web API server, records, faults, simulated client)."""

from __future__ import annotations

import copy
import gc
import ssl
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
from sandbox.ratelimits import Limiter, RateLimits, tier_of_spec
from sandbox.records import Call, Recorder
from sandbox.socket_mode import SocketModeServer
from sandbox.tenants import Directory, Org, Tenant
from sandbox.tls import ThrowawayCertificate
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
                 clock: Callable[[], float] = time.time, trigger_ttl: float = 3.0, strict: bool = True,
                 rate_limits: RateLimits | None = None, strict_tokens: bool = False,
                 token_rotation: bool = False) -> None:
        if spec_dir is None and DEFAULT_SPEC_DIR.is_dir():
            spec_dir = DEFAULT_SPEC_DIR
        self.spec_dir = spec_dir if spec_dir is not None and spec_dir.is_dir() else None
        self.clock = clock
        self.workspace = Workspace(clock)
        self.view_store = ViewStore(self.workspace.lock, clock, trigger_ttl, self.workspace.team)
        self.faults = Faults()
        self.spec = SpecIndex(self.spec_dir, manifest_path or DEFAULT_MANIFEST)
        self.recorder = Recorder()
        self._socket: SocketModeServer | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.certificate: ThrowawayCertificate | None = None
        ctx = self._make_ctx(self.workspace, self.view_store)
        self.directory = Directory(Tenant(self.workspace, self.view_store, ctx), clock, trigger_ttl, self._make_ctx,
                                   lenient=not strict_tokens)
        self.directory.issue_token(self.workspace.team.id, token=self.bot_token)
        self.directory.token_rotation = token_rotation
        self.web = WebApi(ctx, self.spec, self.faults, self.recorder, strict, self.directory)
        if rate_limits is not None:
            self.web.limiter = Limiter(rate_limits, clock, lambda m: tier_of_spec(self.spec.spec(m)))

    def _make_ctx(self, ws: Workspace, store: ViewStore) -> Ctx:
        return Ctx(ws, store, self.base_url if self._server is not None else "", self.socket_url)

    # ---- lifecycle ----------------------------------------------------------------------------
    @classmethod
    def start(cls, spec_dir: Path | None = None, manifest_path: Path | None = None, *,
              clock: Callable[[], float] = time.time, trigger_ttl: float = 3.0, strict: bool = True,
              rate_limits: RateLimits | None = None, strict_tokens: bool = False,
              token_rotation: bool = False, tls: bool = False) -> Sandbox:
        """Start the Web API server on 127.0.0.1 (ephemeral port).

        `spec_dir` defaults to ../shared/slack-spec when present (a missing folder skips the spec
        checks); `manifest_path` to the repo's manifest.yml. `clock` gives message timestamps (pass
        a simulated clock for demos); `trigger_ttl` is how long trigger_ids stay valid; with
        `strict=False` payloads that break Block Kit limits are recorded but still accepted.
        `rate_limits` switches Slack's rate limits on (off by default). With `strict_tokens` only
        tokens the sandbox issued are accepted (else any xoxb- token is the default workspace's);
        `token_rotation` makes oauth.v2.access issue expiring tokens with refresh tokens. With `tls`
        the Web API is served over HTTPS with a throw-away certificate (`client_ssl_context()`).
        """
        sandbox = cls(spec_dir, manifest_path, clock=clock, trigger_ttl=trigger_ttl, strict=strict,
                      rate_limits=rate_limits, strict_tokens=strict_tokens, token_rotation=token_rotation)
        if tls:
            sandbox.certificate = ThrowawayCertificate()
        sandbox._server = make_server(sandbox.web, tls=sandbox.certificate.server_context()
                                      if sandbox.certificate else None)
        for tenant in sandbox.directory.tenants.values():
            tenant.ctx.base_url = sandbox.base_url
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
        if self.certificate is not None:
            self.certificate.remove()

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
        return f"{'https' if self.certificate else 'http'}://127.0.0.1:{self.port}"

    @property
    def connections_accepted(self) -> int:
        """TCP connections the Web API server has accepted (a kept-alive one counts once)."""
        return int(getattr(self._server, "connections", 0))

    def client_ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context a client needs to trust this sandbox (None when it serves plain HTTP)."""
        return self.certificate.client_context() if self.certificate else None

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
    def ws(self, team: str | None = None) -> Workspace:
        """A workspace's state by team ID (the default workspace without one)."""
        return self.directory.tenant(team).ws

    def views_store(self, team: str | None = None) -> ViewStore:
        return self.directory.tenant(team).views

    def add_user(self, user_id: str, name: str | None = None, tz: str | None = "UTC", is_admin: bool = False,
                 real_name: str | None = None, deleted: bool = False, email: str | None = None, *,
                 team: str | None = None) -> User:
        """Add a user (`tz=None`: a profile without a time zone) to the default workspace or `team`."""
        return self.ws(team).add_user(user_id, name, tz, is_admin, real_name, deleted, email)

    def require_metadata(self, event_types: frozenset[str] | set[str]) -> None:
        """Record a violation for any chat.postMessage without metadata of one of these types."""
        self.web.metadata_types = frozenset(event_types)

    def deactivate_user(self, user_id: str, *, team: str | None = None) -> None:
        ws = self.ws(team)
        with ws.lock:
            user = ws.user(user_id)
            user.deleted = True
            user.updated = ws.clock()

    def update_user(self, user_id: str, *, team: str | None = None, **changes: Any) -> User:
        """Change a user's profile fields (tz, name, real_name, email, is_admin): what `user_change` reports."""
        ws = self.ws(team)
        with ws.lock:
            user = ws.user(user_id)
            for key, value in changes.items():
                if key not in ("tz", "name", "real_name", "email", "is_admin", "deleted"):
                    raise TypeError(f"update_user cannot change {key!r}")
                setattr(user, key, value)
            user.updated = ws.clock()
            return copy.deepcopy(user)

    def add_channel(self, channel_id: str, name: str, members: list[str] | None = None,
                    bot_is_member: bool = True, *, team: str | None = None) -> Channel:
        return copy.deepcopy(self.ws(team).add_channel(channel_id, name, members, bot_is_member))

    def im_channel(self, user_id: str, channel_id: str | None = None, *, team: str | None = None) -> str:
        """The user's IM with the bot (opened if needed; `channel_id` picks the ID of a new one)."""
        return self.ws(team).im_for(user_id, channel_id)

    # ---- several workspaces, Enterprise Grid, OAuth ------------------------------------------
    def add_workspace(self, team_id: str | None = None, name: str | None = None, *,
                      enterprise_id: str | None = None, installed: bool = True) -> Workspace:
        """Another workspace (in the Grid org `enterprise_id`, if given), with its own bot user.

        With `installed` it gets a bot token at once (`bot_token_of(team_id)`); otherwise install
        it through OAuth: `code = sb.authorize(team_id)`, then the bot's redirect exchanges it.
        """
        tenant = self.directory.add_workspace(team_id, name, enterprise_id=enterprise_id)
        if self._server is not None:
            tenant.ctx.base_url = self.base_url
        if installed:
            self.directory.issue_token(tenant.ws.team.id, enterprise_id)
        else:
            tenant.ws.installed = False
        return tenant.ws

    def add_org(self, enterprise_id: str | None = None, name: str | None = None) -> Org:
        """An Enterprise Grid org; add its workspaces with `add_workspace(enterprise_id=org.id)`."""
        return self.directory.add_org(enterprise_id, name)

    def add_org_user(self, enterprise_id: str, user_id: str, teams: list[str], name: str | None = None,
                     tz: str | None = "UTC") -> User:
        """A Grid user (W… ID) who is a member of several of the org's workspaces: one person, one ID."""
        if not user_id.startswith("W"):
            raise ValueError("Enterprise Grid user IDs start with W")
        org = self.directory.orgs[enterprise_id]
        if not teams or any(t not in org.team_ids for t in teams):
            raise ValueError(f"every team must be a workspace of org {enterprise_id}")
        first = self.ws(teams[0])
        first.add_user(user_id, name, tz)
        shared = first.users[user_id]
        for team in teams[1:]:
            self.ws(team).join(shared)
        return copy.deepcopy(shared)

    @property
    def workspaces(self) -> list[Workspace]:
        return self.web.workspaces()

    def bot_token_of(self, team: str | None = None, *, enterprise_id: str | None = None) -> str:
        """The newest live bot token of a workspace (or of an org-wide install, by `enterprise_id`)."""
        with self.directory.lock:
            org_wide = enterprise_id is not None and team is None
            team_id = None if org_wide else (team or self.team_id)
            live = [g.token for g in self.directory.grants.values() if not g.revoked and g.team_id == team_id
                    and (not org_wide or g.enterprise_id == enterprise_id)]
        if not live:
            raise LookupError(f"no live bot token for {team or enterprise_id}")
        return live[-1]

    @property
    def client_id(self) -> str:
        return self.directory.client_id

    @property
    def client_secret(self) -> str:
        return self.directory.client_secret

    def authorize(self, team: str | None = None, *, enterprise_id: str | None = None, user: str = "",
                  redirect_uri: str | None = None) -> str:
        """A user approves the install (of `team`, or org-wide for `enterprise_id`): the OAuth `code`."""
        if enterprise_id is not None and team is None:
            if enterprise_id not in self.directory.orgs:
                raise KeyError(f"no org {enterprise_id}")
            return self.directory.authorize(None, enterprise_id, user, redirect_uri)
        ws = self.ws(team)
        return self.directory.authorize(ws.team.id, ws.team.enterprise_id, user, redirect_uri)

    def uninstall(self, team: str | None = None, *, enterprise_id: str | None = None) -> list[str]:
        """The app is removed: its tokens are revoked (calls answer token_revoked). Returns them.

        Send the bot the events with `client.tokens_revoked()` and `client.app_uninstalled()`.
        """
        if enterprise_id is not None and team is None:
            self.directory.orgs[enterprise_id].org_wide = False
            return self.directory.revoke(enterprise_id=enterprise_id)
        ws = self.ws(team)
        ws.installed = False
        return self.directory.revoke(ws.team.id)

    def revoke_tokens(self, team: str | None = None) -> list[str]:
        """Revoke a workspace's tokens while the app stays installed (a `tokens_revoked` case)."""
        return self.directory.revoke(self.ws(team).team.id)

    # ---- rate limits ---------------------------------------------------------------------------
    @property
    def limiter(self) -> Limiter | None:
        return self.web.limiter

    def rate_limited_counts(self) -> dict[str, int]:
        """How many calls were answered 429 by the emulated limits, per method."""
        return dict(self.web.limiter.limited) if self.web.limiter else {}

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

    def _channel_of(self, channel_or_user: str, ws: Workspace) -> str:
        if channel_or_user[:1] in ("U", "W") and channel_or_user in ws.users:
            with ws.lock:
                return ws.ims.get(channel_or_user, "")
        return channel_or_user

    def messages(self, channel_or_user: str | None = None, *, team: str | None = None) -> list[Message]:
        """Messages in the workspace (a user ID means their IM with the bot), oldest first."""
        ws = self.ws(team)
        channel = self._channel_of(channel_or_user, ws) if channel_or_user else None
        return ws.all_messages(channel)

    def dms_to(self, user_id: str, *, team: str | None = None) -> list[Message]:
        """Messages the bot posted in its IM with the user (thread replies included)."""
        bot_id = self.ws(team).team.bot_id
        return [m for m in self.messages(user_id, team=team) if m.bot_id == bot_id]

    def ephemerals_to(self, user_id: str, *, team: str | None = None) -> list[Ephemeral]:
        """Ephemeral messages the user saw: chat.postEphemeral, response_url posts, slash command acks."""
        ws = self.ws(team)
        with ws.lock:
            return copy.deepcopy([e for e in ws.ephemerals if e.user == user_id and not e.deleted])

    def views_of(self, user_id: str, *, team: str | None = None) -> list[dict[str, Any]]:
        """The user's current views: the Home tab (if published), then open modals, bottom first."""
        return self.views_store(team).current(user_id)

    def view(self, view_id: str, *, team: str | None = None) -> dict[str, Any] | None:
        return self.views_store(team).get(view_id)

    def home_of(self, user_id: str, *, team: str | None = None) -> dict[str, Any] | None:
        return next((v for v in self.views_of(user_id, team=team) if v["type"] == "home"), None)

    @property
    def files(self) -> list[UploadedFile]:
        with self.workspace.lock:
            return copy.deepcopy(list(self.workspace.files.values()))

    # ---- simulated Slack client ---------------------------------------------------------------
    def client(self, bot_url: str | Transport | None = None, signing_secret: str = "", *,
               socket: bool = False, timestamp_offset: int = 0, sign_with: str | None = None,
               timeout: float = 10.0, ack_deadline: float | None = None, team: str | None = None) -> SlackClientSim:
        """A client that sends the bot signed requests as Slack does.

        `bot_url` is the bot's HTTP endpoint (e.g. http://127.0.0.1:3000/slack/events) or a transport
        callable `(body, headers) -> (status, headers, body)`; with `socket=True` requests go over
        the Socket Mode connection the bot opened instead. `timeout` is how long to wait for the
        bot's answer; with `ack_deadline` (Slack's is 3 s) a later answer is a "slow_ack" violation.
        `team` is the workspace the requests come from (team_id, enterprise_id in every payload).
        """
        return SlackClientSim(self, bot_url, signing_secret, socket=socket, timestamp_offset=timestamp_offset,
                              sign_with=sign_with, timeout=timeout, ack_deadline=ack_deadline, team=team)

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


def without_collector() -> None:
    """Turn garbage collection off in a process that only serves a sandbox to a benchmark.

    The emulator's full collections, over every message and call it keeps, grew to 100-160 ms and
    stalled every call in flight, so a bench measured our emulator's pauses (Slack's servers don't
    pause a client for theirs) rather than the bot. Never in tests: the sandbox shares their process.
    """
    gc.freeze()
    gc.disable()
