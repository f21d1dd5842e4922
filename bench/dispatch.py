"""Benchmark one dispatch pass: N reps in 20 time zones, all due in the same minute.

Run: .venv/bin/python bench/dispatch.py [--reps 10000] [--latency 0.02] [--concurrency N] [--db URL]
     [--tls] [--baseline thread-per-post|none]

Every check-in goes through the sandbox's Web API (a real HTTP server; HTTPS with a throw-away
certificate with --tls), which adds `--latency` seconds to each call, as a network round trip to
Slack would. The pass can at best keep `concurrency` posts in flight all the time, so the ideal
wall time is N x latency / concurrency; the bench prints the measured wall time as a ratio to that
(target <= 1.2) and the peak RSS of this process (target < 300 MB). The database (a temporary
SQLite file unless --db is given) is seeded with bulk inserts: users whose zone is already known
(so no users.info calls), two goals each, and one check-in each, due a minute ago. It checks that
every check-in was sent exactly once.

The pass runs twice, each time on a fresh sandbox and database: with the outbox worker's
transport (handlers.transport.KeepAlive: one kept-alive aiohttp session), then, as the baseline
measured in the same run, with the transport it replaced (slack_sdk's sync WebClient, a new
connection per call, on `concurrency` threads). The CPU this process used per check-in is
compared (target: the keep-alive transport at most half the baseline's). The sandbox runs in a
child process, as Slack would be remote: in this process its request handling would compete with
the dispatcher for the GIL and measure the emulator, not the bot. Figures move with the
machine's load; the CPU time per check-in is the steadier one.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import resource
import ssl
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slack_sdk import WebClient  # noqa: E402
from sqlalchemy import func, insert, select, text  # noqa: E402

from core.config import parse_config  # noqa: E402
from core.services import Services, make_web_client  # noqa: E402
from core.settings import Settings  # noqa: E402
from handlers import delivery, passes  # noqa: E402
from handlers.sender import SendResult, post  # noqa: E402
from handlers.transport import Admission, KeepAlive, TransportFactory  # noqa: E402
from sandbox import Sandbox, without_collector  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import Base, CheckIn, Goal, OutboxMessage, User, Workspace  # noqa: E402
from wiring.boot import settle_heap  # noqa: E402

RATIO_TARGET = 1.2
CPU_SHARE_TARGET = 0.5  # the keep-alive transport's CPU per check-in, against the old one's
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


def serve_sandbox(reps: int, latency: float, tls: bool, conn: Connection) -> None:
    sandbox = Sandbox.start(tls=tls)
    for i in range(reps):
        sandbox.add_user(rep_id(i), name=f"rep{i}", tz=ZONES[i % len(ZONES)])
    sandbox.faults.latency(latency)
    without_collector()
    cert = str(sandbox.certificate.cert_file) if sandbox.certificate else None
    conn.send((sandbox.api_url, sandbox.team_id, cert))
    conn.recv()  # "report"
    posts = sandbox.calls_to("chat.postMessage")
    prompts = Counter(str((m.metadata or {}).get("event_payload", {}).get("checkin_id"))
                      for m in sandbox.messages() if (m.metadata or {}).get("event_type") == "checkin_prompt")
    other = Counter(c.method for c in sandbox.calls if c.method != "chat.postMessage")
    conn.send({"posts": len(posts), "failed_posts": sum(not c.ok for c in posts), "prompts": dict(prompts),
               "other_calls": dict(other), "violations": len(sandbox.violations),
               "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "cpu": time.process_time()})
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


class ThreadPerPost:
    """The transport before keep-alive, kept here as the baseline: slack_sdk's sync WebClient (a new
    connection, and over TLS a new handshake, per call) on `concurrency` threads."""

    def __init__(self, client: WebClient, concurrency: int, stopping: threading.Event | None = None,
                 pacing: Admission | None = None) -> None:
        self.client = client
        self.pacing = pacing
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbox")

    def _post(self, message: dict[str, Any]) -> SendResult:
        # The same admission as the kept-alive transport, so the two differ by transport only.
        if self.pacing is not None and not self.pacing.admit(message):
            return SendResult("transient", error="ratelimited")
        return post(self.client, **message)

    def submit(self, messages: list[dict[str, Any]]) -> Future[list[SendResult]]:
        return self.pool.submit(lambda: [self._post(message) for message in messages])

    def close(self) -> None:
        self.pool.shutdown(wait=True)


TRANSPORTS: dict[str, TransportFactory] = {"keepalive": KeepAlive, "thread-per-post": ThreadPerPost}


def one_pass(args: argparse.Namespace, transport: str) -> dict[str, Any]:
    """A fresh sandbox (child process) and database, N check-ins due, one pass with `transport`."""
    ctx = multiprocessing.get_context("spawn")  # a clean child: no inherited engine or threads
    here, there = ctx.Pipe()
    child = ctx.Process(target=serve_sandbox, args=(args.reps, args.latency, args.tls, there), daemon=True)
    child.start()
    api_url, team_id, cert_file = here.recv()
    tls = ssl.create_default_context(cafile=cert_file) if cert_file else None
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
        client = make_web_client("xoxb-bench", api_url)
        client.ssl = tls
        services = Services(settings=Settings(bot_token="xoxb-bench", api_url=api_url, database_url=url),
                            config=config, engine=engine, sessions=make_session_factory(engine),
                            client=client, team_id=team_id)
        settle_heap()  # as `checkin-bot dispatch` does once it has booted
        started, cpu_started = time.perf_counter(), time.process_time()
        report = passes.run_pass(services, now=now, concurrency=args.concurrency, transport=TRANSPORTS[transport])
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        with services.sessions.begin() as session:
            states = dict(session.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state)).all())
        engine.dispose()
        if args.db:
            drop_all(args.db)
    here.send("report")
    seen: dict[str, Any] = here.recv()
    here.send("stop")
    child.join(timeout=10)
    counts: dict[str, int] = seen["prompts"]
    once = len(counts) == args.reps and set(counts.values()) == {1}
    return {"transport": transport, "report": report, "wall": wall, "cpu": cpu, "rss": rss, "states": states,
            "seen": seen, "once": once and states.get("sent") == args.reps}


def drop_all(url: str) -> None:
    """Empty a --db database so that the next pass seeds it afresh."""
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every Web API call")
    parser.add_argument("--concurrency", type=int, default=delivery.CONCURRENCY)
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--tls", action="store_true", help="the sandbox serves HTTPS (a throw-away certificate)")
    parser.add_argument("--baseline", choices=["thread-per-post", "none"], default="thread-per-post",
                        help="also run the pass with the old transport, as the baseline (default)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    runs = [one_pass(args, "keepalive")]
    if args.baseline != "none":
        runs.append(one_pass(args, args.baseline))
    ideal = args.reps * args.latency / args.concurrency
    print(f"dispatch pass: {args.reps} reps in {len(ZONES)} zones, {args.latency * 1000:.0f} ms per call, "
          f"concurrency {args.concurrency}, batch {delivery.BATCH}, over {'HTTPS' if args.tls else 'plain HTTP'}; "
          f"database {'--db' if args.db else 'SQLite (temporary file)'}; CPUs on this machine {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f}")
    for run in runs:
        seen = run["seen"]
        ratio = run["wall"] / ideal
        print(f"== transport {run['transport']}")
        print(f"  {run['report'].summary()}")
        print(f"  rows: {run['states']}; chat.postMessage calls {seen['posts']} ({seen['failed_posts']} failed); "
              f"other calls {seen['other_calls'] or 'none'}; sandbox violations {seen['violations']}")
        print(f"  every check-in sent exactly once: {'yes' if run['once'] else 'NO'}")
        print(f"  wall {run['wall']:.2f} s; ideal {ideal:.2f} s (N x latency / concurrency); ratio {ratio:.2f} "
              f"(target <= {RATIO_TARGET}) {'OK' if ratio <= RATIO_TARGET else 'ABOVE TARGET'}")
        print(f"  CPU used by this process during the pass: {run['cpu']:.2f} s "
              f"({1000 * run['cpu'] / args.reps:.2f} ms per check-in, all threads)")
        print(f"  peak RSS {run['rss']:.0f} MB (target < {RSS_TARGET_MB} MB) "
              f"{'OK' if run['rss'] < RSS_TARGET_MB else 'ABOVE TARGET'}; sandbox process {seen['rss_mb']:.0f} MB, "
              f"{seen['cpu']:.2f} s of CPU in all (start-up and seeding included)")
    if len(runs) == 2:
        share = runs[0]["cpu"] / runs[1]["cpu"]
        print(f"== CPU per check-in, keepalive / {runs[1]['transport']} (measured in this run): {share:.2f} "
              f"(target <= {CPU_SHARE_TARGET}) {'OK' if share <= CPU_SHARE_TARGET else 'ABOVE TARGET'}; "
              f"wall {runs[0]['wall'] / runs[1]['wall']:.2f} x the baseline's")
    return 0 if all(run["once"] for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
