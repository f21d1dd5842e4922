"""The sandbox's HTTP server: the Web API (`/api/<method>`), upload URLs and response_urls.

Each Web API call goes through: faults -> checks (spec, Block Kit) -> auth -> handler, and is
recorded as a `Call`; every failed check is recorded as a `Violation`.
"""

from __future__ import annotations

import json
import ssl
import threading
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox import checks
from sandbox.checks import SpecIndex, Violation
from sandbox.faults import Faults
from sandbox.methods import HANDLERS, Ctx
from sandbox.models import SlackError
from sandbox.ratelimits import POST_MESSAGE, Limiter
from sandbox.records import Call, Recorder
from sandbox.responses import handle_response_url
from sandbox.tenants import Directory
from sandbox.workspace import Workspace

JSON_ARGS = ("blocks", "view", "metadata", "attachments", "files")
MESSAGE_METHODS = ("chat.postMessage", "chat.postEphemeral", "chat.update")
VIEW_METHODS = ("views.open", "views.push", "views.update", "views.publish")
# Methods where Slack does not turn a user ID into the user's IM.
NEEDS_CONVERSATION_ID = ("chat.update", "chat.delete", "reactions.add", "conversations.history",
                         "conversations.replies")
TRIGGER_ERRORS = ("invalid_trigger_id", "expired_trigger_id", "exchanged_trigger_id")
NO_TOKEN_METHODS = ("oauth.v2.access",)  # authenticated by the app's client_id and client_secret


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json; charset=utf-8"


def json_reply(body: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(body).encode(), headers or {})


def parse_args(content_type: str, body: bytes, query: str) -> dict[str, Any]:
    """Form or JSON arguments (query string first, body wins), JSON-string args decoded."""
    args: dict[str, Any] = {k: v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    if body:
        if content_type.startswith("application/json"):
            loaded = json.loads(body.decode("utf-8"))
            if isinstance(loaded, dict):
                args.update(loaded)
        else:
            args.update({k: v[0] for k, v in parse_qs(body.decode("utf-8"), keep_blank_values=True).items()})
    for key in JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            try:
                args[key] = json.loads(value)
            except ValueError:
                pass  # left as a string: the checks and handlers report it
    return args


class WebApi:
    def __init__(self, ctx: Ctx, spec: SpecIndex, faults: Faults, recorder: Recorder, strict: bool = True,
                 directory: Directory | None = None) -> None:
        self.ctx = ctx  # the default workspace's
        self.directory = directory
        self.limiter: Limiter | None = None  # rate limits, when switched on
        self.spec = spec
        self.faults = faults
        self.recorder = recorder
        self.strict = strict
        self.stopping = threading.Event()
        # When set, every chat.postMessage must carry metadata with one of these event types
        # (an app's own contract; Slack itself makes metadata optional).
        self.metadata_types: frozenset[str] | None = None

    def workspaces(self) -> list[Workspace]:
        if self.directory is None:
            return [self.ctx.ws]
        with self.directory.lock:
            return [t.ws for t in self.directory.tenants.values()]

    def _targets(self, args: dict[str, Any]) -> set[str]:
        found = {str(args[k]) for k in ("user", "user_id", "channel", "channel_id") if args.get(k)}
        found.update(u.strip() for u in str(args.get("users") or "").split(",") if u.strip())
        for value in list(found):
            owner = next((o for o in (ws.im_owner(value) for ws in self.workspaces()) if o), None)
            if owner:
                found.add(owner)
        return found

    def check(self, method: str, args: dict[str, Any]) -> list[Violation]:
        found = self.spec.check(method, args)
        channel = args.get("channel")
        if method in NEEDS_CONVERSATION_ID and isinstance(channel, str) and channel[:1] in ("U", "W"):
            found.append(Violation(method, "channel_id", f"needs a conversation ID (D…), not the user ID {channel}"))
        if method in MESSAGE_METHODS:
            found += checks.check_message(method, args)
        if method == "chat.postMessage" and self.metadata_types is not None:
            problem = checks.metadata_type_problem(args.get("metadata"), self.metadata_types)
            if problem:
                found.append(Violation(method, checks.METADATA, problem))
        elif method in VIEW_METHODS and "view" in args:
            found += [Violation(method, checks.BLOCK_KIT, p) for p in checks.check_view(args["view"])]
            found += checks.view_markup(args["view"])
        return found

    def _rejection(self, method: str, found: list[Violation]) -> dict[str, Any] | None:
        if not self.strict:
            return None
        if any(v.kind == checks.MISSING_SCOPE for v in found):
            needed = ((self.spec.spec(method) or {}).get("scope") or {}).get("bot") or [""]
            provided = ",".join(sorted(self.spec.bot_scopes or []))
            return {"ok": False, "error": "missing_scope", "needed": needed[0], "provided": provided}
        kit = [v.detail for v in found if v.kind == checks.BLOCK_KIT]
        if kit and method in VIEW_METHODS:
            return {"ok": False, "error": "invalid_arguments", "response_metadata": {"messages": kit}}
        if kit and all(d.startswith("text:") for d in kit):
            return {"ok": False, "error": "msg_too_long"}
        if kit:
            return {"ok": False, "error": "invalid_blocks", "response_metadata": {"messages": kit}}
        if any(v.kind == checks.METADATA for v in found):
            return {"ok": False, "error": "invalid_metadata_format"}
        return None

    @staticmethod
    def _auth_error(method: str, token: str | None) -> str | None:
        if not token:
            return "not_authed"
        if not token.startswith(("xoxb-", "xoxp-", "xapp-", "xoxe.xoxb-", "xoxe.xoxp-")):  # xoxe.: rotating
            return "invalid_auth"
        if (method == "apps.connections.open") != token.startswith("xapp-"):
            return "not_allowed_token_type"
        return None

    def _resolve(self, method: str, args: dict[str, Any], token: str | None) -> tuple[Ctx, str | None]:
        """The workspace the call acts in, and an auth error (not_authed, invalid_auth, token_revoked...)."""
        if method in NO_TOKEN_METHODS:
            return self.ctx, None
        auth_error = self._auth_error(method, token)
        if auth_error or self.directory is None or not token or token.startswith("xapp-"):
            return self.ctx, auth_error
        try:
            return self.directory.resolve(token, args), None
        except SlackError as err:
            return self.ctx, err.error

    def _rate_limited(self, ctx: Ctx, method: str, args: dict[str, Any]) -> int | None:
        if self.limiter is None:
            return None
        channel = None
        if method == POST_MESSAGE:
            # One bucket per conversation: a user ID and that user's IM are the same channel.
            raw = str(args.get("channel") or "")
            channel = ctx.ws.im_owner(raw) or raw
        return self.limiter.take(ctx.ws.team.id, method, channel)

    def dispatch(self, method: str, args: dict[str, Any], token: str | None, basic: str | None = None) -> Reply:
        decision = self.faults.decide(method, self._targets(args))
        if decision.delay:
            self.stopping.wait(decision.delay)
        if decision.timeout:
            self.stopping.wait(decision.timeout)
        found = self.check(method, args)
        self.recorder.violate(found)
        reply: Reply | None = None
        body: dict[str, Any]
        ctx, auth_error = self._resolve(method, args, token)
        retry_after = None if decision.http_fault or auth_error else self._rate_limited(ctx, method, args)
        if decision.status == 429:
            body = {"ok": False, "error": "ratelimited"}
            reply = json_reply(body, 429, decision.headers)
        elif decision.http_fault:
            body = {"ok": False, "error": f"http_{decision.status}"}
            text = f"<html><body><h1>{decision.status} Service Unavailable</h1></body></html>"
            reply = Reply(decision.status, text.encode(), {}, "text/html; charset=utf-8")
        elif auth_error:
            body = {"ok": False, "error": auth_error}
            if auth_error == "not_authed":
                self.recorder.violate([Violation(method, "auth", "no token sent")])
        elif retry_after is not None:
            body = {"ok": False, "error": "ratelimited"}
            reply = json_reply(body, 429, {"Retry-After": str(retry_after)})
        elif decision.error:
            body = {"ok": False, "error": decision.error}
        elif method in NO_TOKEN_METHODS and self.directory is not None:
            body = self._oauth(args, basic)
        elif method not in HANDLERS:
            body = {"ok": False, "error": "unknown_method"}
        else:
            body = self._rejection(method, found) or self._handle(ctx, method, args)
        self.recorder.call(Call(method, {k: v for k, v in args.items() if k not in ("token", "client_secret")},
                                body, self.ctx.ws.clock(), reply.status if reply else 200, ctx.ws.team.id))
        if decision.reply_delay:
            self.stopping.wait(decision.reply_delay)
        return reply or json_reply(body)

    def _oauth(self, args: dict[str, Any], basic: str | None) -> dict[str, Any]:
        assert self.directory is not None
        scopes = ",".join(sorted(self.spec.bot_scopes or []))
        try:
            return self.directory.oauth_access(args, basic, scopes)
        except SlackError as err:
            return {"ok": False, "error": err.error}

    def _handle(self, ctx: Ctx, method: str, args: dict[str, Any]) -> dict[str, Any]:
        try:
            return HANDLERS[method](ctx, args)
        except SlackError as err:
            if err.error in TRIGGER_ERRORS:
                self.recorder.violate([Violation(method, "trigger_id", err.error)])
            return {"ok": False, "error": err.error, **err.extra}

    def upload(self, file_id: str, body: bytes) -> Reply:
        for ws in self.workspaces():
            with ws.lock:
                found = ws.files.get(file_id)
                if found is not None:
                    found.content = body
                    return Reply(200, f"OK - {len(body)}".encode(), {}, "text/plain")
        return Reply(404, b"file_not_found", {}, "text/plain")

    def response_url(self, token: str, body: bytes) -> Reply:
        status, out = handle_response_url(self, token, body)
        return json_reply(out, status)


def make_server(api: WebApi, host: str = "127.0.0.1", tls: ssl.SSLContext | None = None) -> ThreadingHTTPServer:
    """A server on an ephemeral port; run `serve_forever` in a thread. With `tls`, HTTPS."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "SlackSandbox/1.0"
        # Headers and body go out in two writes: on a kept-alive connection Nagle's algorithm would
        # hold the body back for the client's delayed ACK (40 ms), which Slack's servers don't do.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet test output
            return

        def _send(self, reply: Reply) -> None:
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(reply.body)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(reply.body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (e.g. a timeout fault)

        def _route(self, body: bytes) -> Reply:
            parts = urlsplit(self.path)
            path = parts.path
            if path.startswith("/api/"):
                method = path[len("/api/"):]
                try:
                    args = parse_args(self.headers.get("Content-Type", ""), body, parts.query)
                except (ValueError, UnicodeDecodeError):
                    return json_reply({"ok": False, "error": "invalid_json"})
                auth = self.headers.get("Authorization", "")
                token = auth[7:].strip() if auth.lower().startswith("bearer ") else None
                basic = auth[6:].strip() if auth.lower().startswith("basic ") else None
                token = token or (str(args.pop("token")) if args.get("token") else None)
                args.pop("token", None)
                return api.dispatch(method, args, token, basic)
            if path.startswith("/upload/v1/") and self.command == "POST":
                return api.upload(path.rsplit("/", 1)[-1], body)
            if path.startswith("/response/") and self.command == "POST":
                return api.response_url(path.rsplit("/", 1)[-1], body)
            return Reply(404, b"not found", {}, "text/plain")

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            try:
                reply = self._route(body)
            except Exception as exc:  # noqa: BLE001 - a sandbox bug must fail the test, not hang the bot
                detail = "".join(traceback.format_exception(exc))
                api.recorder.violate([Violation(self.path, "sandbox_error", detail)])
                reply = Reply(500, detail.encode(), {}, "text/plain; charset=utf-8")
            self._send(reply)

        do_POST = _serve
        do_GET = _serve

    class Server(ThreadingHTTPServer):
        # socketserver's default listen backlog is 5: a bot posting with more threads than that
        # has connections dropped and retried by TCP a second later, which Slack never does.
        request_queue_size = 128

        connections = 0  # accepted so far: how a test sees whether a client keeps them alive

        def finish_request(self, request: Any, client_address: Any) -> None:
            with api.recorder.lock:
                type(self).connections += 1
            if tls is None:
                super().finish_request(request, client_address)
                return
            # The handshake runs in the connection's own thread, not the accepting one.
            try:
                secure = tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
            try:
                super().finish_request(secure, client_address)
            finally:
                secure.close()

    server = Server((host, 0), Handler)
    server.daemon_threads = True
    server.block_on_close = False
    return server

