"""Two dispatch passes at the same moment on the same database send every check-in exactly once.

First as the contract puts it: two `checkin-bot dispatch` processes started together. They run at
the real current time (there is no faketime here), so the database is seeded with check-ins that
fell due a minute ago and "now" does not matter. Then in-process: two bot instances (two engines,
two Web API clients) running a pass at the same simulated moment from two threads.

The sandbox adds latency to every call so that the two passes overlap. On PostgreSQL too, when
TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from handlers.delivery import BATCH
from sandbox import Sandbox
from scheduling.report import PassReport
from storage import outbox
from storage.models import CheckIn, OutboxMessage, User
from storage.people import sync_config_teams
from storage.schedules import insert_checkins_once
from wiring.harness import BotHarness

# A big team: more check-ins than two claimed batches (scheduling.dispatch.BATCH), so that the
# second pass finds work left while the first is still posting, and the passes really interleave.
REPS = [f"U0REP{i:03d}" for i in range(600)]
LATENCY = 0.02


def team_config(quiet_start: dt.time, reps: list[str] = REPS) -> str:
    """Every day a working day and one quiet minute, put far from the moment the test runs."""
    end = (dt.datetime.combine(dt.date(2026, 1, 1), quiet_start) + dt.timedelta(minutes=1)).time()
    members = ", ".join(f'"{r}"' for r in reps)
    return f"""
[cadence]
every = "day"
reminder_after_hours = 20
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
quiet_hours = {{ start = "{quiet_start:%H:%M}", end = "{end:%H:%M}" }}

[[teams]]
name = "Big"
manager = "U0MANAGER"
members = [{members}]
"""


def prompt_posts(sandbox: Sandbox, event_type: str = "checkin_prompt") -> Counter[int]:
    """checkin_id -> how many chat.postMessage calls of this kind Slack accepted for it."""
    return Counter(c.args["metadata"]["event_payload"]["checkin_id"] for c in sandbox.calls_to("chat.postMessage")
                   if c.ok and (c.args.get("metadata") or {}).get("event_type") == event_type)


def add_people(sandbox: Sandbox) -> None:
    sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    for rep in REPS:
        sandbox.add_user(rep, name=rep.lower(), tz="UTC")


def seed_due(sessions: sessionmaker[Session], team_id: str, config: AdminConfig, now: dt.datetime) -> list[int]:
    """The bot has run before: people known, zones fresh, one check-in each that fell due a minute ago."""
    with sessions.begin() as session:
        sync_config_teams(session, team_id, config, now)
        session.execute(update(User).values(tz="UTC", tz_refreshed_at=now))
        # As the planner writes them: each check-in with its outbox row.
        ids = insert_checkins_once(session, [
            {"team_id": team_id, "rep_id": rep, "kind": "scheduled", "due_at": now - dt.timedelta(minutes=1),
             "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1)}
            for rep in REPS])
    return sorted(ids)


def checkin_bot() -> list[str]:
    script = Path(sys.executable).with_name("checkin-bot")
    return [str(script)] if script.exists() else [sys.executable, str(Path(__file__).parents[2] / "bot.py")]


def test_two_dispatch_processes_at_once_send_each_checkin_exactly_once(
    sandbox: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    text = team_config((now + dt.timedelta(hours=12)).time().replace(second=0, microsecond=0))
    (tmp_path / "checkins.toml").write_text(text)
    add_people(sandbox)
    ids = seed_due(sessions, sandbox.team_id, parse_config(text, "test"), now)
    sandbox.faults.latency(LATENCY)
    env = {**os.environ, "SLACK_BOT_TOKEN": "xoxb-test-token", "SLACK_API_URL": sandbox.api_url,
           "DATABASE_URL": database_url, "CHECKINS_CONFIG": str(tmp_path / "checkins.toml"), "LOG_LEVEL": "WARNING"}
    env.pop("SLACK_APP_TOKEN", None)
    # cwd: a folder without a .env, so nothing but this environment configures the processes.
    processes = [subprocess.Popen([*checkin_bot(), "dispatch"], cwd=tmp_path, env=env, text=True,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(2)]
    outputs = [p.communicate(timeout=60) for p in processes]
    for process, (out, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, f"exit {process.returncode}\n{out}\n{err}"
    summaries = " | ".join(out.strip() for out, _ in outputs)
    print(summaries)  # how the work was split, for -s

    posts = prompt_posts(sandbox)
    assert posts == Counter({checkin_id: 1 for checkin_id in ids}), summaries
    bot_prompts = [m for m in sandbox.messages() if m.event_type == "checkin_prompt"]
    assert len(bot_prompts) == len(REPS)
    with sessions.begin() as session:
        rows = session.scalars(select(CheckIn).where(CheckIn.id.in_(ids))).all()
        assert {r.state for r in rows} == {"sent"}
        assert {r.message_ts for r in rows} == {m.ts for m in bot_prompts}
    sandbox.assert_no_violations()


def test_a_claim_takes_at_most_one_batch_and_a_second_claim_takes_the_rest(
    sandbox: Sandbox, sessions: sessionmaker[Session]
) -> None:
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    ids = seed_due(sessions, sandbox.team_id, parse_config(team_config(dt.time(23, 0)), "big"), now)
    with sessions.begin() as session:
        first = [c.id for c in outbox.claim_due(session, now, "pass-a", BATCH, team_id=sandbox.team_id)]
    with sessions.begin() as session:
        second = [c.id for c in outbox.claim_due(session, now, "pass-b", BATCH, team_id=sandbox.team_id)]
    assert len(first) == BATCH and len(second) == BATCH and not set(first) & set(second)
    with sessions.begin() as session:
        claimed = Counter(session.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.state == "claimed")))
    assert claimed == Counter({"pass-a": BATCH, "pass-b": BATCH})
    assert len(ids) - 2 * BATCH > 0


# In one process the sandbox shares the GIL with both bots: half the team is enough to overlap.
THREADED = REPS[:300]


@pytest.fixture
def admin_config() -> AdminConfig:
    return parse_config(team_config(dt.time(23, 0), THREADED), "big team")


def test_two_passes_from_two_threads_at_the_same_moment_send_each_checkin_and_reminder_exactly_once(
    sandbox: Sandbox, database_url: str, bot: BotHarness, clock: ManualClock, admin_config: AdminConfig
) -> None:
    add_people(sandbox)
    bot.dispatch()  # plans everyone's first check-in: the next 10:00 UTC, all at the same moment
    with bot.services.sessions.begin() as session:
        dues = set(session.scalars(select(CheckIn.due_at).where(CheckIn.state == "scheduled")))
    assert len(dues) == 1
    due = dues.pop()
    sandbox.faults.latency(LATENCY)
    with BotHarness(sandbox, database_url, admin_config, clock=clock, http=False) as other:
        start = threading.Barrier(2)

        def run(harness: BotHarness) -> PassReport:
            start.wait(timeout=10)
            return harness.dispatch()

        def both_at(moment: dt.datetime) -> list[PassReport]:
            clock.set(moment)
            with ThreadPoolExecutor(max_workers=2) as pool:
                futures = [pool.submit(run, harness) for harness in (bot, other)]
                reports = [f.result(timeout=60) for f in futures]  # re-raises a pass's error here
            print(" | ".join(r.summary() for r in reports))  # how the work was split, for -s
            return reports

        sends = both_at(due)
        reminders = both_at(due + dt.timedelta(hours=20))  # reminder_after_hours
    assert sum(r.get("sent") for r in sends) == len(THREADED)
    assert sum(r.get("reminders") for r in reminders) == len(THREADED)
    posts = prompt_posts(sandbox)
    assert len(posts) == len(THREADED) and set(posts.values()) == {1}
    assert prompt_posts(sandbox, "checkin_reminder") == posts, "one reminder per check-in"
    with bot.services.sessions.begin() as session:
        states = Counter(session.scalars(select(CheckIn.state).where(CheckIn.id.in_(posts))))
    assert states == Counter({"sent": len(THREADED)})
    sandbox.assert_no_violations()


def test_two_processes_starting_together_on_a_fresh_database_both_succeed(database_url: str, tmp_path: Path) -> None:
    """The first start migrates and syncs teams; a second process starting at the same moment waits
    for it (an advisory lock on PostgreSQL, BEGIN IMMEDIATE on SQLite) instead of failing."""
    config_path = tmp_path / "checkins.toml"
    config_path.write_text(team_config(dt.time(3, 0), REPS[:20]))
    with Sandbox.start() as sandbox:
        add_people(sandbox)
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHECKINS_"))},
               "SLACK_BOT_TOKEN": "xoxb-fresh", "SLACK_API_URL": sandbox.api_url, "DATABASE_URL": database_url,
               "CHECKINS_CONFIG": str(config_path)}
        command = [str(Path(sys.executable).parent / "checkin-bot"), "dispatch"]
        processes = [subprocess.Popen(command, env=env, cwd=tmp_path, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE, text=True) for _ in range(2)]
        results = [p.communicate(timeout=120) for p in processes]
    for process, (_out, err) in zip(processes, results, strict=True):
        assert process.returncode == 0, err
