"""Several processes on one database, as deployed: `dispatch` workers and HTTP replicas.

- A `dispatch` stopped by SIGTERM mid-pass finishes the posts in flight, gives back what it had not
  started, and exits 0 well within a platform's 30 s grace; the next worker sends the rest, once.
- On PostgreSQL: three `serve --http --no-scheduler` replicas take slash commands and answer
  clicks (signed, spread round-robin as a load balancer would) while two `dispatch` workers send
  500 check-ins, one of them SIGKILLed mid-pass. Every check-in reaches its rep exactly once and
  every answer given through a replica is in the database.

Real subprocesses against the sandbox on the real clock; the test sees what an operator would.
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from sandbox import Sandbox
from sandbox.client import Transport, http_transport
from storage.models import Answer, CheckIn, Goal, OutboxMessage, OutboxState, User
from storage.people import sync_config_teams
from storage.schedules import insert_checkins_once
from tests.e2e.real_clock import checkin_bot, every_hour_config

pytestmark = pytest.mark.slow

MANAGER = "U0MANAGER"
SECRET = "replicas-signing-secret"
BOT_TOKEN = "xoxb-1111-2222-replicas"
GRACE_SECONDS = 30  # Kubernetes' default terminationGracePeriodSeconds


def rep(i: int) -> str:
    return f"U0R{i:05d}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(sandbox: Sandbox, sessions: sessionmaker[Session], tmp_path: Path, reps: list[str]) -> None:
    """The reps in a team whose hours hold nothing back, each with a check-in due a minute ago."""
    now = dt.datetime.now(dt.UTC)
    text = every_hour_config(now, "Fleet", MANAGER, reps)
    (tmp_path / "checkins.toml").write_text(text)
    for user in [MANAGER, *reps]:
        sandbox.add_user(user, name=user.lower(), tz="UTC")
    with sessions.begin() as session:
        sync_config_teams(session, sandbox.team_id, parse_config(text, "replicas"), now)
        session.execute(update(User).values(tz="UTC", tz_refreshed_at=now))
        insert_checkins_once(session, [{
            "team_id": sandbox.team_id, "rep_id": r, "kind": "scheduled", "due_at": now - dt.timedelta(minutes=1),
            "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1)}
            for r in reps])


def bot_env(sandbox: Sandbox, database_url: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CHECKINS_", "LOG_", "METRICS_"))
           and k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PORT")}
    env.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": sandbox.api_url, "DATABASE_URL": database_url,
                "SLACK_SIGNING_SECRET": SECRET, "CHECKINS_CONFIG": str(tmp_path / "checkins.toml"),
                "LOG_LEVEL": "WARNING", "PYTHONUNBUFFERED": "1"})
    return env


def start(args: list[str], env: dict[str, str], cwd: Path, log: Path) -> subprocess.Popen[str]:
    with log.open("w") as sink:
        return subprocess.Popen([*checkin_bot(), *args], cwd=cwd, env=env, stdout=sink, stderr=subprocess.STDOUT,
                                text=True)


def prompt_counts(sandbox: Sandbox) -> Counter[int]:
    """chat.postMessage calls Slack carried out for check-in prompts, per outbox row."""
    return Counter(int(c.args["metadata"]["event_payload"]["outbox_id"]) for c in sandbox.calls_to("chat.postMessage")
                   if (c.args.get("metadata") or {}).get("event_type") == "checkin_prompt")


def outbox_states(sessions: sessionmaker[Session]) -> dict[OutboxState, int]:
    """The states of the check-ins due now (not those the passes planned for the next slot)."""
    with sessions.begin() as session:
        return {state: n for state, n in session.execute(
            select(OutboxMessage.state, func.count()).where(OutboxMessage.kind == "checkin_prompt",
                                                           OutboxMessage.not_before <= dt.datetime.now(dt.UTC))
            .group_by(OutboxMessage.state)).all()}


def dispatch_once(env: dict[str, str], cwd: Path, log: Path) -> None:
    process = start(["dispatch"], env, cwd, log)
    assert process.wait(timeout=90) == 0, log.read_text()[-3000:]


@pytest.fixture
def live() -> Iterator[Sandbox]:
    # The real clock: the processes stamp their claims with the system time.
    with Sandbox.start() as sb:
        yield sb


@pytest.mark.parametrize("command", ["dispatch", "serve"])
def test_sigterm_mid_pass_gives_back_what_was_not_started_and_the_next_worker_sends_it_once(
    live: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path, command: str
) -> None:
    reps = [rep(i) for i in range(80)]
    prepare(live, sessions, tmp_path, reps)
    env = bot_env(live, database_url, tmp_path)
    live.faults.latency(0.4, method="chat.postMessage")  # 80 posts, 16 at a time: about 2 s of sending
    log = tmp_path / "stopped.log"
    # `serve` runs its scheduler's first pass at start-up; `dispatch` is one pass.
    args = ["dispatch"] if command == "dispatch" else ["serve", "--http", "--port", str(free_port())]
    process = start(args, env, tmp_path, log)
    try:
        live.wait_for(lambda: len(prompt_counts(live)) >= 16 or process.poll() is not None, timeout=60)
        assert process.poll() is None, log.read_text()[-3000:]
        stopped_at = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=GRACE_SECONDS)
        took = time.monotonic() - stopped_at
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=5)
    assert code == 0, log.read_text()[-3000:]
    assert took < 10, f"took {took:.1f} s to stop"
    states = outbox_states(sessions)
    # Whatever it had posted is recorded; nothing is left claimed; the rest is due again at once.
    assert OutboxState.CLAIMED not in states, states
    assert states.get(OutboxState.SENT, 0) == len(prompt_counts(live)), states
    assert 0 < states.get(OutboxState.PENDING, 0) < len(reps), states
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.state == "sending")) == 0

    live.faults.clear()
    dispatch_once(env, tmp_path, tmp_path / "next.log")
    counts = prompt_counts(live)
    assert len(counts) == len(reps) and set(counts.values()) == {1}, counts.most_common(3)
    assert outbox_states(sessions) == {OutboxState.SENT: len(reps)}
    live.assert_no_violations()


def round_robin(urls: list[str]) -> Transport:
    """A load balancer: each request to the next replica in turn."""
    replicas = itertools.cycle([http_transport(url, timeout=20.0) for url in urls])
    lock = threading.Lock()

    def send(body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
        with lock:
            transport = next(replicas)
        return transport(body, headers)

    return send


def ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as resp:  # noqa: S310
            return bool(resp.status == 200)
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


# Recovery's lookups are paced at Tier 3 (about 47 a minute, handlers.recovery): the killed worker's
# chunks under way (up to 64 people, each a conversations.open and a history walk) take minutes.
@pytest.mark.timeout(480)
def test_three_replicas_and_two_workers_one_killed_deliver_each_checkin_once_and_lose_no_answer(
    live: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes sending at once need PostgreSQL (TEST_DATABASE_URL)")
    reps = [rep(i) for i in range(500)]
    prepare(live, sessions, tmp_path, reps)
    env = bot_env(live, database_url, tmp_path)
    processes: list[tuple[subprocess.Popen[str], Path]] = []
    workers: list[Worker] = []
    try:
        ports = [free_port() for _ in range(3)]
        for n, port in enumerate(ports):
            log = tmp_path / f"replica{n}.log"
            processes.append((start(["serve", "--http", "--no-scheduler", "--port", str(port)], env, tmp_path, log),
                              log))
        for (process, log), port in zip(processes, ports, strict=True):
            live.wait_for(lambda p=process, q=port: ready(q) or p.poll() is not None, timeout=60, interval=0.1)
            assert process.poll() is None, log.read_text()[-3000:]
        slack = live.client(round_robin([f"http://127.0.0.1:{p}/slack/events" for p in ports]), SECRET,
                            timeout=20.0)

        # Slack takes a while over each post, so a pass lasts a few seconds.
        live.faults.latency(0.2, method="chat.postMessage")
        workers = [Worker(env, tmp_path, n) for n in range(2)]
        for worker in workers:
            worker.start()
        live.wait_for(lambda: len(prompt_counts(live)) >= 100, timeout=60, interval=0.05)
        # The worker holding claims is killed mid-pass: some of its posts in flight, others not started.
        holders = claim_holders(sessions)
        victim = next(w for w in workers if w.current is not None and w.current.pid in holders)
        victim.kill_current()
        killed = len(prompt_counts(live)) < len(reps)
        answered: dict[str, str] = {}
        goals: dict[str, str] = {}
        # While the other one sends: reps answer the check-ins that reached them (a click opens the
        # answer modal through one replica, the submission lands on the next) and add goals.
        for i, who in enumerate(reps[:60]):
            if i % 3 == 0:
                goal = f"Goal {i}: renew the Initech account"
                assert slack.slash(f"goal add {goal}", user=who).status == 200
                goals[who] = goal
                continue
            # A person reads the DM before answering; by then the worker has recorded it as sent.
            live.wait_for(lambda w=who: recorded_sent(sessions, w), timeout=200, interval=0.05)
            assert slack.click("checkin_answer", user=who, message=prompt_of(live, who)[0]).status == 200
            view = live.wait_for(lambda w=who: next((v for v in live.views_of(w) if v["type"] == "modal"), None),
                                 timeout=20)
            text = f"Answer {i}: the pilot starts Monday"
            assert slack.submit_view(view, {"answer": {"answer_text": text}}, user=who).status == 200
            answered[who] = text
        assert killed, "the worker was killed mid-pass"

        # The workers go on as cron runs them, a pass after another: the next pass takes over the dead
        # worker's claims at once (same host, process gone): the posts Slack has are found by their
        # outbox_id and marked sent, the others are sent then.
        live.faults.clear()
        live.wait_for(lambda: outbox_states(sessions) == {OutboxState.SENT: len(reps)}, timeout=240, interval=0.2)
        for worker in workers:
            worker.finish()
        # Every pass ended well but the one that was killed.
        assert sorted(code for worker in workers for code in worker.codes)[:2] == [-signal.SIGKILL, 0], \
            [w.output() for w in workers]
        assert set(code for worker in workers for code in worker.codes) == {-signal.SIGKILL, 0}
        # A later pass took the dead worker's claims over (found in Slack, or given back and sent).
        summaries = "".join(w.output() for w in workers)
        assert "recovered" in summaries or "released" in summaries, summaries

        counts = prompt_counts(live)
        assert len(counts) == len(reps), f"{len(reps) - len(counts)} check-ins never delivered"
        assert set(counts.values()) == {1}, f"delivered twice: {[i for i, n in counts.items() if n > 1][:10]}"
        assert outbox_states(sessions) == {OutboxState.SENT: len(reps)}
        with sessions.begin() as session:
            stored = dict(session.execute(select(Answer.rep_id, Answer.text)).all())
            added = dict(session.execute(select(Goal.rep_id, Goal.text)).all())
        assert stored == answered
        assert added == goals
        for process, log in processes:
            assert process.poll() is None, log.read_text()[-3000:]
        live.assert_no_violations()
    finally:
        for worker in workers:
            worker.finish()
        for process, _ in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, _ in processes:
            try:
                process.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()


def prompt_of(sandbox: Sandbox, user: str) -> list:  # type: ignore[type-arg]
    return [m for m in sandbox.dms_to(user) if m.event_type == "checkin_prompt"]


def recorded_sent(sessions: sessionmaker[Session], user: str) -> bool:
    with sessions.begin() as session:
        return bool(session.scalar(select(func.count()).select_from(CheckIn).where(CheckIn.rep_id == user,
                                                                                    CheckIn.state == "sent")))


def claim_holders(sessions: sessionmaker[Session]) -> set[int]:
    """The process ids that hold claimed outbox rows (claimed_by is host:pid:random)."""
    with sessions.begin() as session:
        tokens = session.scalars(select(OutboxMessage.claimed_by).where(OutboxMessage.state == OutboxState.CLAIMED))
        return {int(t.split(":")[1]) for t in tokens if t}


class Worker(threading.Thread):
    """A dispatch worker as cron runs it: `checkin-bot dispatch`, again as soon as a pass ends."""

    def __init__(self, env: dict[str, str], cwd: Path, n: int) -> None:
        super().__init__(name=f"worker{n}", daemon=True)
        self.env, self.cwd, self.n = env, cwd, n
        self.current: subprocess.Popen[str] | None = None
        self.codes: list[int] = []
        self.logs: list[Path] = []
        self.done = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.done.is_set():
            log = self.cwd / f"worker{self.n}-{len(self.logs)}.log"
            with self.lock:
                if self.done.is_set():
                    return
                self.current = start(["dispatch"], self.env, self.cwd, log)
                self.logs.append(log)
            self.codes.append(self.current.wait())
            time.sleep(0.2)

    def kill_current(self) -> None:
        with self.lock:
            assert self.current is not None and self.current.poll() is None
            self.current.send_signal(signal.SIGKILL)
            self.current.wait(timeout=10)  # reaped: the next pass on this host sees it is gone

    def finish(self) -> None:
        with self.lock:
            self.done.set()
        self.join(timeout=90)

    def output(self) -> str:
        return "".join(log.read_text()[-1000:] for log in self.logs)


def requests_counted(port: int) -> float:
    """The checkin_requests_total a process reports on its metrics port."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as resp:  # noqa: S310
            text = resp.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return -1.0
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("checkin_requests_total{"))


def test_two_socket_mode_processes_share_the_envelopes_and_an_event_sent_to_both_counts_once(
    live: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    reps = [rep(i) for i in range(4)]
    prepare(live, sessions, tmp_path, reps)
    env = {**bot_env(live, database_url, tmp_path), "SLACK_APP_TOKEN": "xapp-1-A0SANDBOX-3333-replicas"}
    ports = [free_port() for _ in range(2)]
    processes = [(start(["serve", "--no-scheduler", "--metrics-port", str(port)], env, tmp_path,
                        tmp_path / f"socket{n}.log"), tmp_path / f"socket{n}.log") for n, port in enumerate(ports)]
    try:
        server = live.socket_server
        live.wait_for(lambda: server.connection_count == 2 or any(p.poll() is not None for p, _ in processes),
                      timeout=60, interval=0.1)
        assert server.connection_count == 2, [log.read_text()[-2000:] for _, log in processes]
        server.spread = True  # each envelope to one connection, in turn
        slack = live.client(socket=True, timeout=20.0)
        for n, who in enumerate(reps):
            assert slack.slash(f"goal add Goal {n}: expand the Umbrella account", user=who).status == 200
        # Both processes took envelopes.
        assert all(requests_counted(port) >= 1 for port in ports), [requests_counted(p) for p in ports]
        # Slack retries an event it thinks was lost, maybe on the other connection: it counts once.
        with sessions.begin() as session:
            session.execute(update(CheckIn).values(state="sent", sent_at=dt.datetime.now(dt.UTC)))
        assert slack.dm(reps[0], "Signed the pilot today.", event_id="Ev0REPLICA").status == 200
        assert slack.resend("Ev0REPLICA").status == 200
        live.wait_for(lambda: answers_of(sessions, reps[0]), timeout=20, interval=0.1)
        time.sleep(1.0)  # the retry, had it been handled, would have been by now
        with sessions.begin() as session:
            added = sorted(session.scalars(select(Goal.text)))
        assert added == sorted(f"Goal {n}: expand the Umbrella account" for n in range(len(reps)))
        assert answers_of(sessions, reps[0]) == ["Signed the pilot today."]
        assert len(live.calls_to("reactions.add")) == 1, "the answer was handled once: one thank-you"
        assert sum(requests_counted(port) for port in ports) >= len(reps) + 2
    finally:
        for process, _ in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process, log in processes:
            try:
                assert process.wait(timeout=GRACE_SECONDS) == 0, log.read_text()[-2000:]
            except subprocess.TimeoutExpired:
                process.kill()
                raise


def answers_of(sessions: sessionmaker[Session], user: str) -> list[str]:
    with sessions.begin() as session:
        return list(session.scalars(select(Answer.text).where(Answer.rep_id == user)))
