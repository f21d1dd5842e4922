"""Ack latency of the slow commands with a slow Slack, against a bare Bolt app in the same run.

Run: .venv/bin/python bench/acks.py [--rounds 5] [--latency 2.0] [--reps 200]

The real app, server and sandbox, with production ack timing (process_before_response=False)
and `--latency` seconds on every Web API call. A manager with `--reps` reps, each with eight
weeks of answered check-ins, runs `/checkin health`, clicks "Open the full report" and runs
`/checkin ask`. Each HTTP ack is timed (median of the rounds) and divided by the ack of a bare
Bolt app answering `/hello` behind the same server: the baseline. Slack's own limit is 3 s; the
target here is a ratio <= 3 (the ack does a permission check or a few writes, never the work).
Also printed: how long after the request the work itself (report, modal, sent note) was done.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slack_bolt import Ack, App  # noqa: E402

from core.clock import ManualClock  # noqa: E402
from core.config import parse_config  # noqa: E402
from core.services import make_web_client  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from storage.models import Answer, CheckIn  # noqa: E402
from wiring.harness import SIGNING_SECRET, BotHarness  # noqa: E402
from wiring.server import make_server, stop_server  # noqa: E402

RATIO_TARGET = 3.0
SLACK_DEADLINE = 3.0
MANAGER = "U0MANAGER"
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def wait_for(done: Callable[[], bool], timeout: float = 60.0) -> float:
    """Seconds until `done()` (polled); raises if it never is."""
    start = time.perf_counter()
    while not done():
        if time.perf_counter() - start > timeout:
            raise RuntimeError("the work after the ack never finished")
        time.sleep(0.005)
    return time.perf_counter() - start


def seed(bot: BotHarness, reps: list[str], weeks: int = 8) -> None:
    now, team = bot.services.now(), bot.services.team_id
    with bot.services.sessions.begin() as session:
        for rep in reps:
            for week in range(1, weeks + 1):
                sent = now - dt.timedelta(days=7 * week)
                checkin = CheckIn(team_id=team, rep_id=rep, kind="scheduled", due_at=sent, state="answered",
                                  attempts=1, snooze_count=0, sent_at=sent, closed_at=sent, created_at=sent)
                session.add(checkin)
                session.flush()
                session.add(Answer(team_id=team, checkin_id=checkin.id, rep_id=rep, text="Going fine",
                                   source="dm", created_at=sent, updated_at=sent))


def bare_hello(sandbox: Sandbox, bot: BotHarness) -> tuple[Any, Any]:
    app = App(client=make_web_client("xoxb-bare", sandbox.api_url), signing_secret=SIGNING_SECRET,
              token_verification_enabled=False)

    @app.command("/hello")
    def hello(ack: Ack) -> None:
        ack("hello")

    server = make_server(app, bot.services.engine, port=0, host="127.0.0.1", threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    return server, sandbox.client(f"http://127.0.0.1:{server.effective_port}/slack/events", SIGNING_SECRET)


def timed(send: Callable[[], Any]) -> float:
    start = time.perf_counter()
    response = send()
    took = time.perf_counter() - start
    assert response.status == 200, response.status
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--latency", type=float, default=2.0, help="seconds added to every Web API call")
    parser.add_argument("--reps", type=int, default=200)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    reps = [f"U0REP{n:03d}" for n in range(args.reps)]
    acks: dict[str, list[float]] = {"health": [], "full report": [], "ask": [], "bare /hello": []}
    work: dict[str, list[float]] = {"health": [], "full report": [], "ask": []}
    with tempfile.TemporaryDirectory() as folder, Sandbox.start() as sandbox:
        sandbox.add_user(MANAGER, name="maya", tz="America/New_York")
        for n, rep in enumerate(reps):
            sandbox.add_user(rep, name=f"rep{n:03d}", tz="Europe/Berlin")
        members = ", ".join(f'"{rep}"' for rep in reps)
        config = parse_config(f'[[teams]]\nname = "Big"\nmanager = "{MANAGER}"\nmembers = [{members}]\n')
        with BotHarness(sandbox, f"sqlite:///{Path(folder) / 'acks.db'}", config, clock=ManualClock(NOW),
                        process_before_response=False) as bot:
            seed(bot, reps)
            bot.slack.open_home(MANAGER)
            wait_for(lambda: "guard_show_health" in str((sandbox.home_of(MANAGER) or {}).get("blocks")))
            server, bare = bare_hello(sandbox, bot)
            sandbox.faults.latency(args.latency)
            try:
                for n in range(args.rounds):
                    reports = len([e for e in sandbox.ephemerals_to(MANAGER) if "Page 1 of" in str(e.blocks)])
                    start = time.perf_counter()
                    acks["health"].append(timed(lambda: bot.slack.slash("health", user=MANAGER)))
                    wait_for(lambda r=reports: len([e for e in sandbox.ephemerals_to(MANAGER)
                                                    if "Page 1 of" in str(e.blocks)]) > r)
                    work["health"].append(time.perf_counter() - start)

                    updates = len(sandbox.calls_to("views.update"))
                    start = time.perf_counter()
                    acks["full report"].append(timed(lambda: bot.slack.click(
                        "guard_show_health", user=MANAGER, view=sandbox.home_of(MANAGER))))
                    wait_for(lambda u=updates: len(sandbox.calls_to("views.update")) > u)
                    work["full report"].append(time.perf_counter() - start)

                    notes = len([e for e in sandbox.ephemerals_to(MANAGER) if "Sent to" in e.text])
                    start = time.perf_counter()
                    acks["ask"].append(timed(lambda n=n: bot.slack.slash(
                        f"ask <@{reps[n]}> What would help you most this week?", user=MANAGER, escape=False)))
                    wait_for(lambda k=notes: len([e for e in sandbox.ephemerals_to(MANAGER)
                                                  if "Sent to" in e.text]) > k)
                    work["ask"].append(time.perf_counter() - start)

                    time.sleep(0.05)  # nothing of ours still running while the baseline is timed
                    acks["bare /hello"].append(timed(lambda: bare.slash("", user=MANAGER, command="/hello")))
            finally:
                stop_server(server)
            problems = sandbox.violations
    baseline = statistics.median(acks["bare /hello"])
    print(f"{args.reps} reps x 8 weeks of answers, {args.latency:.1f} s per Web API call, {args.rounds} rounds; "
          f"baseline: bare Bolt /hello acked in {baseline * 1000:.1f} ms (median)")
    ok = not problems
    for name in ("health", "full report", "ask"):
        ack = statistics.median(acks[name])
        ratio = ack / baseline
        within = max(acks[name]) < SLACK_DEADLINE and ratio <= RATIO_TARGET
        ok = ok and within
        print(f"  {name:12s} ack {ack * 1000:7.1f} ms (worst {max(acks[name]) * 1000:.0f} ms): ratio {ratio:.2f} "
              f"(target <= {RATIO_TARGET}) {'OK' if within else 'ABOVE TARGET'}; "
              f"work done after {statistics.median(work[name]):.2f} s")
    if problems:
        print("sandbox violations:", *problems, sep="\n  ")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
