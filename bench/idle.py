"""Benchmark a dispatch pass with nothing due, at 100, 1,000 and 10,000 reps (issue 17).

Run: .venv/bin/python bench/idle.py [--sizes 100,1000,10000] [--passes 3]

For each size a temporary SQLite database is seeded with bulk inserts: the reps (one manager per
ten, each pair a team), two goals each, four weeks of answered and acknowledged weekly check-ins
and one upcoming check-in next week, zones already known. A first pass evaluates every pair (the
walk every pass used to do; shown for comparison). Then:

- in-process: the CPU (time.process_time) of `run_pass` a minute later with nothing due, median
  of `--passes`, and of a pass with exactly one rep due (its check-in is sent);
- process: the CPU (user + system, getrusage of the child) of `checkin-bot dispatch` against the
  sandbox's Web API (SLACK_API_URL), start-up included, median of `--passes` after one warm-up
  start (which proves the token with auth.test and stores the identity);
- the growth ratio of each, largest size / smallest size.

The baseline for the process figure, measured in the same run: the CPU of `python -c pass` and of
importing what `dispatch` imports, so the share that is interpreter start-up is visible.
Targets: growth ratio <= 1.3; idle pass at 10,000 reps <= 0.3 s in-process; a dispatch process
<= 0.6 s. Figures move with the machine's load; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import multiprocessing
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from sqlalchemy import insert, update  # noqa: E402

from core.config import parse_config  # noqa: E402
from core.services import Services, make_web_client  # noqa: E402
from core.settings import Settings  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from scheduling import dispatch  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import Answer, CheckIn, CoachingNote, Goal, Membership, Team, User, Workspace  # noqa: E402

GROWTH_TARGET = 1.3
IN_PROCESS_TARGET = 0.3
PROCESS_TARGET = 0.6
CHUNK = 5_000
HISTORY_WEEKS = 4
# Every day a working day and one quiet minute (23:59 UTC), so the one due check-in may be sent.
CONFIG = ('[cadence]\nevery = "week"\nday = "mon"\ntime = "10:00"\n'
          'working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
          'quiet_hours = { start = "23:59", end = "00:00" }\n')


def rep_id(i: int) -> str:
    return f"U0R{i:07d}"


def manager_id(i: int) -> str:
    return f"U0M{i:07d}"


def serve_sandbox(conn: Connection) -> None:
    sandbox = Sandbox.start()
    sandbox.add_user(rep_id(0), name="rep0", tz="UTC")  # the one rep due
    conn.send((sandbox.api_url, sandbox.team_id, sandbox.bot_token))
    conn.recv()  # "stop"
    sandbox.close()


def _rows(connection: object, model: type, rows: list[dict[str, object]]) -> None:
    for start in range(0, len(rows), CHUNK):
        connection.execute(insert(model), rows[start:start + CHUNK])  # type: ignore[attr-defined]


def seed(url: str, team_id: str, reps: int, base: dt.datetime) -> None:
    engine = make_engine(url)
    upgrade(engine)
    managers = max(1, reps // 10)
    old = base - dt.timedelta(days=60)
    with engine.begin() as c:
        c.execute(insert(Workspace), [{"team_id": team_id, "name": "bench", "created_at": old}])
        people = [{"team_id": team_id, "slack_id": rep_id(i), "tz": "UTC", "tz_refreshed_at": base, "role": "rep",
                   "prompt_sequence": 0, "created_at": old, "next_plan_at": None} for i in range(reps)]
        people += [{"team_id": team_id, "slack_id": manager_id(m), "tz": "UTC", "tz_refreshed_at": base,
                    "role": "manager", "prompt_sequence": 0, "created_at": old, "next_plan_at": None}
                   for m in range(managers)]
        _rows(c, User, people)
        _rows(c, Team, [{"id": m + 1, "team_id": team_id, "name": f"team{m}", "manager_id": manager_id(m),
                         "source": "command"} for m in range(managers)])
        _rows(c, Membership, [{"team_id": team_id, "team_pk": i % managers + 1, "rep_id": rep_id(i),
                               "status": "active", "created_at": old} for i in range(reps)])
        _rows(c, Goal, [{"id": 2 * i + g + 1, "team_id": team_id, "rep_id": rep_id(i), "position": g + 1,
                         "text": f"Goal {g + 1} of rep {i}: grow the pipeline", "created_at": old}
                        for i in range(reps) for g in range(2)])
        checkins, answers, notes = [], [], []
        for i in range(reps):
            for week in range(HISTORY_WEEKS, 0, -1):
                sent = base - dt.timedelta(days=7 * week - 1)
                cid = len(checkins) + 1
                checkins.append({"id": cid, "team_id": team_id, "rep_id": rep_id(i), "kind": "scheduled",
                                 "goal_id": 2 * i + 1 + week % 2, "due_at": sent, "state": "answered",
                                 "attempts": 1, "snooze_count": 0, "sent_at": sent, "channel": rep_id(i),
                                 "message_ts": f"{sent.timestamp():.6f}", "reminder_sent_at": None,
                                 "closed_at": sent + dt.timedelta(hours=2), "created_at": sent})
                answers.append({"id": cid, "team_id": team_id, "checkin_id": cid, "rep_id": rep_id(i),
                                "text": "Moving along", "help_wanted": False, "source": "modal",
                                "created_at": sent + dt.timedelta(hours=2), "updated_at": sent + dt.timedelta(hours=2)})
                notes.append({"team_id": team_id, "answer_id": cid, "manager_id": manager_id(i % managers),
                              "rep_id": rep_id(i), "kind": "thanks", "created_at": sent + dt.timedelta(hours=3)})
            checkins.append({"id": len(checkins) + 1, "team_id": team_id, "rep_id": rep_id(i), "kind": "scheduled",
                             "goal_id": None, "due_at": base + dt.timedelta(days=6), "state": "scheduled",
                             "attempts": 0, "snooze_count": 0, "sent_at": None, "channel": None, "message_ts": None,
                             "reminder_sent_at": None, "closed_at": None, "created_at": base - dt.timedelta(days=1)})
        _rows(c, CheckIn, checkins)
        _rows(c, Answer, answers)
        _rows(c, CoachingNote, notes)
    engine.dispose()


def child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(argv: list[str], env: dict[str, str], cwd: str) -> tuple[float, str]:
    before = child_cpu()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return child_cpu() - before, done.stdout.strip()


def measure(size: int, passes: int, api_url: str, team_id: str, token: str, tmp: Path) -> dict[str, float]:
    url = f"sqlite:///{tmp / f'idle{size}.db'}"
    # An hour ago, so the in-process passes (a minute apart) stay behind the real clock that the
    # `dispatch` processes use.
    base = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(hours=1)
    started = time.perf_counter()
    seed(url, team_id, size, base)
    seeded = time.perf_counter() - started
    config_path = tmp / "checkins.toml"
    config_path.write_text(CONFIG)
    engine = make_engine(url)
    services = Services(settings=Settings(bot_token=token, api_url=api_url, database_url=url),
                        config=parse_config(CONFIG, "bench"), engine=engine, sessions=make_session_factory(engine),
                        client=make_web_client(token, api_url), team_id=team_id)

    def timed(at: dt.datetime) -> tuple[float, dispatch.PassReport]:
        cpu = time.process_time()
        report = dispatch.run_pass(services, now=at)
        return time.process_time() - cpu, report

    first, _ = timed(base)
    idle: list[float] = []
    for n in range(1, passes + 1):
        cpu, report = timed(base + dt.timedelta(minutes=n))
        if report.counts:
            raise SystemExit(f"an idle pass at {size} reps did something: {report.summary()}")
        idle.append(cpu)
    due_at = base + dt.timedelta(minutes=passes + 1)
    with services.sessions.begin() as session:
        session.execute(update(CheckIn).where(CheckIn.rep_id == rep_id(0), CheckIn.state == "scheduled")
                        .values(due_at=due_at))
    one, report = timed(due_at)
    if report.get("sent") != 1:
        raise SystemExit(f"the pass with one rep due sent {report.get('sent')} check-ins: {report.summary()}")
    engine.dispose()

    env = {**os.environ, "DATABASE_URL": url, "SLACK_BOT_TOKEN": token, "SLACK_API_URL": api_url,
           "CHECKINS_CONFIG": str(config_path), "LOG_LEVEL": "WARNING"}
    argv = [str(Path(sys.executable).with_name("checkin-bot")), "dispatch"]
    process_cpu(argv, env, str(tmp))  # warm-up: auth.test once, identity stored
    runs = []
    for _ in range(passes):
        cpu, out = process_cpu(argv, env, str(tmp))
        if out != "dispatch: nothing was due":
            raise SystemExit(f"an idle dispatch at {size} reps did something: {out}")
        runs.append(cpu)
    return {"seed": seeded, "first": first, "idle": statistics.median(idle), "one": one,
            "process": statistics.median(runs)}


def baseline(passes: int, tmp: Path) -> tuple[float, float]:
    bare = statistics.median(process_cpu([sys.executable, "-c", "pass"], dict(os.environ), str(tmp))[0]
                             for _ in range(passes))
    imports = statistics.median(process_cpu(
        [sys.executable, "-c", "import wiring.cli, wiring.boot, handlers.passes"],
        {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, str(tmp))[0] for _ in range(passes))
    return bare, imports


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--passes", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    logging.basicConfig(level=logging.WARNING)

    ctx = multiprocessing.get_context("spawn")
    here, there = ctx.Pipe()
    child = ctx.Process(target=serve_sandbox, args=(there,), daemon=True)
    child.start()
    api_url, team_id, token = here.recv()
    results: dict[int, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        for size in sizes:
            results[size] = measure(size, args.passes, api_url, team_id, token, tmp)
        bare, imports = baseline(args.passes, tmp)
    here.send("stop")
    child.join(timeout=10)

    print(f"idle dispatch pass (CPU seconds; median of {args.passes}; SQLite; CPUs {os.cpu_count()}, "
          f"load average {os.getloadavg()[0]:.1f})")
    print(f"  {'reps':>7}  {'seed s':>7}  {'first pass':>10}  {'idle pass':>9}  {'one rep due':>11}  "
          f"{'dispatch process':>16}")
    for size, r in results.items():
        print(f"  {size:>7}  {r['seed']:>7.2f}  {r['first']:>10.3f}  {r['idle']:>9.3f}  {r['one']:>11.3f}  "
              f"{r['process']:>16.3f}")
    small, large = results[min(sizes)], results[max(sizes)]
    growth_in, growth_proc = large["idle"] / small["idle"], large["process"] / small["process"]

    def verdict(ok: bool) -> str:
        return "OK" if ok else "ABOVE TARGET"

    print(f"  growth {max(sizes)} / {min(sizes)} reps: in-process {growth_in:.2f}, dispatch process "
          f"{growth_proc:.2f} (target <= {GROWTH_TARGET}) {verdict(max(growth_in, growth_proc) <= GROWTH_TARGET)}")
    print(f"  idle pass at {max(sizes)} reps, in-process: {large['idle']:.3f} s (target <= {IN_PROCESS_TARGET}) "
          f"{verdict(large['idle'] <= IN_PROCESS_TARGET)}")
    print(f"  dispatch process at {max(sizes)} reps, start-up included: {large['process']:.3f} s "
          f"(target <= {PROCESS_TARGET}) {verdict(large['process'] <= PROCESS_TARGET)}")
    print(f"  baseline in the same run: `python -c pass` {bare:.3f} s; importing what dispatch imports "
          f"{imports:.3f} s; so start-up beyond the interpreter is about "
          f"{large['process'] - large['idle'] - bare:.3f} s of the process figure")
    return 0


if __name__ == "__main__":
    sys.exit(main())
