"""HTTP mode: Bolt behind waitress (a production WSGI server), plus `GET /healthz`."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from sqlalchemy import Engine

from storage.db import ping

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

log = logging.getLogger(__name__)

# Slack's request bodies are small; anything far larger is not from Slack.
MAX_BODY_BYTES = 1024 * 1024


class WsgiApp:
    def __init__(self, app: App, engine: Engine) -> None:
        self.slack = SlackRequestHandler(app, path="/slack/events")
        self.engine = engine

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            healthy = ping(self.engine)
            body = json.dumps({"ok": healthy, "database": "ok" if healthy else "unreachable"}).encode()
            status = "200 OK" if healthy else "503 Service Unavailable"
            start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            body = b"Request body too large"
            start_response("413 Payload Too Large", [("Content-Type", "text/plain")])
            return [body]
        return self.slack(environ, start_response)


def make_server(app: App, engine: Engine, port: int, host: str = "0.0.0.0", threads: int = 8) -> Any:
    """A waitress server; call `.run()` to serve, `.close()` to stop. Port 0 picks a free port."""
    from waitress.server import create_server

    return create_server(WsgiApp(app, engine), host=host, port=port, threads=threads,
                         ident="checkin-coach")


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
