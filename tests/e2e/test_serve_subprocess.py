"""`checkin-bot serve` as a real subprocess, driven through the sandbox as Slack would drive it:
over a Socket Mode WebSocket (SLACK_APP_TOKEN set), and over signed HTTP (`--http`).

Nothing here reaches inside the process: it sees only the environment, the Web API calls the bot
makes to the sandbox, the acks on the socket, the HTTP responses and the database file.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sandbox import Sandbox
from sandbox.models import Message
from tests.e2e.real_clock import checkin_bot, every_hour_config

pytestmark = pytest.mark.slow

BOT_TOKEN = "xoxb-1111-2222-subprocess"
APP_TOKEN = "xapp-1-A0SANDBOX-3333-subprocess"
SECRET = "subprocess-signing-secret"
REP, MANAGER = "U0REP1", "U0MANAGER"
# On the real clock, with people in two zones: their hours never hold a message back (respect is
# tested in test_respect_month.py).
CONFIG = every_hour_config(dt.datetime.now(dt.UTC), "West", MANAGER, [REP])
START_TIMEOUT = 60.0



def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Bot:
    process: subprocess.Popen[str]
    log: Path
    database: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def alive(self) -> None:
        if self.process.poll() is not None:
            raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.output()[-4000:]}")

    def answers(self) -> list[tuple[str, str]]:
        engine = create_engine(f"sqlite:///{self.database}")
        try:
            with engine.connect() as connection:
                return [(r[0], r[1]) for r in connection.execute(text("SELECT rep_id, text FROM answers ORDER BY id"))]
        finally:
            engine.dispose()


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox.start() as sandbox:
        sandbox.add_user(REP, name="ana", real_name="Ana Reyes", tz="America/Los_Angeles")
        sandbox.add_user(MANAGER, name="maya", real_name="Maya Okafor", tz="America/Chicago")
        yield sandbox


def start(sb: Sandbox, tmp_path: Path, *args: str, app_token: bool) -> Bot:
    (tmp_path / "checkins.toml").write_text(CONFIG)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CHECKINS_")) and k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PORT")}
    database = tmp_path / "serve.db"
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": sb.api_url, "DATABASE_URL": f"sqlite:///{database}",
                "CHECKINS_CONFIG": str(tmp_path / "checkins.toml"), "SLACK_SIGNING_SECRET": SECRET,
                "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1"})
    if app_token:
        env["SLACK_APP_TOKEN"] = APP_TOKEN
    log = tmp_path / "serve.log"
    with log.open("w") as sink:
        process = subprocess.Popen([*checkin_bot(), "serve", *args], cwd=tmp_path, env=env, stdout=sink,
                                   stderr=subprocess.STDOUT, text=True)
    return Bot(process, log, database)


def stop(bot: Bot) -> int:
    """SIGTERM, as a platform stops a process; it must exit promptly and cleanly."""
    if bot.process.poll() is None:
        bot.process.send_signal(signal.SIGTERM)
        try:
            bot.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            bot.process.kill()
            bot.process.wait(timeout=5)
            raise AssertionError(f"serve ignored SIGTERM:\n{bot.output()[-4000:]}") from None
    return bot.process.returncode


def wait_until(bot: Bot, condition, what: str, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        bot.alive()
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}:\n{bot.output()[-4000:]}")


def prompts(sb: Sandbox) -> list[Message]:
    return [m for m in sb.dms_to(REP) if m.event_type == "checkin_prompt"]


def exercise(sb: Sandbox, bot: Bot, slack) -> None:  # type: ignore[no-untyped-def]
    """A slash command, a DM answer and a button (plus its modal), each checked for its effect."""
    added = slack.slash("goal add Close the Acme renewal", user=REP)
    assert added.status == 200, bot.output()[-3000:]
    assert "Added your goal" in added.reply_text  # the reply travels in the ack

    started = slack.slash("now", user=REP)
    assert started.status == 200 and "Starting a check-in" in started.reply_text
    [prompt] = wait_until(bot, lambda: prompts(sb), "the check-in DM")
    assert "Close the Acme renewal" in prompt.text
    assert {"checkin_answer", "checkin_skip", "checkin_snooze"} <= set(prompt.action_ids())

    answered = slack.dm(REP, "Legal is the blocker; I've booked a call with their counsel.")
    assert answered.status == 200
    wait_until(bot, lambda: sb.calls_to("reactions.add"), "the thank-you reaction")
    wait_until(bot, lambda: "Answered" in sb.workspace.find(prompt.channel, prompt.ts).visible_text,
               "the check-in DM to show it was answered")
    wait_until(bot, lambda: [m for m in sb.dms_to(MANAGER) if m.event_type == "checkin_answer"],
               "the answer passed on to the manager")

    clicked = slack.click("checkin_answer", user=REP, message=sb.workspace.find(prompt.channel, prompt.ts))
    assert clicked.status == 200
    modal = wait_until(bot, lambda: [v for v in sb.views_of(REP) if v["type"] == "modal"], "the answer modal")[-1]
    submitted = slack.submit_view(modal, {"answer_text": "Counsel call went well; signing Friday."}, user=REP)
    assert submitted.status == 200
    wait_until(bot, lambda: bot.answers() == [(REP, "Counsel call went well; signing Friday.")],
               "the edited answer to be stored once")


def test_socket_mode_serve_connects_acks_envelopes_and_replies(sb: Sandbox, tmp_path: Path) -> None:
    bot = start(sb, tmp_path, "--no-scheduler", app_token=True)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not sb.socket_server.wait_for_connection(timeout=0.2):
            bot.alive()
            assert time.monotonic() < deadline, f"serve never connected:\n{bot.output()[-4000:]}"
        assert [c for c in sb.calls_to("apps.connections.open") if c.ok]
        slack = sb.client(socket=True, timeout=10.0)
        exercise(sb, bot, slack)
        envelopes = [m for m in sb.socket_server.received if "envelope_id" in m]
        # Every envelope sent (2 slash, 1 event, 1 click, 1 view_submission) was acknowledged once.
        assert len(envelopes) == len({m["envelope_id"] for m in envelopes}) == 5
        slash_acks = [m for m in envelopes if (m.get("payload") or {}).get("text", "").startswith("Added your goal")]
        assert len(slash_acks) == 1
        sb.assert_no_violations()
    finally:
        code = stop(bot)
    assert code == 0, bot.output()[-4000:]
    assert BOT_TOKEN not in bot.output() and APP_TOKEN not in bot.output()


def test_http_serve_answers_signed_requests_and_healthz(sb: Sandbox, tmp_path: Path) -> None:
    port = free_port()
    # SLACK_APP_TOKEN is set too: --http must still serve HTTP.
    bot = start(sb, tmp_path, "--http", "--port", str(port), "--no-scheduler", app_token=True)
    base = f"http://127.0.0.1:{port}"
    try:
        def healthy() -> dict[str, object] | None:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as resp:  # noqa: S310 - local
                    return json.loads(resp.read()) if resp.status == 200 else None
            except (urllib.error.URLError, ConnectionError):
                return None

        assert wait_until(bot, healthy, "GET /healthz", timeout=START_TIMEOUT) == {"ok": True, "database": "ok"}
        slack = sb.client(f"{base}/slack/events", SECRET)
        exercise(sb, bot, slack)
        forged = slack.with_signing(secret="not-the-secret").slash("goal add Forged goal", user=REP)
        stale = slack.with_signing(timestamp_offset=-301).slash("goal add Stale goal", user=REP)
        assert (forged.status, stale.status) == (401, 401)
        assert not sb.calls_to("apps.connections.open")  # HTTP mode never opens a socket
        sb.assert_no_violations()
    finally:
        code = stop(bot)
    assert code == 0, bot.output()[-4000:]
    assert BOT_TOKEN not in bot.output() and SECRET not in bot.output()
