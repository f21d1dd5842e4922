"""The outbox's one claim and its outcomes, on the database alone (SQLite, and PostgreSQL with -m db)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scheduling.report import claimant_gone, host_prefix, pass_token
from storage import outbox
from storage.models import OutboxKind, OutboxMessage, OutboxState, User

T = "T0TEST"
NOW = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def queue(session: Session, key: str, not_before: dt.datetime = NOW) -> int | None:
    return outbox.enqueue(session, team_id=T, kind=OutboxKind.COACHING_NOTE, recipient="U0REP", dedupe_key=key,
                          now=NOW, payload={"note_id": 1}, not_before=not_before)


def state(sessions: sessionmaker[Session], outbox_id: int) -> OutboxMessage:
    with sessions.begin() as session:
        row = session.get(OutboxMessage, outbox_id)
        assert row is not None
        session.expunge(row)
        return row


def test_the_same_message_is_queued_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = queue(session, "note:1")
        assert first is not None and queue(session, "note:1") is None
        assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_a_row_is_claimed_by_one_worker_and_only_when_due(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        due, later = queue(session, "a"), queue(session, "b", NOW + dt.timedelta(hours=1))
    with sessions.begin() as session:
        claimed = outbox.claim_due(session, NOW, "w1", 10)
    with sessions.begin() as session:
        assert outbox.claim_due(session, NOW, "w2", 10) == []
    assert [c.id for c in claimed] == [due] and claimed[0].payload == {"note_id": 1} and claimed[0].attempts == 1
    row = state(sessions, due)  # type: ignore[arg-type]
    assert (row.state, row.claimed_by, row.lease_until) == ("claimed", "w1", NOW + outbox.LEASE)
    assert state(sessions, later).state == "pending"  # type: ignore[arg-type]


def test_held_for_hours_is_not_an_attempt_and_a_passing_fault_backs_off(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox_id = queue(session, "a")
        assert outbox_id is not None
    with sessions.begin() as session:
        outbox.claim_due(session, NOW, "w", 10)
        outbox.defer(session, [(outbox_id, NOW + dt.timedelta(hours=9))])
    row = state(sessions, outbox_id)
    assert (row.state, row.attempts, row.deferrals, row.not_before) == ("pending", 0, 1, NOW + dt.timedelta(hours=9))
    moment = NOW + dt.timedelta(hours=9)
    for attempt in range(1, 4):
        with sessions.begin() as session:
            [claimed] = outbox.claim_due(session, moment, "w", 10)
            assert claimed.attempts == attempt
            assert outbox.release(session, [(claimed.id, claimed.attempts, "http_503")], moment) == []
        row = state(sessions, outbox_id)
        assert row.state == "pending" and row.not_before == moment + dt.timedelta(minutes=2 ** (attempt - 1))
        moment = row.not_before
    assert outbox.backoff(30) == outbox.MAX_BACKOFF


def test_it_gives_up_after_max_attempts_and_says_why(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox_id = queue(session, "a")
        assert outbox_id is not None
    with sessions.begin() as session:
        outbox.claim_due(session, NOW, "w", 10)
        assert outbox.release(session, [(outbox_id, outbox.MAX_ATTEMPTS, "http_503")], NOW) == [outbox_id]
    row = state(sessions, outbox_id)
    assert (row.state, row.last_error) == ("failed", "gave up: http_503")


def test_a_lost_reply_keeps_the_claim_for_a_lookup_and_only_one_worker_takes_it_over(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox_id = queue(session, "a")
        assert outbox_id is not None
    with sessions.begin() as session:
        outbox.claim_due(session, NOW, "w", 10)
        outbox.unconfirmed(session, [(outbox_id, "TimeoutError")], NOW)
    with sessions.begin() as session:
        assert outbox.claim_due(session, NOW + dt.timedelta(hours=1), "w", 10) == [], "not posted again blindly"
        [stuck] = outbox.stuck(session, NOW + dt.timedelta(minutes=1))
        assert stuck.id == outbox_id
    with sessions.begin() as session:
        assert outbox.reclaim(session, stuck, "w2", NOW + dt.timedelta(minutes=1))
    with sessions.begin() as session:
        assert not outbox.reclaim(session, stuck, "w3", NOW + dt.timedelta(minutes=1))
        outbox.mark_sent(session, [(outbox_id, "D123", "1.0001")], NOW + dt.timedelta(minutes=1))
    row = state(sessions, outbox_id)
    assert (row.state, row.channel, row.ts, row.claimed_by) == ("sent", "D123", "1.0001", None)
    assert row.state == OutboxState.SENT


def test_a_zone_learnt_later_makes_held_rows_due_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        outbox_id = queue(session, "a")
        assert outbox_id is not None
        outbox.claim_due(session, NOW, "w", 10)
        outbox.defer(session, [(outbox_id, NOW + dt.timedelta(hours=9))])
        assert outbox.reconsider(session, T, "U0REP", NOW) == 1
    assert state(sessions, outbox_id).not_before == NOW


def test_a_row_held_while_its_zone_was_being_stored_is_due_once_the_pass_has_read_zones(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        session.add_all([User(team_id=T, slack_id="U0REP", role="rep", created_at=NOW, tz="Asia/Tokyo",
                              tz_refreshed_at=NOW),  # read by this pass, after its row was claimed
                         User(team_id=T, slack_id="U0OLD", role="rep", created_at=NOW, tz="Asia/Tokyo",
                              tz_refreshed_at=NOW - dt.timedelta(days=1))])
        held = queue(session, "held")
        other = outbox.enqueue(session, team_id=T, kind=OutboxKind.COACHING_NOTE, recipient="U0OLD",
                               dedupe_key="other", now=NOW, payload={"note_id": 2})
        assert held is not None and other is not None
        outbox.claim_due(session, NOW, "w", 10)
        later = NOW + dt.timedelta(seconds=2)
        outbox.defer(session, [(held, later + dt.timedelta(minutes=2)), (other, later + dt.timedelta(hours=9))])
        assert outbox.reconsider_zoned(session, T, NOW, later) == 1
    assert state(sessions, held).not_before == later
    assert state(sessions, other).not_before == later + dt.timedelta(hours=9), "a zone read before is not news"


def test_a_live_workers_claim_is_left_alone_until_its_lease_ends(sessions: sessionmaker[Session]) -> None:
    # This very process holds the claim: alive, so nothing may take it over early.
    token = pass_token()
    with sessions.begin() as session:
        outbox_id = queue(session, "a")
        assert outbox_id is not None
        [claimed] = outbox.claim_due(session, NOW, token, 10)
    assert not claimant_gone(claimed.claimed_by)
    with sessions.begin() as session:
        [held] = outbox.held_by_host(session, host_prefix(), NOW)
        assert held.claimed_by == token and outbox.stuck(session, NOW) == []
    assert claimant_gone(host_prefix() + "999999999:dead")  # no such process
    assert not claimant_gone("another-host:1:x") and not claimant_gone(None)


def test_only_a_claim_never_marked_started_is_given_back_without_a_lookup(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first, second = queue(session, "a"), queue(session, "b")
        assert first is not None and second is not None
        outbox.claim_due(session, NOW, "w1", 10)
    with sessions.begin() as session:
        assert outbox.mark_started(session, "w1", [first]) == {first}
    later = NOW + outbox.LEASE + dt.timedelta(minutes=1)
    with sessions.begin() as session:
        seen = {r.id: r for r in outbox.stuck(session, later)}
    assert (seen[first].started, seen[second].started) == (True, False)
    with sessions.begin() as session:
        # The worker (past its lease) marks the second one while recovery was deciding: it may be
        # posting it now, so recovery's take-over as "never started" must lose.
        assert outbox.mark_started(session, "w1", [second]) == {second}
        assert not outbox.reclaim(session, seen[second], "w2", later, unstarted=True)
        assert outbox.reclaim(session, seen[second], "w2", later)  # looked up instead
    with sessions.begin() as session:
        # A claim taken over is no longer the first worker's to mark (nor to post).
        assert outbox.mark_started(session, "w1", [second]) == set()
    with sessions.begin() as session:
        outbox.release_now(session, [second])
        [again] = outbox.claim_due(session, later, "w3", 10)
    assert again.id == second and not again.started, "a new claim starts unmarked"
