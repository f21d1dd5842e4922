"""A dispatch process killed between Slack's send and its own database commit sends nothing twice.

For real: `checkin-bot dispatch` runs as a process; the sandbox carries each chat.postMessage out
at once but answers it only 3 s later, and the process is SIGKILLed inside that window, once Slack
holds the messages and the database still says 'sending'. The next pass (well within the claim
lease, since the claimant's process is known to be gone) finds
those messages in the DMs by their metadata (conversations.history) and marks the rows sent; the
rows whose post never started are released and sent, once.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from core.clock import ManualClock
from core.config import parse_config
from handlers.delivery import CONCURRENCY
from sandbox import RateLimits, Sandbox
from storage.models import CheckIn, OutboxMessage, User
from storage.people import sync_config_teams
from storage.schedules import insert_checkins_once
from tests.e2e.real_clock import every_hour_config, kill_dispatch_once
from wiring.harness import BotHarness

REPS = [f"U0REP{i:02d}" for i in range(CONCURRENCY + 4)]  # four more than the process posts at once


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # On the real clock: the killed process stamps its claims with the system time, and the
    # recovery searches the DMs from there, so message timestamps must be on the same clock.
    # Slack's rate limits on: recovery's lookups must stay under them, like every other call.
    with Sandbox.start(rate_limits=RateLimits()) as sb:
        yield sb


def config_text(now: dt.datetime) -> str:
    return every_hour_config(now, "Crash", "U0MANAGER", REPS)



def prompt_posts(sandbox: Sandbox) -> Counter[int]:
    return Counter(c.args["metadata"]["event_payload"]["checkin_id"] for c in sandbox.calls_to("chat.postMessage")
                   if c.ok and (c.args.get("metadata") or {}).get("event_type") == "checkin_prompt")


def test_a_process_killed_after_the_send_and_before_the_commit_sends_nothing_twice(
    sandbox: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    text = config_text(now)
    config = parse_config(text, "crash")
    (tmp_path / "checkins.toml").write_text(text)
    sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    for rep in REPS:
        sandbox.add_user(rep, name=rep.lower(), tz="UTC")
    with sessions.begin() as session:
        sync_config_teams(session, sandbox.team_id, config, now)
        session.execute(update(User).values(tz="UTC", tz_refreshed_at=now))
        ids = sorted(insert_checkins_once(session, [
            {"team_id": sandbox.team_id, "rep_id": rep, "kind": "scheduled", "due_at": now - dt.timedelta(minutes=1),
             "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1)}
            for rep in REPS]))

    sandbox.faults.slow_reply(3.0, "chat.postMessage")
    # Every posting thread has had its message carried out by Slack and waits for the answer.
    kill_dispatch_once(sandbox, database_url, tmp_path,
                       lambda: len(sandbox.calls_to("chat.postMessage")) >= CONCURRENCY, timeout=30)

    delivered = prompt_posts(sandbox)
    assert len(delivered) == CONCURRENCY and set(delivered.values()) == {1}
    with sessions.begin() as session:
        states = Counter(session.scalars(select(CheckIn.state).where(CheckIn.id.in_(ids))))
    assert states == Counter({"sending": len(REPS)}), "the process died before recording any send"

    with sessions.begin() as session:
        # The killed process's claims, and until when they are trusted (from when it claimed them).
        leases = set(session.scalars(select(OutboxMessage.lease_until).where(OutboxMessage.checkin_id.in_(ids))))
    assert len(leases) == 1 and None not in leases
    lease_end = leases.pop()

    with sessions.begin() as session:
        # The chunks whose posts were allowed to begin: recovery looks only in these people's DMs.
        maybe = set(session.scalars(select(OutboxMessage.recipient).where(OutboxMessage.checkin_id.in_(ids),
                                                                          OutboxMessage.started.is_(True))))
    assert len(maybe) >= CONCURRENCY
    before = len(sandbox.calls)

    sandbox.faults.clear()
    # Well inside the lease: the claims were this host's, and their process is gone, so the next
    # pass need not wait the lease out (a live worker's claims it leaves alone, see below).
    soon = ManualClock(now + dt.timedelta(minutes=1))
    with BotHarness(sandbox, database_url, config, clock=soon, http=False) as bot:
        report = bot.dispatch()
        # The lookups are paced at Tier 3 (about 50 a minute): what a pass could not look up in
        # time it leaves claimed, and the next pass settles it.
        for _ in range(3):
            if report.get("recovered") + report.get("released") < len(REPS):
                report.merge(bot.dispatch())
        again = bot.dispatch(lease_end + dt.timedelta(minutes=1))

    assert report.get("recovered") == CONCURRENCY
    assert report.get("released") == report.get("sent") == len(REPS) - CONCURRENCY
    assert again.get("sent") == again.get("recovered") == 0
    posts = prompt_posts(sandbox)
    assert posts == Counter({checkin_id: 1 for checkin_id in ids}), "each check-in posted exactly once"
    lookups = sandbox.calls_to("conversations.history")
    assert lookups and all(c.args.get("include_all_metadata") in (True, "true", "1", 1) for c in lookups)
    # One walk per DM that may hold a post, and no more; within Slack's limits throughout.
    assert sorted(str(c.args.get("channel")) for c in lookups) == sorted(sandbox.im_channel(r) for r in maybe)
    assert len(sandbox.calls_to("conversations.open")) <= len(maybe)
    assert [c.method for c in sandbox.calls[before:] if c.status == 429] == []
    messages = {m.event_payload["checkin_id"]: m for m in sandbox.messages() if m.event_type == "checkin_prompt"}
    assert sorted(messages) == ids
    with sessions.begin() as session:
        for row in session.scalars(select(CheckIn).where(CheckIn.id.in_(ids))):
            assert row.state == "sent", row.id
            assert (row.channel, row.message_ts) == (messages[row.id].channel, messages[row.id].ts)
    sandbox.assert_no_violations()
