"""Benchmark one dispatch pass: N reps in 20 time zones, all due in the same minute.

Run: .venv/bin/python bench/dispatch.py [--reps 10000] [--latency 0.02] [--concurrency N] [--db URL]

Every check-in goes through the sandbox's Web API (a real HTTP server), which adds `--latency`
seconds to each call, as a network round trip to Slack would. The pass can at best keep
`concurrency` posts in flight all the time, so the ideal wall time is N x latency / concurrency;
the bench prints the measured wall time as a ratio to that (target <= 1.5) and the peak RSS of
this process (target < 300 MB). The database (a temporary SQLite file unless --db is given) is
seeded with bulk inserts: users whose zone is already known (so no users.info calls), two goals
each, and one check-in each, due a minute ago. It checks that every check-in was sent exactly once.

The sandbox runs in a child process, as Slack would be remote: in this process its request
handling would compete with the dispatcher for the GIL and measure the emulator, not the bot.
As a baseline measured in the same run (after the pass, so that its payloads don't count in the
RSS), the same number of ready-made messages is posted by bare threads through the same sandbox:
the share of the ratio that comes from the sandbox, HTTP and slack_sdk rather than the dispatcher.
Figures move with the machine's load; the CPU time per check-in is the steadier one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import func, insert, select  # noqa: E402

from coaching.prompts import PROMPTS  # noqa: E402
from core.config import parse_config  # noqa: E402
from core.services import Services, make_web_client  # noqa: E402
from core.settings import Settings  # noqa: E402
from handlers import delivery, passes  # noqa: E402
from handlers.render.checkin import checkin_prompt  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import CheckIn, Goal, OutboxMessage, User, Workspace  # noqa: E402

RATIO_TARGET = 1.5
RSS_TARGET_MB = 300
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin",
    "Europe/Athens", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
]
CHUNK = 5_000


def rep_id(i: int) -> str:
    return f"U0B{i:07d}"


# ---- the sandbox, in a child process ------------------------------------------------------------


def serve_sandbox(reps: int, latency: float, conn: Connection) -> None:
    sandbox = Sandbox.start()
    for i in range(reps):
        sandbox.add_user(rep_id(i), name=f"rep{i}", tz=ZONES[i % len(ZONES)])
    sandbox.faults.latency(latency)
    conn.send((sandbox.api_url, sandbox.team_id))
    conn.recv()  # "report"
    posts = [c for c in sandbox.calls_to("chat.postMessage")
             if (c.args.get("metadata") or {}).get("event_type") != "bench_baseline"]
    prompts = Counter(str((m.metadata or {}).get("event_payload", {}).get("checkin_id"))
                      for m in sandbox.messages() if (m.metadata or {}).get("event_type") == "checkin_prompt")
    other = Counter(c.method for c in sandbox.calls if c.method != "chat.postMessage")
    conn.send({"posts": len(posts), "failed_posts": sum(not c.ok for c in posts), "prompts": dict(prompts),
               "other_calls": dict(other), "violations": len(sandbox.violations),
               "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})
    conn.recv()
    sandbox.close()


# ---- the database -------------------------------------------------------------------------------


def seed(url: str, team_id: str, reps: int, now: dt.datetime) -> None:
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(insert(Workspace), [{"team_id": team_id, "name": "bench", "created_at": now}])
        for start in range(0, reps, CHUNK):
            span = range(start, min(start + CHUNK, reps))
            connection.execute(insert(User), [{
                "team_id": team_id, "slack_id": rep_id(i), "display_name": f"rep{i}", "tz": ZONES[i % len(ZONES)],
                "tz_refreshed_at": now, "role": "rep", "prompt_sequence": 0,
                "created_at": now - dt.timedelta(days=30)} for i in span])
            connection.execute(insert(Goal), [{
                "team_id": team_id, "rep_id": rep_id(i), "text": f"Goal {g} of rep {i}: grow the pipeline",
                "position": g, "created_at": now - dt.timedelta(days=30)} for i in span for g in (1, 2)])
            due = now - dt.timedelta(minutes=1)
            ids = connection.execute(insert(CheckIn).returning(CheckIn.id, CheckIn.rep_id), [{
                "team_id": team_id, "rep_id": rep_id(i), "kind": "scheduled", "due_at": due,
                "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1)}
                for i in span]).all()
            # Each with its outbox row, as planning writes them.
            connection.execute(insert(OutboxMessage), [{
                "team_id": team_id, "kind": "checkin_prompt", "recipient": rep, "checkin_id": checkin_id,
                "dedupe_key": f"checkin:{checkin_id}:0", "payload": "{}", "not_before": due, "state": "pending",
                "attempts": 0, "deferrals": 0, "created_at": now - dt.timedelta(days=1)} for checkin_id, rep in ids])
    engine.dispose()


def bare_posting(api_url: str, reps: int, concurrency: int) -> tuple[float, float]:
    """Wall and CPU seconds to post `reps` pre-rendered check-in messages with `concurrency` threads:
    what the sandbox, the HTTP stack and slack_sdk allow on this machine, without any dispatch work."""
    goals = [(1, "Goal 1: grow the pipeline"), (2, "Goal 2: grow the pipeline")]
    payloads = []
    for i in range(reps):
        message = checkin_prompt(i, rep_id(i), goals[0], PROMPTS[0], goals)
        message["blocks"] = [block.to_dict() for block in message["blocks"]]
        message["metadata"] = {"event_type": "bench_baseline", "event_payload": {"n": i}}
        payloads.append(message)
    client = make_web_client("xoxb-bench", api_url)
    started, cpu_started = time.perf_counter(), time.process_time()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(lambda message: client.chat_postMessage(**message), payloads))
    return time.perf_counter() - started, time.process_time() - cpu_started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every Web API call")
    parser.add_argument("--concurrency", type=int, default=delivery.CONCURRENCY)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    ctx = multiprocessing.get_context("spawn")  # a clean child: no inherited engine or threads
    here, there = ctx.Pipe()
    child = ctx.Process(target=serve_sandbox, args=(args.reps, args.latency, there), daemon=True)
    child.start()
    api_url, team_id = here.recv()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        # The pass runs at night for some of the 20 zones: keep them all inside their allowed hours
        # with every day a working day and one quiet minute, 23:59 local, which no zone is at when
        # the UTC minute is :30 (the zones' offsets are whole or half hours).
        config = parse_config('[cadence]\nevery = "day"\nquiet_hours = { start = "23:59", end = "00:00" }\n'
                              'working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n', "bench")
        now = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0)
        seed(url, team_id, args.reps, now)
        engine = make_engine(url)
        services = Services(settings=Settings(bot_token="xoxb-bench", api_url=api_url, database_url=url),
                            config=config, engine=engine, sessions=make_session_factory(engine),
                            client=make_web_client("xoxb-bench", api_url), team_id=team_id)
        started, cpu_started = time.perf_counter(), time.process_time()
        report = passes.run_pass(services, now=now, concurrency=args.concurrency)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the baseline's payloads
        with services.sessions.begin() as session:
            states = dict(session.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state)).all())
        engine.dispose()
    baseline, baseline_cpu = bare_posting(api_url, args.reps, args.concurrency)

    here.send("report")
    seen: dict[str, Any] = here.recv()
    here.send("stop")
    child.join(timeout=10)

    ideal = args.reps * args.latency / args.concurrency
    ratio = wall / ideal
    counts: dict[str, int] = seen["prompts"]
    once = len(counts) == args.reps and set(counts.values()) == {1}
    print(f"dispatch pass: {args.reps} reps in {len(ZONES)} zones, {args.latency * 1000:.0f} ms per call, "
          f"concurrency {args.concurrency}, batch {delivery.BATCH}")
    print(f"  {report.summary()}")
    print(f"  rows: {states}; chat.postMessage calls {seen['posts']} ({seen['failed_posts']} failed); "
          f"other calls {seen['other_calls'] or 'none'}; sandbox violations {seen['violations']}")
    print(f"  every check-in sent exactly once: {'yes' if once else 'NO'}")
    print(f"  wall {wall:.2f} s; ideal {ideal:.2f} s (N x latency / concurrency); ratio {ratio:.2f} "
          f"(target <= {RATIO_TARGET}) {'OK' if ratio <= RATIO_TARGET else 'ABOVE TARGET'}")
    print(f"  baseline, measured in the same run: the same number of ready-made messages posted through the "
          f"same sandbox by {args.concurrency} bare threads (no database, no rendering): {baseline:.2f} s, "
          f"ratio {baseline / ideal:.2f} to the ideal; the pass took {wall / baseline:.2f} x the baseline")
    print(f"  CPU used by this process during the pass: {cpu:.2f} s ({1000 * cpu / args.reps:.2f} ms per check-in, "
          f"all threads; the baseline's bare posts {1000 * baseline_cpu / args.reps:.2f} ms each); "
          f"CPUs on this machine: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    print(f"  peak RSS {rss:.0f} MB (target < {RSS_TARGET_MB} MB) {'OK' if rss < RSS_TARGET_MB else 'ABOVE TARGET'}; "
          f"sandbox process {seen['rss_mb']:.0f} MB")
    return 0 if once and states.get("sent") == args.reps else 1


if __name__ == "__main__":
    sys.exit(main())
