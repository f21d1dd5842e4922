"""What the crash tests share: the bot as a separate process, and a config whose hours never hold
anything back while they run on the real clock."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path


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
