"""For tests that run the bot as a separate process on the real clock: how to start it, a config
whose hours never hold anything back whatever the time of day, and a dispatch killed mid-send."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from sandbox import Sandbox


def checkin_bot() -> list[str]:
    """The console script next to this interpreter, else `python bot.py`."""
    script = Path(sys.executable).with_name("checkin-bot")
    return [str(script)] if script.exists() else [sys.executable, str(Path(__file__).parents[2] / "bot.py")]


def every_hour_config(now: dt.datetime, team: str, manager: str, members: list[str]) -> str:
    """Every day a working day, the one quiet minute twelve hours away from now, and the daily slot
    six hours away: nothing is held for anyone's hours, and the next check-in never falls due while
    a test runs, whatever the time of day."""
    quiet = (now + dt.timedelta(hours=12)).replace(second=0, microsecond=0)
    listed = ", ".join(f'"{m}"' for m in members)
    return f"""
[cadence]
every = "day"
time = "{(now + dt.timedelta(hours=6)):%H:%M}"
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
quiet_hours = {{ start = "{quiet:%H:%M}", end = "{quiet + dt.timedelta(minutes=1):%H:%M}" }}

[[teams]]
name = "{team}"
manager = "{manager}"
members = [{listed}]
"""


def kill_dispatch_once(sandbox: Sandbox, database_url: str, cwd: Path, posted: Callable[[], bool],
                       timeout: float) -> None:
    """Run `checkin-bot dispatch` against the sandbox and SIGKILL it as soon as `posted()` says
    Slack has carried out the posts in question (their answers still held back by the sandbox)."""
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": sandbox.api_url,
           "DATABASE_URL": database_url, "CHECKINS_CONFIG": str(cwd / "checkins.toml"), "LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    process = subprocess.Popen([*checkin_bot(), "dispatch"], cwd=cwd, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        sandbox.wait_for(lambda: posted() or process.poll() is not None, timeout=timeout)
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
        if process.stderr:
            process.stderr.close()
    assert process.returncode == -signal.SIGKILL
