"""A Socket Mode WebSocket server: what `apps.connections.open` URLs point at.

Slack greets each connection with `hello`, then sends envelopes
(`envelope_id`, `type`, `payload`, `accepts_response_payload`, `retry_attempt`, `retry_reason`);
the app acknowledges each with `{"envelope_id": ..., "payload"?: ...}`.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import ServerConnection, serve

from sandbox.models import APP_ID


class SocketModeServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self._lock = threading.Condition()
        self._connections: list[ServerConnection] = []
        self._waiting: dict[str, threading.Event] = {}
        self._acks: dict[str, dict[str, Any]] = {}
        self.received: list[dict[str, Any]] = []  # every message the app sent, acks included
        # Slack spreads envelopes over an app's connections (up to 10), each to one of them; with
        # `spread` they go round-robin, else to the newest connection.
        self.spread = False
        self._sent = 0
        self._server = serve(self._handle, host, 0, compression=None, ping_interval=None)
        self.port = int(self._server.socket.getsockname()[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="slack-sandbox-ws", daemon=True)
        self._thread.start()

    def new_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/link/?ticket={uuid.uuid4()}&app_id={APP_ID}"

    @property
    def connection_count(self) -> int:
        with self._lock:
            return len(self._connections)

    def _handle(self, conn: ServerConnection) -> None:
        with self._lock:
            self._connections.append(conn)
            count = len(self._connections)
            self._lock.notify_all()
        try:
            conn.send(json.dumps({
                "type": "hello",
                "num_connections": count,
                "debug_info": {"host": "sandbox-wss", "build_number": 1, "approximate_connection_time": 18060},
                "connection_info": {"app_id": APP_ID},
            }))
            for raw in conn:
                try:
                    message = json.loads(raw)
                except ValueError:
                    continue
                if not isinstance(message, dict):
                    continue
                with self._lock:
                    self.received.append(message)
                    envelope_id = message.get("envelope_id")
                    if isinstance(envelope_id, str) and envelope_id in self._waiting:
                        self._acks[envelope_id] = message
                        self._waiting.pop(envelope_id).set()
        except ConnectionClosed:
            pass
        finally:
            with self._lock:
                if conn in self._connections:
                    self._connections.remove(conn)

    def wait_for_connection(self, timeout: float = 5.0) -> bool:
        with self._lock:
            return self._lock.wait_for(lambda: bool(self._connections), timeout)

    def send(self, envelope_type: str, payload: dict[str, Any], accepts_response_payload: bool,
             retry_attempt: int = 0, retry_reason: str = "", timeout: float = 3.0) -> dict[str, Any] | None:
        """Send one envelope on the newest connection; the app's ack, or None if none came in time."""
        if not self.wait_for_connection(timeout):
            raise RuntimeError("no Socket Mode connection: is the bot running with SLACK_APP_TOKEN?")
        envelope_id = str(uuid.uuid4())
        done = threading.Event()
        with self._lock:
            self._sent += 1
            conn = self._connections[self._sent % len(self._connections)] if self.spread else self._connections[-1]
            self._waiting[envelope_id] = done
        envelope: dict[str, Any] = {"envelope_id": envelope_id, "payload": payload, "type": envelope_type,
                                    "accepts_response_payload": accepts_response_payload}
        if envelope_type == "events_api":
            envelope.update({"retry_attempt": retry_attempt, "retry_reason": retry_reason})
        conn.send(json.dumps(envelope))
        if not done.wait(timeout):
            with self._lock:
                self._waiting.pop(envelope_id, None)
            return None
        with self._lock:
            return self._acks.pop(envelope_id)

    def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask connected apps to reconnect, as Slack does periodically."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            conn.send(json.dumps({"type": "disconnect", "reason": reason,
                                  "debug_info": {"host": "sandbox-wss"}}))

    def drop_connections(self) -> None:
        """Close every connection from the server side (as when Slack drops a socket)."""
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            conn.close()

    def close(self) -> None:
        self._server.shutdown()
        self.drop_connections()
        self._thread.join(timeout=2)
