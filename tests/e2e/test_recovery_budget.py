"""Crash recovery is cheap and paced: a worker that died mid-fan-out costs one lookup per DM that may
have received a post, within the workspace's Tier 3 budget, and every check-in lands exactly once.

The worker dies in-process, as a SIGKILL would leave it: Slack carries its posts out at once but
answers only later, and at the moment of death the worker can write nothing more (its database
sessions refuse) and starts nothing more (`stopping`), so its claims stay as they were. Chunks are
made small here (two posting at once, four recipients a chunk) so that one small team shows all
three kinds of claim: posted, marked started but never posted, and never marked.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import threading
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import ManualClock
from core.config import parse_config
from core.services import Services
from handlers import delivery
from handlers.recovery import recover
from sandbox import RateLimits, Sandbox
from scheduling.report import PassReport
from storage import outbox
from storage.budget import budget_for
from storage.models import OutboxKind, OutboxMessage, OutboxState, User
from storage.people import sync_config_teams
from storage.schedules import insert_checkins_once
from tests.e2e.real_clock import every_hour_config
from wiring.harness import BotHarness

REPS = [f"U0REP{i:02d}" for i in range(12)]
POSTED_BEFORE = set(REPS[::2])  # Slack told us their DM's id when an earlier message reached them


class Died(Exception):
    """The worker's process is gone: it writes nothing more."""


class Mortal:
    """The worker's sessionmaker until it dies."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        self.dead = threading.Event()

    def begin(self) -> Any:
        if self.dead.is_set():
            raise Died()
        return self.sessions.begin()

    def __call__(self) -> Session:
        if self.dead.is_set():
            raise Died()
        return self.sessions()


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox.start(rate_limits=RateLimits()) as sb:
        yield sb


def prompt_posts(sandbox: Sandbox) -> Counter[int]:
    return Counter(c.args["metadata"]["event_payload"]["checkin_id"] for c in sandbox.calls_to("chat.postMessage")
                   if c.ok and (c.args.get("metadata") or {}).get("event_type") == "checkin_prompt")


def set_up(sandbox: Sandbox, sessions: sessionmaker[Session], now: dt.datetime) -> tuple[Any, list[int]]:
    config = parse_config(every_hour_config(now, "Crash", "U0MANAGER", REPS), "crash")
    sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    for rep in REPS:
        sandbox.add_user(rep, name=rep.lower(), tz="UTC")
    with sessions.begin() as session:
        sync_config_teams(session, sandbox.team_id, config, now)
        session.execute(update(User).values(tz="UTC", tz_refreshed_at=now))
        for rep in sorted(POSTED_BEFORE):
            session.add(OutboxMessage(team_id=sandbox.team_id, kind=str(OutboxKind.THANKS), recipient=rep,
                                      dedupe_key=f"earlier:{rep}", payload="{}", not_before=now - dt.timedelta(days=2),
                                      state=OutboxState.SENT, attempts=1, deferrals=0, channel=sandbox.im_channel(rep),
                                      ts="1.000001", sent_at=now - dt.timedelta(days=2),
                                      created_at=now - dt.timedelta(days=2)))
        ids = sorted(insert_checkins_once(session, [
            {"team_id": sandbox.team_id, "rep_id": rep, "kind": "scheduled", "due_at": now - dt.timedelta(minutes=1),
             "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1)}
            for rep in REPS]))
    return config, ids


def die_mid_fan_out(bot: BotHarness, sandbox: Sandbox, now: dt.datetime, monkeypatch: pytest.MonkeyPatch,
                    posted: int) -> None:
    """A drain (two posts at once, chunks of four recipients) dies once Slack holds `posted` posts."""
    monkeypatch.setattr(delivery, "CHUNK", 4)
    mortal = Mortal(bot.services.sessions)
    worker: Services = dataclasses.replace(bot.services, sessions=mortal, stopping=threading.Event())  # type: ignore[arg-type]
    sandbox.faults.slow_reply(2.0, "chat.postMessage")
    died: list[BaseException] = []

    def run() -> None:
        try:
            delivery.drain(worker, now, concurrency=2)
        except Died as exc:
            died.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    sandbox.wait_for(lambda: len(sandbox.calls_to("chat.postMessage")) >= posted, timeout=20)
    worker.stopping.set()  # starts nothing more...
    mortal.dead.set()  # ...and records nothing
    thread.join(timeout=20)
    assert not thread.is_alive() and died, "the worker died before recording its posts"
    sandbox.faults.clear()
    monkeypatch.undo()


def claims(sessions: sessionmaker[Session], ids: list[int]) -> dict[int, tuple[str, bool]]:
    with sessions.begin() as session:
        return {r.checkin_id: (r.state, r.started) for r in session.scalars(
            select(OutboxMessage).where(OutboxMessage.checkin_id.in_(ids)))}


def lookups(sandbox: Sandbox) -> tuple[list[str], list[str]]:
    """(users conversations.open was asked for, channels conversations.history walked)."""
    return ([str(c.args.get("users")) for c in sandbox.calls_to("conversations.open")],
            [str(c.args.get("channel")) for c in sandbox.calls_to("conversations.history")])


def test_a_worker_dead_mid_fan_out_costs_one_paced_lookup_per_dm_it_may_have_posted_to(
    sandbox: Sandbox, database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    config, ids = set_up(sandbox, sessions, now)
    with BotHarness(sandbox, database_url, config, clock=ManualClock(now), http=False) as bot:
        die_mid_fan_out(bot, sandbox, now, monkeypatch, posted=2)
        held = claims(sessions, ids)
        assert {state for state, _ in held.values()} == {OutboxState.CLAIMED}
        started = {i for i, (_, s) in held.items() if s}
        posted = set(prompt_posts(sandbox))
        # Two chunks of four were marked before their posts could begin; two posts reached Slack.
        assert len(posted) == 2 and posted < started and len(started) == 8, (posted, started)
        with sessions.begin() as session:
            rep_of = dict(session.execute(select(OutboxMessage.checkin_id, OutboxMessage.recipient)
                                          .where(OutboxMessage.checkin_id.in_(ids))).all())
        maybe = {rep_of[i] for i in started}
        assert maybe & POSTED_BEFORE and maybe - POSTED_BEFORE, "both kinds of recipient among the started"

        before = len(sandbox.calls)
        # The worker's claims are trusted until their lease ends (its process looks alive here).
        later = now + outbox.LEASE + dt.timedelta(minutes=1)
        report = bot.dispatch(later)
        for _ in range(3):  # what one pass could not look up within its budget, the next one does
            if report.get("recovered") + report.get("released") < len(REPS):
                report.merge(bot.dispatch(later))

    opened, walked = lookups(sandbox)
    # conversations.open only for someone never posted to; one history walk per DM that may have a post.
    assert sorted(opened) == sorted(maybe - POSTED_BEFORE)
    assert sorted(walked) == sorted({sandbox.im_channel(r) for r in maybe})
    assert report.get("recovered") == 2
    assert report.get("released") == len(REPS) - 2
    assert report.get("released_unstarted") == len(REPS) - len(started)
    assert prompt_posts(sandbox) == Counter({i: 1 for i in ids}), "each check-in posted exactly once"
    assert [c for c in sandbox.calls[before:] if c.status == 429] == [], "paced: Slack never answered 429"
    with sessions.begin() as session:
        assert set(session.scalars(select(OutboxMessage.state).where(OutboxMessage.checkin_id.in_(ids)))) \
            == {OutboxState.SENT}
    sandbox.assert_no_violations()


def test_a_lookup_without_budget_leaves_its_claims_for_the_next_pass(
    sandbox: Sandbox, database_url: str, sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    now = dt.datetime.now(dt.UTC)
    config, ids = set_up(sandbox, sessions, now)
    with BotHarness(sandbox, database_url, config, clock=ManualClock(now), http=False) as bot:
        die_mid_fan_out(bot, sandbox, now, monkeypatch, posted=2)
        started = {i for i, (_, s) in claims(sessions, ids).items() if s}
        later = now + outbox.LEASE + dt.timedelta(minutes=1)
        # Another worker met a 429 on conversations.history: the method is paused for every worker.
        budget, _ = budget_for(bot.services.engine)
        budget.pause(sandbox.team_id, "conversations.history", 3.0)
        report = PassReport()
        recover(bot.services, later, report, max_wait=0.5)
        held = claims(sessions, ids)
        # Nothing was guessed: the possibly-posted claims are still claimed; the unstarted went back.
        assert {i for i, (state, _) in held.items() if state == OutboxState.CLAIMED} == started
        assert sandbox.calls_to("conversations.history") == []
        assert report.get("released") == report.get("released_unstarted") == len(REPS) - len(started)
        assert report.get("recovery_deferred") == len(started)

        sandbox.wait_for(lambda: not budget.paused(sandbox.team_id, "conversations.history"), timeout=10)
        again = bot.dispatch(later)
        for _ in range(3):
            if again.get("recovered") + again.get("released") < len(started):
                again.merge(bot.dispatch(later))
    assert again.get("recovered") == 2 and again.get("released") == len(started) - 2
    assert prompt_posts(sandbox) == Counter({i: 1 for i in ids}), "each check-in posted exactly once"
    sandbox.assert_no_violations()


def test_an_edit_whose_worker_died_is_made_again_without_a_lookup(bot: BotHarness, sandbox: Sandbox) -> None:
    """An edit posts nothing new (and its message is older than its row): looking for it would find
    nothing and spend the Tier 3 budget, so it is given back to be made again."""
    now = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    sandbox.add_user("U0REP01", name="rep", tz="UTC")
    with bot.services.sessions.begin() as session:
        session.add(OutboxMessage(team_id=sandbox.team_id, kind=str(OutboxKind.CHECKIN_CLOSED), recipient="U0REP01",
                                  dedupe_key="closed:1", payload='{"checkin_id": 1, "note": "Skipped."}',
                                  not_before=now - dt.timedelta(minutes=30), state=OutboxState.CLAIMED,
                                  claimed_by="elsewhere:1:gone", lease_until=now - dt.timedelta(minutes=5),
                                  started=True, attempts=1, deferrals=0, created_at=now - dt.timedelta(minutes=30)))
    report = PassReport()
    recover(bot.services, now, report)
    assert not sandbox.calls_to("conversations.history") and not sandbox.calls_to("conversations.open")
    with bot.services.sessions.begin() as session:
        [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.dedupe_key == "closed:1"))
        assert row.state == OutboxState.PENDING and row.not_before <= now
