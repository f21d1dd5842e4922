"""For every kind of outbox message: a dispatch process SIGKILLed between Slack's post and its own
commit loses nothing and sends nothing twice.

One row of each kind is queued the way its producer writes it (in the same transaction as the
state it stands for). `checkin-bot dispatch` then runs as a real process; the sandbox carries
every chat.postMessage out at once but answers only later, and the process is killed once Slack
holds every message and the database still calls them claimed. A pass after the claim lease finds
each message by the `outbox_id` in its metadata, marks it sent and finishes what its sending
changes (the check-in is open, the question counts from then, the relay can be refreshed, the
warning is on record). Runs on SQLite, and on PostgreSQL with TEST_DATABASE_URL.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from coaching.drift_model import SignalReading
from coaching.health_chart import health_chart, to_payload
from core.clock import ManualClock
from core.config import parse_config
from handlers.delivery import EDITS
from handlers.notify import queue_relays
from handlers.render import message, metadata
from handlers.render.outbox import as_payload
from sandbox import Sandbox
from storage import conversation, guard, lifecycle, outbox
from storage.db import insert_ignore
from storage.models import (
    Answer,
    AnswerRelay,
    CadenceAgreement,
    CheckIn,
    CoachingNote,
    DigestSent,
    ManagerQuestion,
    Membership,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    RelayedMessage,
    Team,
    User,
    WarningClaim,
)
from storage.people import sync_config_teams
from storage.schedules import insert_checkins_once
from tests.e2e.real_clock import every_hour_config, kill_dispatch_once
from wiring.harness import BotHarness

MANAGER = "U0MANAGER"
REPS = [f"U0REP{i}" for i in range(1, 10)]
SLOW = 1.5  # seconds Slack holds each answer back


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    # The real clock: the process stamps its claims with the system time, and recovery searches
    # the DMs from there.
    with Sandbox.start() as sb:
        yield sb


def config_text(now: dt.datetime) -> str:
    return every_hour_config(now, "Crash", "U0MANAGER", REPS[:6])


def checkin(session: Session, team: str, rep: str, kind: str, state: str, now: dt.datetime, **extra: object) -> int:
    [checkin_id] = insert_checkins_once(session, [{
        "team_id": team, "rep_id": rep, "kind": kind, "due_at": now - dt.timedelta(minutes=1), "state": state,
        "attempts": 0, "snooze_count": 0, "created_at": now - dt.timedelta(days=1), **extra}])
    return checkin_id


def queue_every_kind(session: Session, sandbox: Sandbox, team: str, now: dt.datetime) -> dict[OutboxKind, int]:
    """One due row of each kind, with the rows it is about, as each producer writes them."""
    rows: dict[OutboxKind, int] = {}

    def enqueue(kind: OutboxKind, recipient: str, key: str, payload: dict[str, object],
                checkin_id: int | None = None) -> None:
        queued = outbox.enqueue(session, team_id=team, kind=kind, recipient=recipient, dedupe_key=key,
                                now=now, payload=payload, checkin_id=checkin_id)
        assert queued is not None
        rows[kind] = queued

    r1, r2, r3, r4, r5, r6, r7, r8, r9 = REPS
    # A scheduled check-in and a rep's own /checkin now, as planning and the command queue them.
    rows[OutboxKind.CHECKIN_PROMPT] = outbox.of_checkin(session, checkin(session, team, r1, "scheduled",
                                                                         "scheduled", now)) or 0
    rows[OutboxKind.CHECKIN_NOW] = outbox.of_checkin(session, checkin(session, team, r2, "rep_now",
                                                                      "scheduled", now)) or 0
    # A manager's question, released by /checkin ask.
    question = guard.add_question(session, team, MANAGER, r3, "What would help with Acme?", "coaching", None, [], now)
    guard.claim_question(session, question.id, now, overridden=False, used_suggestion=False)
    rows[OutboxKind.MANAGER_QUESTION] = outbox.of_checkin(
        session, guard.open_adhoc_checkin(session, team, r3, MANAGER, question.id, question.text, now)) or 0
    # A reminder for a check-in sent a day ago.
    sent = checkin(session, team, r4, "scheduled", "scheduled", now - dt.timedelta(days=1))
    lifecycle.claim(session, [sent])
    lifecycle.mark_sent(session, [(sent, None, None, now - dt.timedelta(hours=25))])  # no thread to reply in
    assert lifecycle.claim_reminder(session, [sent], now) == {sent}
    enqueue(OutboxKind.CHECKIN_REMINDER, r4, f"reminder:{sent}", {}, checkin_id=sent)
    # An answer passed on to the manager, and the manager's thanks and note on another one.
    answered = checkin(session, team, r5, "rep_now", "scheduled", now)
    lifecycle.claim(session, [answered])
    lifecycle.mark_sent(session, [(answered, None, None, now)])
    answer = Answer(team_id=team, checkin_id=answered, rep_id=r5, text="Legal is slow.", source="dm",
                    created_at=now, updated_at=now)
    session.add(answer)
    session.flush()
    lifecycle.answer(session, answered, now)
    [rows[OutboxKind.ANSWER_RELAY]] = queue_relays(session, team, answer, now)
    thanks = CoachingNote(team_id=team, answer_id=answer.id, manager_id=MANAGER, rep_id=r5, kind="thanks",
                          created_at=now)
    written = CoachingNote(team_id=team, answer_id=answer.id, manager_id=MANAGER, rep_id=r6, kind="note",
                           text="Let's call their counsel together.", created_at=now)
    session.add_all([thanks, written])
    session.flush()
    enqueue(OutboxKind.THANKS, r5, f"thanks:{answer.id}:{MANAGER}",
            {"manager": MANAGER, "checkin_id": answered, "goal_id": None})
    enqueue(OutboxKind.COACHING_NOTE, r6, f"note:{written.id}",
            {"note_id": written.id, "checkin_id": answered, "goal_id": None})
    # A cadence proposal, and the rep's answer to another one.
    proposal = CadenceAgreement(team_id=team, rep_id=r7, manager_id=MANAGER, every="week", day="tue",
                                time="09:30", status="proposed", created_at=now)
    decided = CadenceAgreement(team_id=team, rep_id=r1, manager_id=MANAGER, every="week", day="wed",
                               time="10:00", status="accepted", created_at=now, decided_at=now)
    session.add_all([proposal, decided])
    session.flush()
    enqueue(OutboxKind.CADENCE_PROPOSAL, r7, f"cadence:{proposal.id}",
            {"agreement_id": proposal.id, "proposed": "every week on Tue at 09:30", "current": "every day"})
    enqueue(OutboxKind.CADENCE_OUTCOME, MANAGER, f"cadence_outcome:{decided.id}",
            {"rep": r1, "agreement_id": decided.id, "accepted": True, "description": "every week on Wed"})
    # A team invitation, and the answer to another.
    team_pk = session.scalar(select(Team.id).where(Team.team_id == team, Team.name == "Crash"))
    invited = Membership(team_id=team, team_pk=team_pk, rep_id=r8, status="pending", created_at=now)
    joined = Membership(team_id=team, team_pk=team_pk, rep_id=r9, status="active", created_at=now)
    session.add_all([invited, joined])
    session.flush()
    enqueue(OutboxKind.TEAM_INVITE, r8, f"invite:{invited.id}", {"manager": MANAGER, "membership_id": invited.id})
    enqueue(OutboxKind.INVITE_OUTCOME, MANAGER, f"invite_outcome:{joined.id}", {"rep": r9, "accepted": True})
    # A drift warning and a contact-gap nudge, as the guard step records and queues them.
    for kind, signal_name, rep in ((OutboxKind.DRIFT_WARNING, "frequency", r2), (OutboxKind.CONTACT_GAP,
                                                                                 "contact_gap", r3)):
        claim = guard.claim_warning(session, team, MANAGER, kind, now)
        assert claim is not None
        reading = SignalReading(signal=signal_name, value=5.0, threshold=3.0, breached=True,  # type: ignore[arg-type]
                                observed="5 touches in 7 days", agreed="at most 3 a week")
        ids = guard.record_warnings(session, team, MANAGER, [(rep, signal_name, 5.0)], now)
        enqueue(kind, MANAGER, f"warning:{claim}", {"claim_id": claim, "warning_ids": ids,
                                                     "items": [{"rep": rep, "reading": dataclasses.asdict(reading)}]})
    # A digest, as the digest step claims and queues it.
    [digest] = insert_ignore(session, DigestSent, {"team_id": team, "manager_id": MANAGER, "period": "day:x",
                                                   "answers": 0, "created_at": now}, returning=DigestSent.id)
    enqueue(OutboxKind.TEAM_DIGEST, MANAGER, f"digest:{digest}",
            {"digest_id": digest, "answer_ids": [answer.id], "since": (now - dt.timedelta(days=1)).isoformat(),
             "zone": "UTC"})
    # A rep's reply in the note's thread, passed on to the manager; and a refresh (chat.update) of
    # a copy of an answer posted earlier, after the rep edited it.
    [reply] = insert_ignore(session, RelayedMessage, {
        "team_id": team, "sender": r6, "recipient": MANAGER, "rep_id": r6, "note_id": written.id,
        "text": "Tuesday works.", "message_ts": "1.000001", "status": "queued", "created_at": now},
        returning=RelayedMessage.id)
    enqueue(OutboxKind.NOTE_REPLY, MANAGER, f"note_reply:{reply}",
            {"reply_id": reply, "rep": r6, "manager": MANAGER, "context": "note"})
    earlier = sandbox.workspace.post(sandbox.im_channel(MANAGER), sandbox.workspace.bot_user_id, "an older copy")
    enqueue(OutboxKind.RELAY_REFRESH, MANAGER, f"refresh:x:{answer.id}",
            {"answer_id": answer.id, "checkin_id": answered, "rep": r5, "channel": earlier.channel,
             "ts": earlier.ts})
    # A page of a long summary, rendered by its listener.
    page = message(MANAGER, "Your team (1/2)", [], metadata("team_digest", manager=MANAGER, page=1, pages=2))
    enqueue(OutboxKind.SUMMARY_PAGE, MANAGER, "summary:x:1", as_payload(page))
    # The health report's chart and a CSV summary, as their commands queue them (uploaded, then posted).
    lines = {"frequency": 3.0, "tone": 0.5, "coverage": 0.8, "feedback": 0.5, "fatigue": 0.5, "contact_gap": 14.0}
    chart = health_chart([(r1, {s: [1.0, 2.0] for s in lines}, lines)], now, ZoneInfo("UTC"))
    assert chart is not None
    enqueue(OutboxKind.HEALTH_CHART, MANAGER, "health_chart:x", {"chart": to_payload(chart)})
    enqueue(OutboxKind.SUMMARY_CSV, MANAGER, "summary_csv:x", {"reps": [], "weeks": 4, "until": now.isoformat(),
                                                                "default_zone": "UTC"})
    # The one nudge about a help request still open, as the help-nudge step queues it.
    helped = session.get(CheckIn, answered)
    assert helped is not None and conversation.ask(session, helped, "words", now, "blocked on legal")
    request = conversation.request_of(session, answered)
    assert request is not None
    enqueue(OutboxKind.HELP_NUDGE, MANAGER, f"help_nudge:{request.id}:{MANAGER}",
            {"help_id": request.id, "days": 2, "zone": "UTC"})
    return rows



def by_outbox_id(sandbox: Sandbox) -> Counter[int]:
    calls = [*sandbox.calls_to("chat.postMessage"), *sandbox.calls_to("chat.update")]
    return Counter(int(c.args["metadata"]["event_payload"]["outbox_id"]) for c in calls
                   if c.ok and "outbox_id" in ((c.args.get("metadata") or {}).get("event_payload") or {}))


def test_a_kill_between_post_and_commit_loses_and_doubles_nothing_for_every_kind(
    sandbox: Sandbox, database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    now = dt.datetime.now(dt.UTC)
    text = config_text(now)
    config = parse_config(text, "crash")
    (tmp_path / "checkins.toml").write_text(text)
    for user in [MANAGER, *REPS]:
        sandbox.add_user(user, name=user.lower(), tz="UTC")
    with sessions.begin() as session:
        sync_config_teams(session, sandbox.team_id, config, now)
        session.execute(update(User).values(tz="UTC", tz_refreshed_at=now))
        rows = queue_every_kind(session, sandbox, sandbox.team_id, now)
    # Edits post nothing new and are safe to repeat; tests/e2e/test_forget.py retries them.
    assert set(rows) == set(OutboxKind) - EDITS, "every kind of message is exercised"

    sandbox.faults.slow_reply(SLOW, "chat.postMessage")
    # Slack has carried out every post (a person's messages go one after another); the process
    # still waits for the last answer, so it has recorded none of them.
    kill_dispatch_once(sandbox, database_url, tmp_path,
                       lambda: set(by_outbox_id(sandbox)) >= set(rows.values()), timeout=90)
    assert by_outbox_id(sandbox) == Counter({outbox_id: 1 for outbox_id in rows.values()})
    with sessions.begin() as session:
        states = {r.id: (r.state, r.lease_until) for r in session.scalars(select(OutboxMessage))}
    assert {states[i][0] for i in rows.values()} == {OutboxState.CLAIMED}, "killed before recording any send"
    lease_end = max(lease for _, lease in states.values() if lease is not None)

    sandbox.faults.clear()
    later = ManualClock(lease_end + dt.timedelta(minutes=1))
    with BotHarness(sandbox, database_url, config, clock=later, http=False) as bot:
        report = bot.dispatch()
        again = bot.dispatch()
    assert report.get("recovered") == len(rows), report
    assert again.get("recovered") == 0 and by_outbox_id(sandbox) == Counter({i: 1 for i in rows.values()})

    posted = {int(m.event_payload["outbox_id"]): m for m in sandbox.messages() if "outbox_id" in m.event_payload}
    with sessions.begin() as session:
        for kind, outbox_id in rows.items():
            row = session.get(OutboxMessage, outbox_id)
            assert row is not None and row.state == OutboxState.SENT, kind
            assert (row.channel, row.ts) == (posted[outbox_id].channel, posted[outbox_id].ts), kind
        # What each kind's sending changes happened too, once.
        for kind in (OutboxKind.CHECKIN_PROMPT, OutboxKind.CHECKIN_NOW, OutboxKind.MANAGER_QUESTION):
            sent = session.get(CheckIn, session.get(OutboxMessage, rows[kind]).checkin_id)  # type: ignore[union-attr]
            assert sent is not None and sent.state == "sent" and sent.message_ts == posted[rows[kind]].ts, kind
        assert session.scalar(select(ManagerQuestion.sent_at)) is not None
        relay = session.scalar(select(AnswerRelay))
        assert relay is not None and relay.message_ts == posted[rows[OutboxKind.ANSWER_RELAY]].ts
        assert {c.message_ts for c in session.scalars(select(WarningClaim))} == {
            posted[rows[OutboxKind.DRIFT_WARNING]].ts, posted[rows[OutboxKind.CONTACT_GAP]].ts}
        assert session.scalar(select(DigestSent.message_ts)) == posted[rows[OutboxKind.TEAM_DIGEST]].ts
    sandbox.assert_no_violations()
