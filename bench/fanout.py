"""Benchmark fan-out under Slack's rate limits: N new reps, zones unknown, all due at once.

Run: .venv/bin/python bench/fanout.py [--reps 2000] [--cap 10] [--latency 0.02] [--db URL]
     .venv/bin/python bench/fanout.py --workspaces 20 --reps 100 [--workspace-workers W] ...

The sandbox (in a child process, as Slack would be remote) emulates Slack's limits: each method's
tier per workspace, chat.postMessage per channel, and a workspace cap of `--cap` posts a second.
The bot's config says the same cap (`[slack] post_rate_per_second`). The database is seeded with
N reps whose zones and names nobody has read yet, each with a check-in due a minute ago, and one
dispatch pass runs. A watcher thread reads the database ten times a second for the zones; delivery
is timed by the sandbox's own timestamp of the last check-in it posted.

Printed, each against its target:
- onboarding: from the pass's start until every rep's zone is known (target <= 60 s);
- delivery: until every check-in is sent, as a ratio to the ideal N / cap (target <= 1.2);
- 429s: the share of all Web API calls the sandbox answered 429 (target <= 1%);
- duplicates: check-ins posted more than once (target 0).
As a baseline measured in the same run, bare threads then post as fast as the emulated cap lets
them for a few seconds (retrying each 429 after its Retry-After): the rate the sandbox really
allows on this machine, which the ideal assumes is `--cap`.

With `--workspaces W` (issue 11) the bot runs in OAuth mode against a sandbox of W workspaces with
strict tokens (a token used outside its workspace is refused), each installed through the real
/slack/install and /slack/oauth_redirect flow, each with `--reps` reps of its own and its own
limits (`--cap` posts a second per workspace, as Slack's are per workspace). One pass serves them
all, `--workspace-workers` at a time (default: the bot's own, handlers.passes.WORKSPACE_WORKERS). The ideal is then the
per-workspace N / cap: the workspaces' limits are independent, so all W could send side by side.
Also printed: the installs' time, and the calls refused for using a token outside its workspace
(target 0). The baseline's bare threads post to every workspace at once, each with its own token.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slack_sdk import WebClient  # noqa: E402
from slack_sdk.errors import SlackApiError  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from core.config import AdminConfig, parse_config  # noqa: E402
from core.services import Services, make_web_client  # noqa: E402
from core.settings import Settings  # noqa: E402
from handlers import delivery, passes  # noqa: E402
from sandbox import RateLimits, Sandbox, without_collector  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import CheckIn, Goal, OutboxMessage, User, Workspace  # noqa: E402
from wiring.app import build_app  # noqa: E402
from wiring.boot import (
    build_services,  # noqa: E402
    settle_heap,  # noqa: E402
)
from wiring.harness import SIGNING_SECRET, install_through  # noqa: E402
from wiring.server import make_server, stop_server  # noqa: E402

ONBOARDING_TARGET = 60.0
DELIVERY_TARGET = 1.2
LIMITED_TARGET = 0.01
ZONES = [
    "Pacific/Honolulu", "America/Anchorage", "America/Los_Angeles", "America/Denver", "America/Chicago",
    "America/New_York", "America/Sao_Paulo", "Atlantic/Azores", "Europe/London", "Europe/Berlin",
    "Europe/Athens", "Africa/Nairobi", "Asia/Dubai", "Asia/Karachi", "Asia/Kolkata", "Asia/Bangkok",
    "Asia/Shanghai", "Asia/Tokyo", "Australia/Sydney", "Pacific/Auckland",
]
PROBE_SECONDS = 5.0


def rep_id(i: int) -> str:
    return f"U0F{i:07d}"


# ---- the sandbox, in a child process ------------------------------------------------------------


def serve_sandbox(reps: int, cap: float, latency: float, conn: Connection) -> None:
    sandbox = Sandbox.start(rate_limits=RateLimits(workspace_post_cap=cap))
    for i in range(reps):
        sandbox.add_user(rep_id(i), name=f"rep{i}", tz=ZONES[i % len(ZONES)])
    sandbox.faults.latency(latency)
    without_collector()
    conn.send((sandbox.api_url, sandbox.team_id, sandbox.bot_token))
    while (ask := conn.recv()) != "stop":
        limiter = sandbox.limiter
        assert limiter is not None
        calls, limited = dict(limiter.calls), dict(limiter.limited)
        if ask == "reset":
            limiter.reset()
            conn.send(None)
            continue
        posted = [m for m in sandbox.messages() if (m.metadata or {}).get("event_type") == "checkin_prompt"]
        prompts = Counter(str((m.metadata or {}).get("event_payload", {}).get("checkin_id")) for m in posted)
        conn.send({"calls": calls, "limited": limited, "prompts": dict(prompts),
                   "violations": len(sandbox.violations), "landed": max((float(m.ts) for m in posted), default=None)})
    sandbox.close()


def start_child(target: Callable[..., None], *args: Any) -> tuple[BaseProcess, Connection]:
    """The sandbox in a clean child process (spawn: no inherited engine or threads), and our end of
    its pipe; `target` gets the other end as its last argument."""
    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=target, args=(*args, there), daemon=True)
    child.start()
    return child, here


def bench_config(cap: float) -> AdminConfig:
    """Every zone inside its allowed hours throughout: all days working days, one quiet minute
    (23:59 local) that no zone reaches while the pass runs from :30 UTC; the bot told the cap."""
    return parse_config('[cadence]\nevery = "day"\nquiet_hours = { start = "23:59", end = "00:00" }\n'
                        'working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
                        f'[slack]\npost_rate_per_second = {cap}\n', "bench")


# ---- the database -------------------------------------------------------------------------------


def seed(url: str, team_id: str, reps: int, now: dt.datetime, ids_of: Any = rep_id, workspace: bool = True) -> None:
    """N reps nobody has looked up (no zone, no name), each with a check-in due a minute ago.

    `workspace=False`: the workspace's row exists already (an OAuth install wrote it)."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.begin() as connection:
        if workspace:
            connection.execute(insert(Workspace), [{"team_id": team_id, "name": "bench", "created_at": now}])
        connection.execute(insert(User), [{
            "team_id": team_id, "slack_id": ids_of(i), "role": "rep", "prompt_sequence": 0,
            "created_at": now - dt.timedelta(minutes=5)} for i in range(reps)])
        connection.execute(insert(Goal), [{
            "team_id": team_id, "rep_id": ids_of(i), "text": f"Goal of rep {i}: grow the pipeline", "position": 1,
            "created_at": now - dt.timedelta(minutes=5)} for i in range(reps)])
        due = now - dt.timedelta(minutes=1)
        ids = connection.execute(insert(CheckIn).returning(CheckIn.id, CheckIn.rep_id), [{
            "team_id": team_id, "rep_id": ids_of(i), "kind": "scheduled", "due_at": due, "state": "scheduled",
            "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(minutes=5)} for i in range(reps)]).all()
        connection.execute(insert(OutboxMessage), [{
            "team_id": team_id, "kind": "checkin_prompt", "recipient": rep, "checkin_id": checkin_id,
            "dedupe_key": f"checkin:{checkin_id}:0", "payload": "{}", "not_before": due, "state": "pending",
            "attempts": 0, "deferrals": 0, "created_at": now - dt.timedelta(minutes=5)} for checkin_id, rep in ids])
    engine.dispose()


class Watcher(threading.Thread):
    """When every rep's zone was known (seconds from `started`), read from the database ten times a
    second. Delivery is timed by Slack's side: the ts of the last check-in posted."""

    def __init__(self, services: Services, reps: int, started: float) -> None:
        super().__init__(daemon=True, name="watcher")
        self.services, self.reps, self.started = services, reps, started
        self.onboarded: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(0.1):
            with self.services.sessions.begin() as session:
                zoned = session.scalar(select(func.count()).select_from(User).where(User.tz.is_not(None))) or 0
            if zoned >= self.reps:
                self.onboarded = time.perf_counter() - self.started
                return


def probe_rate(api_url: str, token: str, seconds: float) -> float:
    """Posts a second that bare threads get through the emulated cap, each to its own channel."""
    client = WebClient(token=token, base_url=api_url if api_url.endswith("/") else api_url + "/", timeout=10)
    client.retry_handlers = []
    stop = time.perf_counter() + seconds
    done = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        i = 0
        while time.perf_counter() < stop:
            try:
                client.chat_postMessage(channel=rep_id((n * 10_007 + i) % 1000), text="probe")
                with lock:
                    done[0] += 1
            except SlackApiError as err:
                time.sleep(float(err.response.headers.get("Retry-After", 1)) if err.response.status_code == 429
                           else 0.1)
            i += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(worker, range(8)))
    return done[0] / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=2000)
    parser.add_argument("--cap", type=float, default=10.0, help="the workspace's posts a second")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds added to every Web API call")
    parser.add_argument("--db", default=None, help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--workspaces", type=int, default=0,
                        help="OAuth mode: this many workspaces, each with --reps reps and its own --cap")
    parser.add_argument("--workspace-workers", type=int, default=0,
                        help=f"workspaces a pass serves at once (default: the bot's {passes.WORKSPACE_WORKERS})")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    if args.workspaces:
        return main_workspaces(args)

    child, here = start_child(serve_sandbox, args.reps, args.cap, args.latency)
    api_url, team_id, token = here.recv()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'fanout.db'}"
        config = bench_config(args.cap)
        now = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0)
        seed(url, team_id, args.reps, now)
        engine = make_engine(url)
        origin = time.monotonic()
        services = Services(settings=Settings(bot_token=token, api_url=api_url, database_url=url),
                            config=config, engine=engine, sessions=make_session_factory(engine),
                            client=make_web_client(token, api_url), team_id=team_id,
                            clock=lambda: now + dt.timedelta(seconds=time.monotonic() - origin))
        started, started_at = time.perf_counter(), time.time()
        watcher = Watcher(services, args.reps, started)
        watcher.start()
        report = passes.run_pass(services, now=now)
        wall = time.perf_counter() - started
        watcher.join(timeout=5)
        watcher.stop.set()
        with services.sessions.begin() as session:
            states = dict(session.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state)).all())
        engine.dispose()

    here.send("report")
    seen: dict[str, Any] = here.recv()
    here.send("reset")
    here.recv()
    measured_cap = probe_rate(api_url, token, PROBE_SECONDS)
    here.send("stop")
    child.join(timeout=10)

    calls: dict[str, int] = seen["calls"]
    limited: dict[str, int] = seen["limited"]
    total_calls, total_limited = sum(calls.values()), sum(limited.values())
    share = total_limited / total_calls if total_calls else 0.0
    counts: dict[str, int] = seen["prompts"]
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    ideal = args.reps / args.cap
    # When Slack posted the last check-in (its ts; the sandbox and this process share the clock).
    delivered = seen["landed"] - started_at if seen["landed"] is not None and len(seen["prompts"]) == args.reps \
        else float("inf")
    onboarded = watcher.onboarded if watcher.onboarded is not None else float("inf")
    ratio = delivered / ideal
    ok = (onboarded <= ONBOARDING_TARGET and ratio <= DELIVERY_TARGET and share <= LIMITED_TARGET
          and duplicates == 0 and len(counts) == args.reps)
    print(f"fan-out under Slack's limits: {args.reps} new reps (zones unknown) in {len(ZONES)} zones, workspace cap "
          f"{args.cap:g} posts/s, {args.latency * 1000:.0f} ms per call, concurrency {delivery.CONCURRENCY}")
    print(f"  {report.summary()}")
    print(f"  rows: {states}; calls by method {dict(sorted(calls.items()))}; sandbox violations {seen['violations']}")
    print(f"  onboarding (every zone known): {onboarded:.1f} s (target <= {ONBOARDING_TARGET:.0f} s) "
          f"{'OK' if onboarded <= ONBOARDING_TARGET else 'ABOVE TARGET'}")
    print(f"  delivery (every check-in sent): {delivered:.1f} s; ideal N / cap = {ideal:.1f} s; ratio {ratio:.3f} "
          f"(target <= {DELIVERY_TARGET}) {'OK' if ratio <= DELIVERY_TARGET else 'ABOVE TARGET'}; pass {wall:.1f} s")
    print(f"  baseline, measured in the same run: bare threads got {measured_cap:.2f} posts/s through the emulated "
          f"cap in {PROBE_SECONDS:.0f} s; delivery against N / that rate: "
          f"{delivered / (args.reps / measured_cap):.3f}" if measured_cap else "  baseline: no posts got through")
    print(f"  429s: {total_limited} of {total_calls} calls ({share:.2%}; target <= {LIMITED_TARGET:.0%}) "
          f"{'OK' if share <= LIMITED_TARGET else 'ABOVE TARGET'}; by method {limited or 'none'}")
    print(f"  duplicates: {duplicates}; check-ins posted: {len(counts)} of {args.reps} "
          f"{'OK' if duplicates == 0 and len(counts) == args.reps else 'WRONG'}")
    print(f"  CPUs on this machine: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


# ---- several workspaces (OAuth mode) ------------------------------------------------------------

MISROUTED = {"channel_not_found", "user_not_found", "team_not_found", "invalid_auth", "not_authed"}


def team_of(w: int) -> str:
    return f"T0WS{w:04d}"


def manager_of(w: int) -> str:
    return f"U0M{w:04d}"


def rep_of(w: int, i: int) -> str:
    return f"U0R{w:04d}{i:05d}"


def serve_workspaces(workspaces: int, reps: int, cap: float, latency: float, conn: Connection) -> None:
    sandbox = Sandbox.start(rate_limits=RateLimits(workspace_post_cap=cap), strict_tokens=True)
    for w in range(workspaces):
        sandbox.add_workspace(team_of(w), installed=False)
        sandbox.add_user(manager_of(w), name=f"manager{w}", team=team_of(w))
        for i in range(reps):
            sandbox.add_user(rep_of(w, i), name=f"rep{w}-{i}", tz=ZONES[(w + i) % len(ZONES)], team=team_of(w))
    sandbox.faults.latency(latency)
    without_collector()
    conn.send((sandbox.api_url, sandbox.client_id, sandbox.client_secret))
    while (ask := conn.recv()) != "stop":
        limiter = sandbox.limiter
        assert limiter is not None
        if isinstance(ask, tuple):  # ("authorize", team, user): the install's approval
            conn.send(sandbox.authorize(ask[1], user=ask[2]))
        elif ask == "tokens":
            conn.send([sandbox.bot_token_of(team_of(w)) for w in range(workspaces)])
        elif ask == "reset":
            limiter.reset()
            conn.send(None)
        else:
            calls, limited = dict(limiter.calls), dict(limiter.limited)
            prompts: Counter[str] = Counter()
            for w in range(workspaces):
                prompts.update(f"{team_of(w)}:{(m.metadata or {}).get('event_payload', {}).get('checkin_id')}"
                               for m in sandbox.messages(team=team_of(w))
                               if (m.metadata or {}).get("event_type") == "checkin_prompt")
            misrouted = sum(1 for c in sandbox.calls if c.response.get("error") in MISROUTED)
            posted: dict[str, list[float]] = {}  # when Slack posted each check-in (its ts), per workspace
            for w in range(workspaces):
                posted[team_of(w)] = [float(m.ts) for m in sandbox.messages(team=team_of(w))
                                      if (m.metadata or {}).get("event_type") == "checkin_prompt"]
            posted = {team: at for team, at in posted.items() if at}
            conn.send({"calls": calls, "limited": limited, "prompts": dict(prompts), "misrouted": misrouted,
                       "violations": len(sandbox.violations),
                       "spans": [(min(at), max(at)) for at in posted.values()]})
    sandbox.close()


def probe_workspaces(api_url: str, tokens: list[str], reps: int, seconds: float, threads_each: int = 2) -> float:
    """Posts a second *per workspace* that bare threads get through, posting to every workspace at once."""
    base = api_url if api_url.endswith("/") else api_url + "/"
    clients = [WebClient(token=token, base_url=base, timeout=10) for token in tokens]
    for client in clients:
        client.retry_handlers = []
    stop = time.perf_counter() + seconds
    done = [0]
    lock = threading.Lock()

    def worker(n: int) -> None:
        w, i = n % len(clients), n
        while time.perf_counter() < stop:
            try:
                clients[w].chat_postMessage(channel=rep_of(w, i % reps), text="probe")
                with lock:
                    done[0] += 1
            except SlackApiError as err:
                time.sleep(float(err.response.headers.get("Retry-After", 1)) if err.response.status_code == 429
                           else 0.1)
            i += threads_each

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(clients) * threads_each) as pool:
        list(pool.map(worker, range(len(clients) * threads_each)))
    return done[0] / (time.perf_counter() - started) / len(clients)


def main_workspaces(args: argparse.Namespace) -> int:
    workspaces, reps = args.workspaces, args.reps
    workers = args.workspace_workers or passes.WORKSPACE_WORKERS
    child, here = start_child(serve_workspaces, workspaces, reps, args.cap, args.latency)
    api_url, client_id, client_secret = here.recv()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'fanout.db'}"
        config = bench_config(args.cap)
        now = dt.datetime.now(dt.UTC).replace(minute=30, second=0, microsecond=0)
        origin = time.monotonic()
        settings = Settings(signing_secret=SIGNING_SECRET, api_url=api_url, database_url=url,
                            client_id=client_id, client_secret=client_secret)
        services = build_services(settings, config, clock=lambda: now + dt.timedelta(seconds=time.monotonic() - origin))
        server = make_server(build_app(services), services.engine, port=0, host="127.0.0.1", threads=4,
                             services=services)
        serving = threading.Thread(target=server.run, name="bot-http", daemon=True)
        serving.start()
        base_url = f"http://127.0.0.1:{server.effective_port}"
        installing = time.perf_counter()
        statuses = Counter()
        for w in range(workspaces):
            def approve(w: int = w) -> str:
                here.send(("authorize", team_of(w), manager_of(w)))
                return str(here.recv())
            statuses[install_through(base_url, approve)] += 1
        installs = time.perf_counter() - installing
        for w in range(workspaces):
            seed(url, team_of(w), reps, now, ids_of=lambda i, w=w: rep_of(w, i), workspace=False)

        settle_heap()  # as `serve` does once it has booted
        started, started_at = time.perf_counter(), time.time()
        watcher = Watcher(services, workspaces * reps, started)
        watcher.start()
        report = passes.run_pass(services, now=now, workspaces=workers)
        wall = time.perf_counter() - started
        watcher.join(timeout=5)
        watcher.stop.set()
        with services.sessions.begin() as session:
            states = dict(session.execute(select(CheckIn.state, func.count()).group_by(CheckIn.state)).all())
            installed = session.scalar(select(func.count()).select_from(Workspace)
                                       .where(Workspace.left_at.is_(None), Workspace.bot_user_id.is_not(None)))
        stop_server(server)
        serving.join(timeout=5)
        services.engine.dispose()

    here.send("report")
    seen: dict[str, Any] = here.recv()
    here.send("tokens")
    tokens: list[str] = here.recv()
    here.send("reset")
    here.recv()
    measured_cap = probe_workspaces(api_url, tokens, reps, PROBE_SECONDS)
    here.send("stop")
    child.join(timeout=10)

    calls: dict[str, int] = seen["calls"]
    limited: dict[str, int] = seen["limited"]
    total_calls, total_limited = sum(calls.values()), sum(limited.values())
    share = total_limited / total_calls if total_calls else 0.0
    counts: dict[str, int] = seen["prompts"]
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    total = workspaces * reps
    ideal = reps / args.cap
    # When Slack posted the last check-in of any workspace (its ts; the sandbox shares this clock).
    delivered = max(last for _, last in seen["spans"]) - started_at \
        if seen["spans"] and len(seen["prompts"]) == workspaces * reps else float("inf")
    onboarded = watcher.onboarded if watcher.onboarded is not None else float("inf")
    ratio = delivered / ideal
    ok = (onboarded <= ONBOARDING_TARGET and ratio <= DELIVERY_TARGET and share <= LIMITED_TARGET
          and duplicates == 0 and len(counts) == total and seen["misrouted"] == 0 and installed == workspaces)
    print(f"multi-workspace fan-out: {workspaces} workspaces x {reps} new reps (zones unknown), each workspace "
          f"capped at {args.cap:g} posts/s, {args.latency * 1000:.0f} ms per call, {min(workers, workspaces)} workspaces served at "
          f"once, concurrency {delivery.CONCURRENCY} each")
    print(f"  installs through /slack/install + /slack/oauth_redirect: {dict(statuses)} in {installs:.1f} s; "
          f"{installed} workspaces installed")
    print(f"  {report.summary()}")
    print(f"  rows: {states}; calls by method {dict(sorted(calls.items()))}; sandbox violations {seen['violations']}")
    print(f"  onboarding (every zone known): {onboarded:.1f} s (target <= {ONBOARDING_TARGET:.0f} s) "
          f"{'OK' if onboarded <= ONBOARDING_TARGET else 'ABOVE TARGET'}")
    print(f"  delivery (every check-in sent): {delivered:.1f} s; ideal = per-workspace N / cap = {reps} / "
          f"{args.cap:g} = {ideal:.1f} s (limits are per workspace, so all may send at once); ratio {ratio:.3f} "
          f"(target <= {DELIVERY_TARGET}) {'OK' if ratio <= DELIVERY_TARGET else 'ABOVE TARGET'}; pass {wall:.1f} s")
    print(f"  baseline, measured in the same run: bare threads got {measured_cap:.2f} posts/s per workspace through "
          f"the emulated caps, all {workspaces} at once, in {PROBE_SECONDS:.0f} s; delivery against N / that rate: "
          f"{delivered / (reps / measured_cap):.3f}" if measured_cap else "  baseline: no posts got through")
    spans = sorted(seen["spans"])
    if spans:
        firsts = sorted(first - started_at for first, _ in spans)
        sending = sorted(last - first for first, last in spans)
        print(f"  per workspace: first post after {firsts[0]:.1f}-{firsts[-1]:.1f} s (median "
              f"{statistics.median(firsts):.1f}); first to last post {sending[0]:.1f}-{sending[-1]:.1f} s "
              f"(median {statistics.median(sending):.1f}; at the cap, {(reps - 1) / args.cap:.1f})")
    print(f"  429s: {total_limited} of {total_calls} calls ({share:.2%}; target <= {LIMITED_TARGET:.0%}) "
          f"{'OK' if share <= LIMITED_TARGET else 'ABOVE TARGET'}; by method {limited or 'none'}")
    print(f"  duplicates: {duplicates}; check-ins posted: {len(counts)} of {total} "
          f"{'OK' if duplicates == 0 and len(counts) == total else 'WRONG'}")
    print(f"  calls refused for a token used outside its workspace (strict tokens): {seen['misrouted']} "
          f"{'OK' if seen['misrouted'] == 0 else 'WRONG'}")
    print(f"  CPUs on this machine: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
