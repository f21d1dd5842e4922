"""Slash-command ack latency during a burst of DM answers, against a baseline measured in the same run.

Run: .venv/bin/python bench/load.py [--dms 200] [--seconds 10] [--reps 50] [--latency 0.25]

The real app, waitress server and sandbox (acking first, as in production). Every rep has an open
check-in; the burst sends `--dms` DM answers spread evenly over `--seconds` (each rep answers,
then edits by sending more). Meanwhile a probe sends ten slash commands a second and times each
ack: mostly `/checkin help` from a rep, and every fifth a `/checkin summary` of the 50-rep team
from the manager (which reads the database before acking, and builds the summary after). The
same probe runs first with no load: the baseline. Every Web API call takes `--latency` seconds, about
what real Slack takes; handling one DM answer makes several. Slack gives up on an ack after 3 s.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import func, select  # noqa: E402

from core.config import parse_config  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from storage.models import Answer, ProcessedEvent  # noqa: E402
from wiring.harness import BotHarness  # noqa: E402

MANAGER = "U0LOADMGR"
SLACK_ACK_DEADLINE = 3.0


@dataclass
class LoadResult:
    baseline: list[float]
    under_load: list[float]
    statuses: list[int]
    dms_sent: int
    burst_seconds: float
    handled_seconds: float
    answers_stored: int

    @staticmethod
    def p99(samples: list[float]) -> float:
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]

    def report(self) -> str:
        base, load = self.p99(self.baseline), self.p99(self.under_load)
        return (f"{self.dms_sent} DM answers sent in {self.burst_seconds:.1f} s, all handled after "
                f"{self.handled_seconds:.1f} s; {self.answers_stored} check-ins answered\n"
                f"slash ack p50 {statistics.median(self.baseline) * 1000:.0f} ms / p99 {base * 1000:.0f} ms "
                f"without load ({len(self.baseline)} acks)\n"
                f"slash ack p50 {statistics.median(self.under_load) * 1000:.0f} ms / p99 {load * 1000:.0f} ms "
                f"/ max {max(self.under_load) * 1000:.0f} ms under load ({len(self.under_load)} acks): "
                f"p99 ratio {load / base:.1f}; Slack's deadline {SLACK_ACK_DEADLINE:.0f} s "
                f"{'met' if max(self.under_load) < SLACK_ACK_DEADLINE else 'MISSED'}")


def run_load(dms: int = 200, seconds: float = 10.0, reps: int = 50, latency: float = 0.25,
             database_url: str | None = None) -> LoadResult:
    rep_ids = [f"U0LOAD{i:04d}" for i in range(reps)]
    config = parse_config(f'[[teams]]\nname = "Load"\nmanager = "{MANAGER}"\n'
                          f'members = [{", ".join(repr(r).replace(chr(39), chr(34)) for r in rep_ids)}]\n')
    with tempfile.TemporaryDirectory() as folder, Sandbox.start() as sandbox:
        sandbox.add_user(MANAGER, name="loadmgr", tz="UTC")
        for i, rep in enumerate(rep_ids):
            sandbox.add_user(rep, name=f"rep{i}", tz="UTC")
        with BotHarness(sandbox, database_url or f"sqlite:///{Path(folder) / 'load.db'}", config,
                        process_before_response=False) as bot:
            slack = sandbox.client(bot.url, bot.settings.signing_secret or "", timeout=30)
            for rep in rep_ids:
                assert slack.slash("now", user=rep).status == 200
            sandbox.wait_for(lambda: sum(1 for r in rep_ids if sandbox.dms_to(r)) == reps, timeout=60)
            prompts = {r: sandbox.dms_to(r)[0].ts for r in rep_ids}
            sandbox.faults.latency(latency)
            statuses: list[int] = []

            def probe(stop: threading.Event | None, count: int) -> list[float]:
                times: list[float] = []
                n = 0
                while (stop is None and n < count) or (stop is not None and not stop.is_set()):
                    text, user = ("summary", MANAGER) if n % 5 == 4 else ("help", rep_ids[n % reps])
                    started = time.perf_counter()
                    statuses.append(slack.slash(text, user=user).status)
                    times.append(time.perf_counter() - started)
                    n += 1
                    time.sleep(max(0.0, 0.1 - times[-1]))
                return times

            slack.slash("summary", user=MANAGER)  # the names it looks up once are kept
            baseline = probe(None, 50)
            stop = threading.Event()
            with ThreadPoolExecutor(max_workers=1) as prober:
                under_load = prober.submit(probe, stop, 0)
                started = time.perf_counter()
                with ThreadPoolExecutor(max_workers=8) as senders:
                    for n in range(dms):
                        delay = started + n * seconds / dms - time.perf_counter()
                        if delay > 0:
                            time.sleep(delay)
                        rep = rep_ids[n % reps]  # the first round answers, later ones edit in the thread
                        senders.submit(slack.dm, rep, f"Update {n}: the Acme deal moved forward",
                                       None if n < reps else prompts[rep])
                burst = time.perf_counter() - started

                def answered() -> int:
                    with bot.services.sessions.begin() as session:
                        return session.scalar(select(func.count()).select_from(Answer)) or 0

                def events_seen() -> int:
                    with bot.services.sessions.begin() as session:
                        return session.scalar(select(func.count()).select_from(ProcessedEvent)) or 0

                # Probe until every DM is taken up; then let the Web API calls they cause die down.
                sandbox.wait_for(lambda: events_seen() >= dms, timeout=120)
                stop.set()
                loaded = under_load.result()
                calls = -1
                while calls != len(sandbox.calls):
                    calls = len(sandbox.calls)
                    time.sleep(1.0)
                handled = time.perf_counter() - started - 1.0
            return LoadResult(baseline, loaded, statuses, dms, burst, handled, answered())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dms", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--reps", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.25, help="seconds per Web API call")
    parser.add_argument("--database-url", help="an empty database to use (default: a temporary SQLite file)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    result = run_load(args.dms, args.seconds, args.reps, args.latency, args.database_url)
    print(result.report())
    return 0 if max(result.under_load) < SLACK_ACK_DEADLINE and set(result.statuses) == {200} else 1


if __name__ == "__main__":
    raise SystemExit(main())
