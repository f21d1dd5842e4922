"""`checkin-bot dispatch` tells cron the truth through its exit code (README, "Exit codes").

Real subprocesses against the sandbox: a token revoked in the middle of a pass, or a database
that can't be reached, exits 1 with one `checkin-bot:` line; an ordinary pass in which Slack
asked for a few retries still exits 0.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from sandbox import Sandbox

pytestmark = pytest.mark.slow

CONSOLE = str(Path(sys.executable).with_name("checkin-bot"))
REP, MANAGER = "U0REP1", "U0MANAGER"
# Every day a working day, and the rep's zone chosen so that it is midday there now: the due
# check-in is never held back by quiet hours, whenever the test runs.
CONFIG = (f'[cadence]\nevery = "day"\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
          f'[[teams]]\nname = "West"\nmanager = "{MANAGER}"\nmembers = ["{REP}"]\n')


def midday_zone() -> str:
    offset = 12 - dt.datetime.now(dt.UTC).hour  # -11..12; Etc/GMT-N is N hours east of UTC
    return "UTC" if offset == 0 else f"Etc/GMT{-offset:+d}"


@pytest.fixture
def sb() -> Iterator[Sandbox]:
    with Sandbox.start() as sandbox:
        sandbox.add_user(REP, name="ana", tz=midday_zone())
        sandbox.add_user(MANAGER, name="maya", tz="UTC")
        yield sandbox


def dispatch(sb: Sandbox, cwd: Path, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHECKINS_", "DATABASE_URL"))}
    (cwd / "checkins.toml").write_text(CONFIG)
    env.update({"SLACK_BOT_TOKEN": "xoxb-1-dispatch", "SLACK_API_URL": sb.api_url,
                "DATABASE_URL": f"sqlite:///{cwd / 'd.db'}", **extra})
    return subprocess.run([CONSOLE, "dispatch"], capture_output=True, text=True, timeout=120, env=env, cwd=cwd)


def make_due(cwd: Path) -> int:
    """Bring every planned check-in forward to a minute ago, so the next pass sends it."""
    engine = create_engine(f"sqlite:///{cwd / 'd.db'}")
    try:
        with engine.begin() as connection:
            past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)).replace(tzinfo=None)
            moved = connection.execute(text("UPDATE checkins SET due_at = :t WHERE state = 'scheduled'"),
                                       {"t": past}).rowcount
            # The check-in's outbox row, which the worker claims, comes forward with it.
            connection.execute(text("UPDATE outbox SET not_before = :t WHERE state = 'pending'"), {"t": past})
            return moved
    finally:
        engine.dispose()


def our_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("checkin-bot:")]


@pytest.mark.parametrize("error", ["token_revoked", "invalid_auth"])
def test_a_token_revoked_mid_pass_exits_1_with_one_line(sb: Sandbox, tmp_path: Path, error: str) -> None:
    assert dispatch(sb, tmp_path).returncode == 0  # plans the rep's first check-in
    assert make_due(tmp_path) == 1
    sb.faults.slack_error("chat.postMessage", error)  # auth.test still passes: revoked since
    result = dispatch(sb, tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert our_lines(result.stderr) == [result.stderr.strip().splitlines()[-1]]
    assert error in our_lines(result.stderr)[0] and "xoxb-1-dispatch" not in result.stderr


@pytest.mark.parametrize("error", ["token_revoked", "account_inactive", "invalid_auth"])
def test_a_token_rejected_at_start_exits_1(sb: Sandbox, tmp_path: Path, error: str) -> None:
    sb.faults.slack_error("auth.test", error)
    result = dispatch(sb, tmp_path)
    assert result.returncode == 1
    assert len(our_lines(result.stderr)) == 1 and error in our_lines(result.stderr)[0]
    assert "Traceback" not in result.stderr


def test_an_unreachable_database_exits_1(sb: Sandbox, tmp_path: Path) -> None:
    result = dispatch(sb, tmp_path, DATABASE_URL="postgresql://u:secret@127.0.0.1:9/x")
    assert result.returncode == 1
    assert our_lines(result.stderr) and "cannot use the database" in our_lines(result.stderr)[0]
    assert "secret" not in result.stderr and "Traceback" not in result.stderr


def test_a_pass_with_retries_still_exits_0(sb: Sandbox, tmp_path: Path) -> None:
    assert dispatch(sb, tmp_path).returncode == 0
    assert make_due(tmp_path) == 1
    sb.faults.rate_limit("chat.postMessage", times=1, retry_after=1)  # the client waits and retries
    result = dispatch(sb, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "sent 1" in result.stdout
    assert len(sb.dms_to(REP)) == 1


def test_a_pass_that_leaves_a_send_for_later_exits_0(sb: Sandbox, tmp_path: Path) -> None:
    assert dispatch(sb, tmp_path).returncode == 0
    assert make_due(tmp_path) == 1
    sb.faults.slack_error("chat.postMessage", "internal_error", times=1)  # transient: next pass
    result = dispatch(sb, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "retry_later 1" in result.stdout
