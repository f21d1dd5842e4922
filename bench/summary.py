"""Benchmark team summaries at scale, as ratios against baselines measured in the same run.

Run: .venv/bin/python bench/summary.py [--workspaces 50] [--reps 200]

1. One 25-rep team's summary (the queries, the arithmetic and the Block Kit) in a database holding
   a year of history for 50 workspaces x 200 reps (~500k answers), against the same summary in a
   database holding only that team's year. Indexed per-team queries keep the ratio near 1
   (target <= 1.5).
2. The HTTP ack latency of `/checkin summary` through the real app, server and sandbox, against a
   bare Bolt app answering `/hello` behind the same server (target <= 2). The summary itself
   follows via response_url, so the ack never waits for it.

Both databases are temporary SQLite files filled with bulk inserts.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import random
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from slack_bolt import Ack, App  # noqa: E402
from sqlalchemy import Engine, create_engine, insert  # noqa: E402

from coaching.summary import summarise_team  # noqa: E402
from core.clock import ManualClock  # noqa: E402
from core.config import parse_config  # noqa: E402
from core.services import Services, make_web_client  # noqa: E402
from handlers.render.summary import summary_pages  # noqa: E402
from sandbox import Sandbox  # noqa: E402
from storage.db import make_engine, make_session_factory, upgrade  # noqa: E402
from storage.models import Answer, CheckIn, CoachingNote, Goal, Membership, Team, User  # noqa: E402
from storage.people import reps_of_manager, role_of  # noqa: E402
from storage.summary import rep_facts  # noqa: E402
from wiring.harness import SIGNING_SECRET, BotHarness  # noqa: E402
from wiring.server import make_server, stop_server  # noqa: E402

SUMMARY_TARGET = 1.5
ACK_TARGET = 2.0
TEAM_SIZE = 25
WEEKS = 52
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)
TARGET_WORKSPACE = "T0SANDBOX"  # the sandbox's own workspace, so the HTTP part can use the same file
MANAGER = "U0BENCHMGR"
CHUNK = 20_000


def workspace_id(index: int) -> str:
    return TARGET_WORKSPACE if index == 0 else f"T0BENCH{index:03d}"


def rows_for(workspaces: int, reps_per_workspace: int, only_target: bool) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(table, rows) chunks for a year of weekly check-ins; ids are fixed so both files match."""
    rng = random.Random(7)
    checkin_id = answer_id = goal_id = team_pk = 0
    for w in range(workspaces):
        team_id = workspace_id(w)
        users, teams, members, goals, checkins, answers, notes = [], [], [], [], [], [], []
        for t in range(reps_per_workspace // TEAM_SIZE):
            team_pk += 1
            manager = MANAGER if (w, t) == (0, 0) else f"U0M{w:03d}{t:02d}"
            keep_team = not only_target or (w, t) == (0, 0)
            if keep_team:
                teams.append({"id": team_pk, "team_id": team_id, "name": f"team {t}", "manager_id": manager,
                              "source": "command"})
                users.append({"team_id": team_id, "slack_id": manager, "display_name": f"manager {t}",
                              "role": "manager", "created_at": NOW - dt.timedelta(weeks=WEEKS + 1),
                              "prompt_sequence": 0})
            for r in range(TEAM_SIZE):
                rep = f"U0R{w:03d}{t:02d}{r:02d}"
                rep_goals = []
                for g in range(3):
                    goal_id += 1
                    rep_goals.append(goal_id)
                    if keep_team:
                        goals.append({"id": goal_id, "team_id": team_id, "rep_id": rep, "position": g,
                                      "text": f"Goal {g} & <things> for {rep}",
                                      "created_at": NOW - dt.timedelta(weeks=WEEKS)})
                if keep_team:
                    users.append({"team_id": team_id, "slack_id": rep, "display_name": f"rep {rep}", "role": "rep",
                                  "tz": "Europe/Berlin", "created_at": NOW - dt.timedelta(weeks=WEEKS + 1),
                                  "prompt_sequence": 0})
                    members.append({"team_id": team_id, "team_pk": team_pk, "rep_id": rep, "status": "active",
                                    "created_at": NOW - dt.timedelta(weeks=WEEKS + 1)})
                for week in range(WEEKS):
                    checkin_id += 1
                    sent = NOW - dt.timedelta(weeks=week, hours=rng.randint(1, 48))
                    state = "answered" if rng.random() < 0.96 else rng.choice(("skipped", "expired"))
                    goal = rep_goals[week % 3]
                    if not keep_team:
                        if state == "answered":
                            answer_id += 1
                        continue
                    checkins.append({"id": checkin_id, "team_id": team_id, "rep_id": rep, "goal_id": goal,
                                     "kind": "scheduled", "due_at": sent, "state": state, "attempts": 1,
                                     "snooze_count": 0, "sent_at": sent, "closed_at": sent, "created_at": sent,
                                     "prompt": "How is {goal} going?"})
                    if state == "answered":
                        answer_id += 1
                        answers.append({"id": answer_id, "team_id": team_id, "checkin_id": checkin_id,
                                        "rep_id": rep, "goal_id": goal, "source": "modal",
                                        "text": f"Week {week}: progress on the renewal " + "details " * 20,
                                        "confidence": rng.randint(1, 5), "help_wanted": rng.random() < 0.05,
                                        "created_at": sent, "updated_at": sent})
                        if rng.random() < 0.3:
                            notes.append({"team_id": team_id, "answer_id": answer_id, "manager_id": manager,
                                          "rep_id": rep, "kind": rng.choice(("thanks", "note")), "text": None,
                                          "created_at": sent + dt.timedelta(hours=3)})
        yield from (("teams", teams), ("users", users), ("memberships", members), ("goals", goals),
                    ("checkins", checkins), ("answers", answers), ("coaching_notes", notes))


def build(path: Path, workspaces: int, reps: int, only_target: bool) -> int:
    """Create the schema with the real migrations, then bulk-load. Returns the number of answers."""
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    loader = create_engine(f"sqlite:///{path}")  # no WAL/IMMEDIATE pragmas: one writer, fast load
    tables = {m.__tablename__: m.__table__ for m in (Team, User, Membership, Goal, CheckIn, Answer, CoachingNote)}
    answers = 0
    with loader.begin() as connection:
        connection.exec_driver_sql("PRAGMA synchronous=OFF")
        for table, rows in rows_for(workspaces, reps, only_target):
            answers += len(rows) if table == "answers" else 0
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(tables[table]), rows[start:start + CHUNK])
    with loader.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    loader.dispose()
    return answers


def summary_once(engine: Engine) -> int:
    """What `/checkin summary` does after its ack, minus the Slack calls: role, queries, maths, blocks."""
    config = parse_config("")
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        role_of(session, config, TARGET_WORKSPACE, MANAGER)
        reps = reps_of_manager(session, TARGET_WORKSPACE, MANAGER)
        facts = rep_facts(session, config, TARGET_WORKSPACE, MANAGER, reps, NOW - dt.timedelta(weeks=4), NOW)
    pages = summary_pages(summarise_team(facts, 4, NOW), "Your team")
    return sum(len(p.blocks) for p in pages)


def best_of(work: Callable[[], object], repeats: int) -> float:
    # Best of several runs: the least disturbed by whatever else the machine is doing.
    work()  # warm caches
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - start)
    return best


def bare_hello_server(sandbox: Sandbox, services: Services) -> tuple[Any, Any]:
    # The same WebClient set-up as the bot's, so Bolt's one auth.test goes to the sandbox too.
    app = App(client=make_web_client("xoxb-bare", sandbox.api_url), signing_secret=SIGNING_SECRET,
              token_verification_enabled=False)

    @app.command("/hello")
    def hello(ack: Ack) -> None:
        ack("hello")

    server = make_server(app, services.engine, port=0, host="127.0.0.1", threads=4, services=services)
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{server.effective_port}/slack/events"
    return server, sandbox.client(url, SIGNING_SECRET)


def ack_latencies(big: Path, rounds: int) -> tuple[float, float]:
    with Sandbox.start() as sandbox:
        sandbox.add_user(MANAGER, name="benchmgr")
        clock = ManualClock(NOW)
        with BotHarness(sandbox, f"sqlite:///{big}", parse_config(""), clock=clock,
                        process_before_response=False) as bot:
            server, bare = bare_hello_server(sandbox, bot.services)
            try:
                summary_times, hello_times = [], []

                def summaries() -> int:
                    return sum(e.text.startswith("Team summary") for e in sandbox.ephemerals_to(MANAGER))

                for _ in range(rounds):
                    time.sleep(0.05)
                    seen = summaries()
                    start = time.perf_counter()
                    assert bot.slack.slash("summary", user=MANAGER).status == 200
                    summary_times.append(time.perf_counter() - start)
                    deadline = time.monotonic() + 10  # let the summary land before the next request
                    while summaries() == seen and time.monotonic() < deadline:
                        time.sleep(0.002)
                    time.sleep(0.05)  # let that listener finish, so neither side is timed against it
                    start = time.perf_counter()
                    assert bare.slash("", user=MANAGER, command="/hello").status == 200
                    hello_times.append(time.perf_counter() - start)
                assert summaries() == rounds, "every summary was delivered"
            finally:
                stop_server(server)
    return statistics.median(summary_times), statistics.median(hello_times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--reps", type=int, default=200, help="reps per workspace")
    parser.add_argument("--rounds", type=int, default=40, help="HTTP requests per side")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as folder:
        big, small = Path(folder) / "big.db", Path(folder) / "small.db"
        start = time.perf_counter()
        answers = build(big, args.workspaces, args.reps, only_target=False)
        small_answers = build(small, args.workspaces, args.reps, only_target=True)
        print(f"built {args.workspaces} workspaces x {args.reps} reps, {WEEKS} weeks: {answers:,} answers "
              f"({small_answers:,} in the one-team baseline) in {time.perf_counter() - start:.1f}s")
        big_engine, small_engine = make_engine(f"sqlite:///{big}"), make_engine(f"sqlite:///{small}")
        assert summary_once(big_engine) == summary_once(small_engine)
        at_scale = best_of(lambda: summary_once(big_engine), 15)
        alone = best_of(lambda: summary_once(small_engine), 15)
        big_engine.dispose()
        small_engine.dispose()
        ratio = at_scale / alone
        verdict = "OK" if ratio <= SUMMARY_TARGET else "ABOVE TARGET"
        print(f"25-rep summary: {at_scale * 1000:.1f} ms at full size vs {alone * 1000:.1f} ms with only "
              f"that team's data: ratio {ratio:.2f} (target <= {SUMMARY_TARGET}) {verdict}")
        summary_ack, hello_ack = ack_latencies(big, args.rounds)
        ratio = summary_ack / hello_ack
        verdict = "OK" if ratio <= ACK_TARGET else "ABOVE TARGET"
        print(f"HTTP ack: /checkin summary {summary_ack * 1000:.1f} ms vs bare Bolt /hello "
              f"{hello_ack * 1000:.1f} ms (medians): ratio {ratio:.2f} (target <= {ACK_TARGET}) {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
