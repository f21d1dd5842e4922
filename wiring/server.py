"""HTTP mode: Bolt behind waitress (a production WSGI server), plus the operator endpoints.

`GET /healthz`: 200 `{"ok": true, "database": "ok"}` while the database takes writes, else 503
with `database` one of "unreachable", "read-only", "full", "not writable"
(storage.db.database_fault). `GET /readyz`: that, and (when this process runs the scheduler) a
dispatch pass started or finished recently. `GET /metrics`: Prometheus text. In Socket Mode the
same operator endpoints are served on their own small port (`make_ops_server`).
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from core import metrics
from core.services import Services
from handlers.vetting import MAX_BODY_BYTES, Accepted, RequestVetter
from storage.db import database_fault

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

# The scheduler runs a pass every minute: five minutes without one means it is stuck or dead.
MAX_PASS_AGE_SECONDS = 300.0


def _plain(start_response: StartResponse, status: str, body: bytes = b"") -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _json(start_response: StartResponse, ok: bool, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps({"ok": ok, **payload}).encode()
    status = "200 OK" if ok else "503 Service Unavailable"
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class WsgiApp:
    """`app=None` serves only the operator endpoints (Socket Mode's metrics port)."""

    def __init__(self, app: App | None, engine: Engine, scheduler: bool = False,
                 max_pass_age: float = MAX_PASS_AGE_SECONDS, passes: metrics.PassClock = metrics.PASSES,
                 services: Services | None = None) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events") if app is not None else None
        flow = app.oauth_flow if app is not None else None
        self.oauth_paths = (flow.install_path, flow.redirect_uri_path) if flow is not None else ()
        self.engine = engine
        # Every Slack request is vetted before Bolt parses it (size, signature, shape, workspace,
        # replays); without services (operator-only port, unit tests) there is no Slack path.
        self.vetter = RequestVetter(services) if services is not None else None
        self.scheduler = scheduler
        self.max_pass_age = max_pass_age
        self.passes = passes
        self.started = time.time()

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        fault = database_fault(self.engine)
        facts: dict[str, Any] = {"database": fault or "ok"}
        ready = fault is None
        if self.scheduler:
            # Before the first pass, count from start-up: the first pass may take a while.
            last = max(self.passes.last() or 0.0, self.started)
            age = time.time() - last
            facts["last_dispatch_pass_seconds_ago"] = round(age, 1)
            if age > self.max_pass_age:
                ready = False
                facts["scheduler"] = f"no dispatch pass for over {self.max_pass_age:.0f} s"
        return ready, facts

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if method in ("GET", "HEAD"):
            if path == "/healthz":
                # Reachable is not enough: a full or read-only disk answers SELECT 1 and loses every write.
                fault = database_fault(self.engine)
                return _json(start_response, fault is None, {"database": fault or "ok"})
            if path == "/readyz":
                ready, facts = self.readiness()
                return _json(start_response, ready, facts)
            if path == "/metrics":
                body = metrics.render()
                start_response("200 OK", [("Content-Type", metrics.CONTENT_TYPE),
                                          ("Content-Length", str(len(body)))])
                return [body]
        if self.slack is None:
            return _plain(start_response, "404 Not Found", b"Not found: this port serves /healthz, /readyz and /metrics")
        if path in self.oauth_paths and method in ("GET", "HEAD"):
            # OAuth installs: Bolt's install page and redirect (state checked against our store).
            return self.slack(environ, start_response)
        if path != "/slack/events":
            return _plain(start_response, "404 Not Found")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed")
        return self._slack_request(environ, start_response)

    def _slack_request(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        assert self.slack is not None
        declared = str(environ.get("CONTENT_LENGTH") or "")
        if not declared.isdigit():
            return _plain(start_response, "411 Length Required")
        length = int(declared)
        if self.vetter is None:
            if length > MAX_BODY_BYTES:
                return _plain(start_response, "413 Payload Too Large", b"Request body too large")
            return self.slack(environ, start_response)
        if length > MAX_BODY_BYTES:  # refused unread
            status, reason = self.vetter.refuse(413, "body too large", length).response()
            return _plain(start_response, status, reason)
        body = environ["wsgi.input"].read(length)
        headers = {key[5:].replace("_", "-").lower(): str(value) for key, value in environ.items()
                   if key.startswith("HTTP_")}
        verdict = self.vetter.vet(headers, body, str(environ.get("CONTENT_TYPE") or ""))
        if not isinstance(verdict, Accepted):
            status, reason = verdict.response()
            return _plain(start_response, status, reason)
        if verdict.replay:  # already applied: acknowledge, change nothing
            return _plain(start_response, "200 OK")
        # Bolt reads the body again from the stream we consumed.
        environ = {**environ, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}
        return self.slack(environ, start_response)


def make_server(app: App | None, engine: Engine, port: int, host: str = "0.0.0.0", threads: int = 8,
                scheduler: bool = False, services: Services | None = None) -> Any:
    """A waitress server; call `.run()` to serve, `stop_server` to stop. Port 0 picks a free port.

    `app=None` gives the operator endpoints only. `scheduler` says whether this process runs the
    dispatch scheduler, which /readyz then watches. `services` turns on request vetting.
    """
    from waitress.server import create_server

    # waitress buffers a body before the app sees it; far past our cap it stops reading and drops
    # the connection. Up to 4x the cap the app itself answers a clean 413.
    return create_server(WsgiApp(app, engine, scheduler=scheduler, services=services), host=host, port=port,
                         threads=threads, ident="checkin-coach", max_request_body_size=4 * MAX_BODY_BYTES)


def stop_server(server: Any) -> None:
    """Stop a waitress server from another thread.

    Closing its sockets from outside races the select() in the serving thread (EBADF); asking
    the loop itself to close every dispatcher empties its map, and the loop then returns.
    """
    def close_all() -> None:
        for dispatcher in list(server._map.values()):
            dispatcher.close()

    server.task_dispatcher.shutdown()
    try:
        server.trigger.pull_trigger(close_all)
    except OSError:
        # The loop's wake-up pipe is already closed, so nothing is left to wake: close directly.
        close_all()
