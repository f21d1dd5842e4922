"""The outbox worker's transport (handlers.transport.KeepAlive) against the sandbox: kept-alive
connections, a recipient's messages in order, nothing posted once stopping, and the same
outcomes as the sync sender for connections that fail before or after the request went out."""

from __future__ import annotations

import socket
import socketserver
import threading
import time
from collections.abc import Iterator

import pytest

from core.services import make_web_client
from handlers.sender import post
from handlers.transport import KeepAlive
from sandbox import Sandbox

TOKEN = "xoxb-transport"


@pytest.fixture
def live() -> Iterator[Sandbox]:
    with Sandbox.start() as sb:
        for i in range(8):
            sb.add_user(f"U0T{i}")
        yield sb


def texts(sb: Sandbox, user: str) -> list[str]:
    return [m.text for m in sb.dms_to(user)]


def test_posts_share_a_few_kept_alive_connections_where_the_old_client_opened_one_each(live: Sandbox) -> None:
    client = make_web_client(TOKEN, live.api_url)
    with KeepAlive(client, concurrency=4) as transport:
        futures = [transport.submit([{"channel": f"U0T{i % 8}", "text": f"hello {i}"}]) for i in range(40)]
        results = [f.result(timeout=20)[0] for f in futures]
    assert {r.outcome for r in results} == {"ok"}
    assert live.connections_accepted <= 4
    before = live.connections_accepted
    for i in range(5):
        assert post(client, channel="U0T0", text=f"sync {i}").outcome == "ok"
    assert live.connections_accepted - before == 5  # the baseline: a connection per call


def test_a_recipients_messages_arrive_in_order(live: Sandbox) -> None:
    live.faults.latency(0.05, method="chat.postMessage")
    with KeepAlive(make_web_client(TOKEN, live.api_url), concurrency=8) as transport:
        future = transport.submit([{"channel": "U0T1", "text": f"page {n}"} for n in range(5)])
        assert [r.outcome for r in future.result(timeout=20)] == ["ok"] * 5
    assert texts(live, "U0T1") == [f"page {n}" for n in range(5)]


def test_once_stopping_nothing_more_is_posted_and_a_cancelled_one_never_is(live: Sandbox) -> None:
    stopping = threading.Event()
    live.faults.latency(0.3, method="chat.postMessage")
    with KeepAlive(make_web_client(TOKEN, live.api_url), concurrency=1, stopping=stopping) as transport:
        first = transport.submit([{"channel": "U0T2", "text": "in flight"}, {"channel": "U0T2", "text": "after"}])
        queued = transport.submit([{"channel": "U0T3", "text": "queued"}])
        cancelled = transport.submit([{"channel": "U0T4", "text": "cancelled"}])
        assert cancelled.cancel()
        time.sleep(0.1)  # the first post is on its way (Slack takes 0.3 s)
        stopping.set()
        assert [r.outcome for r in first.result(timeout=20)] in (["ok", "unsent"], ["unsent", "unsent"])
        assert [r.outcome for r in queued.result(timeout=20)] == ["unsent"]
    assert texts(live, "U0T3") == [] and texts(live, "U0T4") == []
    assert "after" not in texts(live, "U0T2")


def test_a_refused_connection_is_transient_and_a_hang_up_after_sending_is_unknown_and_not_retried() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    with KeepAlive(make_web_client(TOKEN, f"http://127.0.0.1:{closed_port}/api/"), concurrency=2) as transport:
        [refused] = transport.submit([{"channel": "U0T1", "text": "hi"}]).result(timeout=30)
    assert refused.outcome == "transient"

    received: list[bytes] = []

    class HangUp(socketserver.BaseRequestHandler):
        def handle(self) -> None:  # read the request head, then close without answering
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                data += chunk
            received.append(data)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), HangUp) as server:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        client = make_web_client(TOKEN, f"http://127.0.0.1:{server.server_address[1]}/api/")
        with KeepAlive(client, concurrency=2) as transport:
            [lost] = transport.submit([{"channel": "U0T1", "text": "hi"}]).result(timeout=30)
        server.shutdown()
    assert lost.outcome == "unknown"
    assert len(received) == 1, "Slack may have posted it: never retried blindly"
