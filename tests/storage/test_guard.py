"""The drift guard's storage: the touch budget, the DB-built drift history, and the send claims."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from coaching.drift import DEFAULT_THRESHOLDS, compute_signals
from core.config import AdminConfig, parse_config
from storage import guard, guard_history, outbox
from storage.models import Answer, CheckIn, CoachingNote, ManagerQuestion, RelayedMessage, User
from storage.people import sync_config_teams

T = "T0TEST"
NOW = dt.datetime(2026, 3, 20, 12, 0, tzinfo=dt.UTC)
CONFIG = parse_config("""
[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2"]

[[teams]]
name = "Projects"
manager = "U0OTHERMGR"
members = ["U0REP1"]
""")


def setup(session: Session, config: AdminConfig = CONFIG, at: dt.datetime = NOW - dt.timedelta(days=30)) -> None:
    sync_config_teams(session, T, config, at)
    for user in session.query(User):
        user.created_at = at


def checkin(session: Session, rep: str, kind: str, sent: dt.datetime | None, state: str = "sent",
            goal_id: int | None = None, message_ts: str | None = None, **extra: object) -> CheckIn:
    row = CheckIn(team_id=T, rep_id=rep, kind=kind, due_at=sent or NOW, state=state, attempts=1, snooze_count=0,
                  sent_at=sent, created_at=sent or NOW, goal_id=goal_id, message_ts=message_ts, **extra)
    session.add(row)
    session.flush()
    return row


def question(session: Session, manager: str, rep: str, text: str, label: str, sent: dt.datetime,
             ts: str, used_suggestion: bool = False, suggestion: str | None = None) -> ManagerQuestion:
    row = ManagerQuestion(team_id=T, manager_id=manager, rep_id=rep, text=text, label=label, suggestion=suggestion,
                          status="sent", overridden=False, used_suggestion=used_suggestion, message_ts=ts,
                          created_at=sent, sent_at=sent)
    session.add(row)
    checkin(session, rep, "adhoc", sent, message_ts=ts, prompt=text)
    return row


def history(session: Session, manager: str = "U0MANAGER", rep: str = "U0REP1", now: dt.datetime = NOW):
    return guard_history.pair_histories(session, CONFIG, T, [(manager, rep)], now)[(manager, rep)]


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)


def test_a_reps_own_checkin_now_never_counts_as_manager_pressure(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        for n in range(4):
            checkin(session, "U0REP1", "rep_now", NOW - days(n + 0.5))
        checkin(session, "U0REP1", "scheduled", NOW - days(2))
        assert guard.touches_last_week(session, T, "U0REP1", NOW) == 1
        found = history(session)
        assert [t.kind for t in found.touches] == ["scheduled"]
        assert compute_signals(found, DEFAULT_THRESHOLDS, NOW)["frequency"].value == 1.0


def test_reminders_never_count_against_the_budget(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        checkin(session, "U0REP1", "scheduled", NOW - days(3), reminder_sent_at=NOW - days(2))
        assert guard.touches_last_week(session, T, "U0REP1", NOW) == 1


def test_the_budget_counts_questions_from_every_manager_of_the_rep(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        question(session, "U0MANAGER", "U0REP1", "What would help?", "coaching", NOW - days(1), "1.1")
        question(session, "U0OTHERMGR", "U0REP1", "What would help?", "coaching", NOW - days(2), "1.2")
        checkin(session, "U0REP1", "scheduled", NOW - days(8))  # outside the 7 days
        assert guard.touches_last_week(session, T, "U0REP1", NOW) == 2
        # ...but each manager's drift history holds only their own questions (and the schedule).
        assert len(history(session, "U0MANAGER").questions) == 1
        assert sorted(t.kind for t in history(session, "U0MANAGER").touches) == ["adhoc", "scheduled"]


def test_a_paused_rep_gets_no_contact_gap(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session, at=NOW - days(20))
        reading = compute_signals(history(session), DEFAULT_THRESHOLDS, NOW)["contact_gap"]
        assert reading.breached and reading.value >= 20  # never checked in since joining 20 days ago
        session.query(User).filter_by(slack_id="U0REP1").one().paused_until = NOW + days(3)
        paused = compute_signals(history(session), DEFAULT_THRESHOLDS, NOW)["contact_gap"]
        assert not paused.breached and "paused" in paused.observed


def test_any_checkin_resets_the_contact_gap(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session, at=NOW - days(40))
        checkin(session, "U0REP1", "rep_now", NOW - days(3))
        reading = compute_signals(history(session), DEFAULT_THRESHOLDS, NOW)["contact_gap"]
        assert not reading.breached and 2.9 < reading.value < 3.1


def test_an_answer_is_acknowledged_by_any_coaching_note_on_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        rows = [checkin(session, "U0REP1", "scheduled", NOW - days(d), state="answered") for d in (3, 10, 17)]
        for row in rows:
            session.add(Answer(team_id=T, checkin_id=row.id, rep_id="U0REP1", text="fine", source="dm",
                               created_at=row.sent_at + dt.timedelta(hours=2),
                               updated_at=row.sent_at + dt.timedelta(hours=2)))
        session.flush()
        first = session.query(Answer).filter_by(checkin_id=rows[0].id).one()
        session.add(CoachingNote(team_id=T, answer_id=first.id, manager_id="U0OTHERMGR", rep_id="U0REP1",
                                 kind="thanks", created_at=NOW))
        session.flush()
        found = history(session)
        assert sorted(a.acknowledged for a in found.answers) == [False, False, True]
        assert all(o.kind == "answered" and o.latency == dt.timedelta(hours=2) for o in found.outcomes)
        assert compute_signals(found, DEFAULT_THRESHOLDS, NOW)["feedback"].breached


def _answered(session: Session, ago_days: tuple[int, ...]) -> list[Answer]:
    rows = [checkin(session, "U0REP1", "scheduled", NOW - days(d), state="answered") for d in ago_days]
    answers = [Answer(team_id=T, checkin_id=row.id, rep_id="U0REP1", text="fine", source="dm",
                      created_at=row.sent_at + dt.timedelta(hours=2), updated_at=row.sent_at + dt.timedelta(hours=2))
               for row in rows]
    session.add_all(answers)
    session.flush()
    return answers


def _reply(session: Session, sender: str, recipient: str, at: dt.datetime, status: str = "queued") -> None:
    session.add(RelayedMessage(team_id=T, sender=sender, recipient=recipient, rep_id="U0REP1", text="ok",
                               message_ts=f"{at.timestamp():.6f}", status=status, created_at=at))
    session.flush()


def test_a_managers_reply_passed_on_to_the_rep_acknowledges_their_latest_answer_before_it(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        oldest, middle, newest = _answered(session, (17, 10, 3))
        _reply(session, "U0MANAGER", "U0REP1", middle.created_at + days(1))
        found = history(session)
        acknowledged = {a.answered_at: a.acknowledged for a in found.answers}
        assert acknowledged == {oldest.created_at: False, middle.created_at: True, newest.created_at: False}
        assert compute_signals(found, DEFAULT_THRESHOLDS, NOW)["feedback"].value == pytest.approx(1 / 3)


def test_the_reps_own_words_and_a_reply_taken_back_acknowledge_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        [answer] = _answered(session, (5,))
        _reply(session, "U0REP1", "U0MANAGER", answer.created_at + days(1))  # the rep writing to the manager
        _reply(session, "U0MANAGER", "U0REP1", answer.created_at + days(2), status="deleted")
        _reply(session, "U0MANAGER", "U0REP1", answer.created_at - dt.timedelta(hours=1))  # before the answer
        assert [a.acknowledged for a in history(session).answers] == [False]


def test_outcomes_come_from_checkin_states(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        checkin(session, "U0REP1", "scheduled", NOW - days(2), state="skipped", closed_at=NOW - days(1))
        checkin(session, "U0REP1", "scheduled", NOW - days(9), state="expired", closed_at=NOW - days(8))
        checkin(session, "U0REP1", "scheduled", None, state="expired")  # never sent: not the rep's doing
        checkin(session, "U0REP1", "scheduled", NOW - days(4), state="sent")  # still open
        assert sorted(o.kind for o in history(session).outcomes) == ["expired", "skipped"]


def test_a_question_sent_as_the_coaching_rewrite_counts_as_coaching(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        question(session, "U0MANAGER", "U0REP1", "Why did you miss it?", "blame", NOW - days(1), "1.1",
                 used_suggestion=True, suggestion="What did you learn?")
        question(session, "U0MANAGER", "U0REP1", "Why didn't you call?", "blame", NOW - days(2), "1.2")
        assert sorted(q.label for q in history(session).questions) == ["blame", "coaching"]


def test_a_question_naming_every_goal_covers_every_goal() -> None:
    goals = [(1, "Close the Acme renewal"), (2, "Hire a Globex SDR")]
    assert guard_history.goals_in("How is the Acme renewal going?", goals) == (1,)
    assert guard_history.goals_in("Where are Acme and Globex at?", goals) == (1, 2)
    assert guard_history.goals_in("Give me an update on all your goals", goals) == (1, 2)
    assert guard_history.goals_in("How are you feeling?", goals) == ()


def test_a_held_question_is_sent_or_cancelled_only_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        held = guard.add_question(session, T, "U0MANAGER", "U0REP1", "Status?", "status_demand", "What helps?",
                                  ["tone"], NOW)
        assert guard.claim_question(session, held.id, NOW, overridden=True, used_suggestion=False)
        assert not guard.claim_question(session, held.id, NOW, overridden=True, used_suggestion=False)
        assert not guard.cancel_question(session, held.id)
        assert guard.own_question(session, T, "U0OTHERMGR", held.id) is None


def test_two_adhoc_checkins_at_the_same_moment_both_get_a_row(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        first = guard.open_adhoc_checkin(session, T, "U0REP1", "U0MANAGER", 1, "One?", NOW)
        second = guard.open_adhoc_checkin(session, T, "U0REP1", "U0OTHER", 2, "Two?", NOW)
        assert first != second
        # Each question's check-in keeps the exact moment it was asked (no nudging) and has
        # its own outbox row, keyed by the question.
        rows = session.execute(select(CheckIn.due_at, CheckIn.ref).where(CheckIn.id.in_([first, second]))).all()
        assert {r.due_at for r in rows} == {NOW} and {r.ref for r in rows} == {1, 2}
        assert outbox.of_checkin(session, first) != outbox.of_checkin(session, second)
        with pytest.raises(RuntimeError):  # the same question twice is refused, not a second check-in
            guard.open_adhoc_checkin(session, T, "U0REP1", "U0MANAGER", 1, "One?", NOW)


def test_a_warning_is_claimed_once_per_manager_kind_and_day(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert guard.claim_warning(session, T, "U0MANAGER", "drift_warning", NOW) is not None
        assert guard.claim_warning(session, T, "U0MANAGER", "drift_warning", NOW + dt.timedelta(hours=1)) is None
        assert guard.claim_warning(session, T, "U0MANAGER", "contact_gap", NOW) is not None
        assert guard.claim_warning(session, T, "U0MANAGER", "drift_warning", NOW + days(1)) is not None


def test_config_teams_count_once_synced_at_start(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sync_config_teams(session, T, CONFIG, NOW)
        assert guard.manager_reps(session, T, "U0MANAGER") == ["U0REP1", "U0REP2"]
        assert guard.manager_reps(session, T, "U0REP1") == []
        assert ("U0OTHERMGR", "U0REP1") in guard.all_pairs(session, T)


def test_a_rep_slack_cannot_reach_is_left_out_of_the_warnings(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        session.query(User).filter_by(slack_id="U0REP2").one().parked_reason = "account_inactive"
        assert guard.all_pairs(session, T) == [("U0MANAGER", "U0REP1"), ("U0OTHERMGR", "U0REP1")]
        assert guard.manager_reps(session, T, "U0MANAGER", reachable_only=True) == ["U0REP1"]
        assert guard.manager_reps(session, T, "U0MANAGER") == ["U0REP1", "U0REP2"]


def test_an_unsure_pressure_reading_does_not_count_in_the_tone_signal(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        setup(session)
        unsure = question(session, "U0MANAGER", "U0REP1", "How is Globex?", "status_demand", NOW - days(1), "2.1")
        unsure.tone_confidence = 0.55
        sure = question(session, "U0MANAGER", "U0REP1", "Status?", "status_demand", NOW - days(2), "2.2")
        sure.tone_confidence = 0.95
        question(session, "U0MANAGER", "U0REP1", "Any update?", "status_demand", NOW - days(3), "2.3")  # no confidence
        session.flush()
        assert sorted(q.label for q in history(session).questions) == ["coaching", "status_demand", "status_demand"]
