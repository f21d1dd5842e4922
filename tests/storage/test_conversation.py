"""Help requests and carried steps as storage rules: idempotent, and the form's choice is explicit."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import conversation
from storage.checkins import record_answer
from storage.models import Answer, CheckIn, Goal, HelpRequest

T, REP = "T0TEST", "U0REP1"
NOW = dt.datetime(2026, 3, 2, 15, 0, tzinfo=dt.UTC)


def sent_checkin(session: Session, goal_id: int | None = None, at: dt.datetime = NOW) -> CheckIn:
    checkin = CheckIn(team_id=T, rep_id=REP, kind="scheduled", due_at=at, state="sent", attempts=1,
                      snooze_count=0, sent_at=at, created_at=at, goal_id=goal_id)
    session.add(checkin)
    session.flush()
    return checkin


def test_asking_twice_is_one_request_and_clearing_then_asking_reopens_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        checkin = sent_checkin(session)
        assert conversation.ask(session, checkin, "button", NOW)
        assert not conversation.ask(session, checkin, "button", NOW + dt.timedelta(minutes=1))
        assert conversation.withdraw(session, checkin, NOW + dt.timedelta(minutes=2))
        assert not conversation.withdraw(session, checkin, NOW + dt.timedelta(minutes=3))
        assert conversation.ask(session, checkin, "button", NOW + dt.timedelta(minutes=4))
        [request] = session.scalars(select(HelpRequest)).all()
        assert request.state == "open" and request.created_at == NOW + dt.timedelta(minutes=4)


def test_a_dm_opens_a_request_only_from_clear_wording_and_the_form_decides_exactly(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        quiet, blocked = sent_checkin(session), sent_checkin(session, at=NOW + dt.timedelta(days=1))
        record_answer(session, quiet, "All good, no help needed.", "dm", NOW)
        record_answer(session, blocked, "I'm stuck on the security review.", "dm", NOW)
        assert conversation.request_of(session, quiet.id) is None
        request = conversation.request_of(session, blocked.id)
        assert request is not None and request.detail == "I'm stuck on the security review"
        # The form unticked: cleared, and the answer says so.
        record_answer(session, blocked, "Sorted it with Raj.", "modal", NOW, help_wanted=False)
        answer = session.scalar(select(Answer).where(Answer.checkin_id == blocked.id))
        assert answer is not None and not answer.help_wanted and request.state == "withdrawn"


def test_a_newer_step_on_the_goal_supersedes_the_older_one(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        goal = Goal(team_id=T, rep_id=REP, text="Close Acme", created_at=NOW)
        session.add(goal)
        session.flush()
        first, second = sent_checkin(session, goal.id), sent_checkin(session, goal.id, NOW + dt.timedelta(days=7))
        record_answer(session, first, "I'll call their CFO on Tuesday.", "dm", NOW)
        record_answer(session, second, "Next step: send the revised quote", "dm", NOW + dt.timedelta(days=7))
        pending = conversation.pending_steps(session, T, [REP])
        assert pending[(REP, goal.id)].next_step == "send the revised quote"
        older = session.scalar(select(Answer).where(Answer.checkin_id == first.id))
        assert older is not None and older.next_step_state == "superseded"
        conversation.set_step(session, pending[(REP, goal.id)], None)
        assert conversation.pending_steps(session, T, [REP]) == {}, "dropping the newest brings no older one back"
