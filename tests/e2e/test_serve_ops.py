"""`checkin-bot serve` as an operator runs it: stopped by SIGTERM mid-request, watched through
/readyz and /metrics (also in Socket Mode, on METRICS_PORT), logging JSON lines.

A real subprocess against the sandbox; the test sees only what an operator would: the process's
exit, its output, its HTTP endpoints, the Web API calls it makes and its database file.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import create_engine, text

from sandbox import Sandbox
from tests.e2e.real_clock import checkin_bot, every_hour_config

pytestmark = pytest.mark.slow

T = TypeVar("T")
BOT_TOKEN = "xoxb-1111-2222-ops"
APP_TOKEN = "xapp-1-A0SANDBOX-3333-ops"
SECRET = "ops-signing-secret"
REP, MANAGER = "U0REP1", "U0MANAGER"
# On the real clock, with people in two zones: their hours never hold a message back (respect is
# tested in test_respect_month.py).
CONFIG = every_hour_config(dt.datetime.now(dt.UTC), "West", MANAGER, [REP])
# Kubernetes' default grace period; deploy/kubernetes gives the pod this long too.
GRACE_SECONDS = 30



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox.start() as sandbox:
        sandbox.add_user(REP, name="ana", tz="America/Los_Angeles")
        sandbox.add_user(MANAGER, name="maya", tz="America/Chicago")
        yield sandbox


def start(sb: Sandbox, tmp_path: Path, *args: str, **extra: str) -> tuple[subprocess.Popen[str], Path]:
    (tmp_path / "checkins.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CHECKINS_", "LOG_", "METRICS_"))
           and k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PORT")}
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": sb.api_url,
                "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "SLACK_SIGNING_SECRET": SECRET,
                "CHECKINS_CONFIG": str(tmp_path / "checkins.toml"), "PYTHONUNBUFFERED": "1", **extra})
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen([*checkin_bot(), "serve", *args], cwd=tmp_path, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, text=True)
    return process, log


def wait_for(process: subprocess.Popen[str], log: Path, find: Callable[[], T | None], what: str,
             timeout: float = 60.0) -> T:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = find()
        if found:
            return found
        if process.poll() is not None:
            raise AssertionError(f"serve exited ({process.returncode}) before {what}:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{log.read_text()[-3000:]}")


def get(url: str) -> tuple[int, str] | None:
    try:
        with urllib.request.urlopen(url, timeout=3) as resp:  # noqa: S310 - local test URL
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None


def stop(process: subprocess.Popen[str], log: Path) -> tuple[int, float]:
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=GRACE_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)
        raise AssertionError(f"serve outlived SIGTERM by {GRACE_SECONDS} s:\n{log.read_text()[-3000:]}") from None
    return code, time.monotonic() - started


def question_status(tmp_path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{tmp_path / 'serve.db'}")
    try:
        with engine.connect() as connection:
            return [r[0] for r in connection.execute(text("SELECT status FROM manager_questions"))]
    finally:
        engine.dispose()


def test_sigterm_mid_command_finishes_the_work_then_exits(sb: Sandbox, tmp_path: Path) -> None:
    port = free_port()
    # The scheduler runs too, so /readyz watches it and SIGTERM must stop it as well.
    process, log = start(sb, tmp_path, "--http", "--port", str(port), LOG_FORMAT="json", LOG_LEVEL="DEBUG")
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(process, log, lambda: (get(f"{base}/readyz") or (0, ""))[0] == 200, "GET /readyz")
        slack = sb.client(f"{base}/slack/events", SECRET)
        # Slack is slow to take the DM: the ask is acked, and SIGTERM arrives while it is posting.
        sb.faults.latency(3.0, method="chat.postMessage")
        question = "What would help you move the Zanzibar renewal forward?"
        asked = slack.slash(f"ask <@{REP}> {question}", user=MANAGER, escape=False)
        assert asked.status == 200
        time.sleep(0.5)  # the listener is now waiting on chat.postMessage (3 s)
        assert not sb.dms_to(REP)
        code, took = stop(process, log)
    finally:
        if process.poll() is None:
            process.kill()
    output = log.read_text()
    assert code == 0, output[-3000:]
    assert took < GRACE_SECONDS
    # Nothing lost: the question reached the rep, is stored as sent, and the manager was told.
    assert [m for m in sb.dms_to(REP) if m.event_type == "manager_question"], output[-3000:]
    assert question_status(tmp_path) == ["sent"]
    assert any("Sent to" in e.text for e in sb.ephemerals_to(MANAGER))
    # JSON lines, one object each, with the workspace; and no message text even at DEBUG.
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert lines and all({"time", "level", "logger", "message"} <= set(line) for line in lines)
    assert any(line.get("workspace") == sb.team_id for line in lines)
    assert "Zanzibar" not in output
    assert BOT_TOKEN not in output and SECRET not in output


def test_socket_mode_serves_health_and_metrics_on_the_metrics_port(sb: Sandbox, tmp_path: Path) -> None:
    metrics_port = free_port()
    process, log = start(sb, tmp_path, "--no-scheduler", SLACK_APP_TOKEN=APP_TOKEN, METRICS_PORT=str(metrics_port))
    base = f"http://127.0.0.1:{metrics_port}"
    try:
        assert wait_for(process, log, lambda: get(f"{base}/healthz"), "GET /healthz") == \
            (200, json.dumps({"ok": True, "database": "ok"}))
        assert wait_for(process, log, lambda: sb.socket_server.wait_for_connection(timeout=0.2), "the socket")
        slack = sb.client(socket=True, timeout=10.0)
        assert slack.slash("help", user=REP).status == 200
        status, body = get(f"{base}/metrics") or (0, "")
        assert status == 200
        assert 'checkin_requests_total{kind="/checkin help"} 1.0' in body
        assert (get(f"{base}/readyz") or (0, ""))[0] == 200  # no scheduler here: the database is enough
        assert (get(f"{base}/slack/events") or (0, ""))[0] == 404
        code, _ = stop(process, log)
    finally:
        if process.poll() is None:
            process.kill()
    assert code == 0, log.read_text()[-3000:]
