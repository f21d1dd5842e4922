"""HTTP mode: Bolt behind waitress (a production WSGI server), plus `GET /healthz`."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from core.services import Services
from handlers.vetting import MAX_BODY_BYTES, Accepted, RequestVetter
from storage.db import ping

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)


def _plain(start_response: StartResponse, status: str, body: bytes = b"") -> Iterable[bytes]:
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


class WsgiApp:
    def __init__(self, app: App, engine: Engine, services: Services) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.engine = engine
        self.vetter = RequestVetter(services)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            healthy = ping(self.engine)
            body = json.dumps({"ok": healthy, "database": "ok" if healthy else "unreachable"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        if path != "/slack/events":
            return _plain(start_response, "404 Not Found")
        if method != "POST":
            return _plain(start_response, "405 Method Not Allowed")
        return self._slack_request(environ, start_response)

    def _slack_request(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = str(environ.get("CONTENT_LENGTH") or "")
        if not declared.isdigit():
            return _plain(start_response, "411 Length Required")
        length = int(declared)
        if length > MAX_BODY_BYTES:  # refused unread
            refusal = self.vetter.refuse(413, "body too large", length)
            status, reason = refusal.response()
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


def make_server(app: App, services: Services, port: int, host: str = "0.0.0.0", threads: int = 8) -> Any:
    """A waitress server; call `.run()` to serve, `.close()` to stop. Port 0 picks a free port."""
    from waitress.server import create_server

    # waitress buffers a body before the app sees it; far past our cap it stops reading and drops the
    # connection. Up to 4x the cap the app itself answers a clean 413.
    return create_server(WsgiApp(app, services.engine, services), host=host, port=port, threads=threads,
                         ident="checkin-coach", max_request_body_size=4 * MAX_BODY_BYTES)


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
