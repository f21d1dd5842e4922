"""The incremental drift step gives the warnings a full evaluation gives, on the same passes.

Two databases live through the same month of events (check-ins sent, answers, thanks, ad-hoc
questions, pauses, goals), written the way the bot writes them. Before each pass one of them
loses its mark of the last pass, so it walks every pair as every pass used to; the other skips
the pairs with nothing due. Their warnings, re-arming and admin aggregates must be identical.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from coaching.drift import compute_signals, is_rearmed, next_change
from core.config import parse_config
from core.services import Services
from core.settings import Settings
from handlers.delivery import drain
from scheduling.report import PassReport
from scheduling.warnings import enqueue_warnings, org_states, thresholds_of
from storage import checkins, goals, guard, guard_history, lifecycle
from storage.changes import SCAN_MARGIN, touch_reps
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import (
    Answer,
    CheckIn,
    CoachingNote,
    PairState,
    User,
    WarningSent,
    Workspace,
)
from storage.people import get_user, sync_config_teams
from tests.inline_transport import InlineTransport

T = "T0TEST"
START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CONFIG = parse_config("""
[guard]
contact_gap_days = 4
warning_cooldown_days = 3
max_touches_per_rep_per_week = 2

[[teams]]
name = "West"
manager = "U0MGR1"
members = ["U0REP1", "U0REP2", "U0REP3"]

[[teams]]
name = "East"
manager = "U0MGR2"
members = ["U0REP3", "U0REP4"]
""")
REPS = ["U0REP1", "U0REP2", "U0REP3", "U0REP4"]


class FakeSlack:
    def __init__(self) -> None:
        self.posts: list[tuple[str, str, Any]] = []

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - the WebClient's name
        self.posts.append((kwargs["channel"], kwargs["metadata"]["event_type"], kwargs["metadata"]["event_payload"]))
        return {"ok": True, "channel": "D0X", "ts": f"{len(self.posts)}.000"}


@dataclass
class Bot:
    engine: Engine
    sessions: sessionmaker[Session]
    slack: FakeSlack
    services: Services
    full: bool
    log: list[tuple[dt.datetime, str, str, Any]]

    def run(self, now: dt.datetime) -> None:
        if self.full:
            with self.sessions.begin() as session:
                session.execute(update(Workspace).values(scanned_at=None))
        before = len(self.slack.posts)
        report = PassReport()
        enqueue_warnings(self.services, now, report)
        drain(self.services, now, report, transport=InlineTransport)
        self.log += [(now, *post) for post in self.slack.posts[before:]]


def make_bot(tmp_path: Path, name: str, full: bool) -> Bot:
    engine = make_engine(f"sqlite:///{tmp_path / name}")
    upgrade(engine)
    sessions = make_session_factory(engine)
    slack = FakeSlack()
    services = Services(settings=Settings(), config=CONFIG, engine=engine, sessions=sessions,
                        client=slack, team_id=T)  # type: ignore[arg-type]
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, START)
        for user in session.scalars(select(User)):
            user.created_at = START - dt.timedelta(days=1)
    return Bot(engine, sessions, slack, services, full, [])


def apply(session: Session, event: tuple[str, str, int], now: dt.datetime) -> None:
    """One event, written as the bot's own code paths write it."""
    kind, rep, n = event
    if kind == "sent":
        session.add(CheckIn(team_id=T, rep_id=rep, kind="scheduled", due_at=now, state="sent", attempts=1,
                            snooze_count=0, sent_at=now, channel=rep, message_ts=f"{now.timestamp()}", created_at=now))
    elif kind == "answer":
        open_one = checkins.open_checkin(session, T, rep)
        if open_one is not None:
            checkins.record_answer(session, open_one, "On track", "modal", now)
    elif kind == "thanks":
        answer = session.scalar(select(Answer).where(Answer.rep_id == rep).order_by(Answer.id.desc()).limit(1))
        if answer is not None:
            manager = "U0MGR2" if rep == "U0REP4" else "U0MGR1"
            session.add(CoachingNote(team_id=T, answer_id=answer.id, manager_id=manager, rep_id=rep, kind="thanks",
                                     text=None, created_at=now))
            touch_reps(session, T, [rep])
    elif kind == "question":
        manager = "U0MGR2" if rep == "U0REP4" else "U0MGR1"
        label = "status_demand" if n % 3 else "coaching"
        question = guard.add_question(session, T, manager, rep, f"Where is the pipeline? {n}", label, None, [], now)
        guard.claim_question(session, question.id, now, overridden=False, used_suggestion=False)
        checkin_id = guard.open_adhoc_checkin(session, T, rep, manager, question.id, question.text, now)
        ts = f"{now.timestamp()}.{n}"
        lifecycle.mark_sent(session, [(checkin_id, rep, ts, now)])  # as the outbox worker does
        guard.question_delivered(session, question.id, rep, ts, now)
    elif kind == "pause":
        user = get_user(session, T, rep)
        assert user is not None
        checkins.pause(session, user, now + dt.timedelta(days=2))
    elif kind == "goal":
        goals.add_goal(session, T, rep, f"Grow the pipeline in region {n}", now)


def test_the_incremental_step_warns_exactly_as_a_full_walk(tmp_path: Path) -> None:
    full, incremental = make_bot(tmp_path, "full.db", True), make_bot(tmp_path, "inc.db", False)
    rng = random.Random(17)
    kinds = ["sent", "sent", "answer", "answer", "thanks", "question", "pause", "pause", "goal"]
    now = START
    evaluated_pairs = 0
    for step in range(24 * 30 // 3):  # a pass every three hours for thirty days
        now = START + dt.timedelta(hours=3 * step)
        if rng.random() < 0.3:
            event = (rng.choice(kinds), rng.choice(REPS), step)
            for bot in (full, incremental):
                with bot.sessions.begin() as session:
                    apply(session, event, now)
        for bot in (full, incremental):
            bot.run(now)
        with incremental.sessions.begin() as session:
            evaluated_pairs += len(session.scalars(select(PairState).where(PairState.evaluated_at == now)).all())
        if step % 2 == 0:
            with full.sessions.begin() as a, incremental.sessions.begin() as b:
                assert org_states(b, CONFIG, T, now) == org_states(a, CONFIG, T, now)
    assert len(full.log) >= 5  # the scenario does warn, several times
    # Posts to different people go out side by side, so within a pass their order is not defined.
    assert sorted(incremental.log, key=repr) == sorted(full.log, key=repr)
    with full.sessions.begin() as a, incremental.sessions.begin() as b:
        def rows(session: Session) -> list[tuple[Any, ...]]:
            return [(w.manager_id, w.rep_id, w.signal, w.sent_at, w.rearmed)
                    for w in session.scalars(select(WarningSent).order_by(WarningSent.id))]
        assert rows(b) == rows(a)
    # ...while most passes left most pairs alone (5 pairs x 240 passes for the full walk).
    assert evaluated_pairs < 5 * 240 / 2


def test_a_contact_gap_is_computed_at_its_moment_and_warned_on_the_same_pass(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, "gap.db", False)
    # Weekly reps: the gap is 1.5 agreed intervals (10.5 days), above the 4-day floor. Starting at
    # 21:00 puts the moment it is reached at 09:00, inside the managers' hours.
    begin = START + dt.timedelta(hours=12)
    with bot.sessions.begin() as session:
        for rep in REPS:
            apply(session, ("sent", rep, 0), begin)
    bot.run(begin)
    # The next pass reads again what changed shortly before the last one (SCAN_MARGIN).
    settled = begin + SCAN_MARGIN + dt.timedelta(minutes=1)
    bot.run(settled)
    def states() -> dict[tuple[str, str], tuple[dt.datetime, dt.datetime | None]]:
        with bot.sessions.begin() as session:
            return {(s.manager_id, s.rep_id): (s.evaluated_at, s.next_eval_at)
                    for s in session.scalars(select(PairState))}
    # Nothing changes; hourly passes. A pair is evaluated only once its stored moment has come.
    gap_at = begin + dt.timedelta(days=10.5)
    now, before, evaluations = settled, states(), 0
    while now < gap_at - dt.timedelta(hours=1):
        now += dt.timedelta(hours=1)
        bot.run(now)
        after = states()
        for pair, (evaluated_at, _) in after.items():
            if evaluated_at == now:
                due_at = before[pair][1]
                assert due_at is not None and due_at <= now
                evaluations += 1
        before = after
    assert bot.log == []
    assert evaluations <= 2 * len(before)  # 5 pairs x 95 passes for a full walk
    # ...and the first pass at the moment the gap reaches its limit warns, as a full walk would.
    bot.run(gap_at)
    assert [(at, channel, kind) for at, channel, kind, _ in bot.log] == [
        (gap_at, "U0MGR1", "contact_gap"), (gap_at, "U0MGR2", "contact_gap")]


def test_readings_stay_the_same_until_next_change(tmp_path: Path) -> None:
    bot = make_bot(tmp_path, "props.db", False)
    rng = random.Random(5)
    now = START
    for step in range(60):
        now = START + dt.timedelta(hours=7 * step)
        with bot.sessions.begin() as session:
            apply(session, (rng.choice(["sent", "answer", "question", "thanks"]), rng.choice(REPS), step), now)
    thresholds = thresholds_of(CONFIG)
    with bot.sessions.begin() as session:
        pairs = guard.all_pairs(session, T)
        histories = guard_history.pair_histories(session, CONFIG, T, pairs, now, days=90)
    for history in histories.values():
        at = now + dt.timedelta(hours=1)
        for _ in range(20):
            change = next_change(history, thresholds, at)
            if change is None:
                break
            def flags(moment: dt.datetime) -> list[tuple[bool, bool]]:
                return [(r.breached, is_rearmed(r, thresholds))
                        for r in compute_signals(history, thresholds, moment).values()]
            expected = flags(at)
            for fraction in (0.25, 0.5, 0.999):
                assert flags(at + (change - at) * fraction) == expected
            at = change
