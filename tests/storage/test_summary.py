"""Summary queries: the right rows per team and period, and index lookups rather than table scans."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from storage import outbox
from storage.data_rights import Copy, count_answers, export_data, forget_rep, retract_late_copies
from storage.models import (
    Answer,
    AnswerRelay,
    CheckIn,
    CoachingNote,
    Goal,
    ManagerQuestion,
    Membership,
    OutboxKind,
    OutboxMessage,
    Team,
    User,
)
from storage.summary import names_of, next_checkins, org_figures, rep_facts

NOW = dt.datetime(2026, 3, 30, 12, 0, tzinfo=dt.UTC)
SINCE = NOW - dt.timedelta(weeks=4)
CONFIG = parse_config("")
T, OTHER_T = "T1", "T2"


def add_rep(session: Session, team_id: str, rep: str, manager: str, name: str | None = None) -> None:
    team = session.query(Team).filter_by(team_id=team_id, manager_id=manager).one_or_none()
    if team is None:
        team = Team(team_id=team_id, name=f"team-{manager}", manager_id=manager, source="config")
        session.add(team)
        session.flush()
    session.add(User(team_id=team_id, slack_id=rep, display_name=name, role="rep", created_at=NOW - dt.timedelta(days=90),
                     prompt_sequence=0))
    session.add(Membership(team_id=team_id, team_pk=team.id, rep_id=rep, status="active", created_at=NOW))


def add_answered(session: Session, team_id: str, rep: str, days_ago: float, text: str, **extra: Any) -> Answer:
    moment = NOW - dt.timedelta(days=days_ago)
    goal = Goal(team_id=team_id, rep_id=rep, text=f"goal of {rep}", position=1, created_at=moment)
    session.add(goal)
    session.flush()
    checkin = CheckIn(team_id=team_id, rep_id=rep, goal_id=goal.id, kind="scheduled", due_at=moment,
                      state="answered", attempts=1, snooze_count=0, sent_at=moment, closed_at=moment,
                      created_at=moment)
    session.add(checkin)
    session.flush()
    answer = Answer(team_id=team_id, checkin_id=checkin.id, rep_id=rep, goal_id=goal.id, text=text,
                    source="modal", created_at=moment, updated_at=moment, **{"help_wanted": False, **extra})
    session.add(answer)
    session.flush()
    return answer


@pytest.fixture
def seeded(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    with sessions.begin() as session:
        add_rep(session, T, "U1", "M1", name="ana")
        add_rep(session, T, "U2", "M1")
        add_rep(session, T, "U3", "M2")
        add_rep(session, OTHER_T, "U1", "M9")  # the same Slack ID in another workspace
        first = add_answered(session, T, "U1", 3, "recent", confidence=2, help_wanted=True)
        add_answered(session, T, "U1", 1, "latest", confidence=4)
        add_answered(session, T, "U1", 60, "too old")
        add_answered(session, T, "U3", 1, "not M1's rep")
        add_answered(session, OTHER_T, "U1", 1, "other workspace")
        session.add(CoachingNote(team_id=T, answer_id=first.id, manager_id="M1", rep_id="U1", kind="thanks",
                                 created_at=NOW))
        session.add(ManagerQuestion(team_id=T, manager_id="M1", rep_id="U2", text="How's it going?", label="coaching",
                                    status="sent", created_at=NOW - dt.timedelta(days=2),
                                    sent_at=NOW - dt.timedelta(days=2)))
        session.add(CheckIn(team_id=T, rep_id="U2", kind="scheduled", due_at=NOW + dt.timedelta(days=1),
                            state="scheduled", attempts=0, snooze_count=0, created_at=NOW))
    return sessions


def test_rep_facts_hold_only_the_named_reps_of_this_workspace_in_the_period(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        facts = rep_facts(session, CONFIG, T, "M1", ["U1", "U2"], SINCE, NOW)
    ana, ben = facts
    assert (ana.name, ben.name) == ("ana", "U2")
    assert sorted(a.text for a in ana.answers) == ["latest", "recent"]
    assert [a.thanked_by_manager for a in sorted(ana.answers, key=lambda a: a.created_at)] == [True, False]
    assert all(a.goal_text == "goal of U1" for a in ana.answers)
    assert len(ana.checkins) == 2 and ana.last_contact == NOW, "the thanks is the latest contact"
    assert ben.answers == () and ben.questions_sent == 1 and ben.last_contact == NOW - dt.timedelta(days=2)
    assert ana.agreed_per_week == 1.0


def test_last_contact_falls_back_to_the_last_check_in_ever_sent(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        add_rep(session, T, "U4", "M1")
        add_answered(session, T, "U4", 45, "long ago")
        [facts] = rep_facts(session, CONFIG, T, "M1", ["U4"], SINCE, NOW)
    assert facts.answers == () and facts.last_contact == NOW - dt.timedelta(days=45)


def test_names_fall_back_to_the_slack_id_and_next_checkins_are_per_rep(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        assert names_of(session, T, ["U1", "U2", "U9"]) == {"U1": "ana", "U2": "U2", "U9": "U9"}
        assert next_checkins(session, T, ["U1", "U2"]) == {"U2": NOW + dt.timedelta(days=1)}


def test_org_figures_are_counts_for_the_workspace_only(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        org = org_figures(session, T, 4, NOW)
    assert (org.sent, org.answered, org.teams) == (3, 3, 2)
    assert org.participation == 1.0


def test_summary_queries_search_indexes_instead_of_scanning_tables(
        seeded: sessionmaker[Session], engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's")
    statements: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        with seeded.begin() as session:
            rep_facts(session, CONFIG, T, "M1", ["U1", "U2"], SINCE, NOW)
            next_checkins(session, T, ["U1", "U2"])
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert statements
    with engine.connect() as connection:
        for statement, parameters in statements:
            plan = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            scans = [row[-1] for row in plan if str(row[-1]).startswith("SCAN ")
                     and "CONSTANT ROW" not in str(row[-1])]
            assert not scans, f"{scans} in {statement}"


def test_forget_deletes_the_reps_answers_and_notes_but_keeps_others(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        answer_id = session.query(Answer.id).filter_by(team_id=T, rep_id="U1", text="recent").scalar()
        session.add(AnswerRelay(team_id=T, answer_id=answer_id, manager_id="M1", channel="D1", message_ts="1.0",
                                created_at=NOW))
        notes_before = session.query(CoachingNote).count()
        theirs = session.query(CoachingNote).filter_by(team_id=T, rep_id="U1").count()
    with seeded.begin() as session:
        forgotten = forget_rep(session, T, "U1", "summary_rep_U1", {"type": "section"})
    assert forgotten.deleted.answers == 3
    assert forgotten.copies == [Copy("M1", "D1", "1.0", "relay", None)]
    with seeded.begin() as session:
        assert count_answers(session, T, "U1") == 0
        assert count_answers(session, OTHER_T, "U1") == 1 and count_answers(session, T, "U3") == 1
        assert session.query(CoachingNote).filter_by(team_id=T, rep_id="U1").count() == 0
        assert session.query(CoachingNote).count() == notes_before - theirs
        assert session.query(AnswerRelay).count() == 0


def test_a_relay_posted_while_its_rep_forgot_is_retracted_when_it_is_recorded(
        seeded: sessionmaker[Session]) -> None:
    """The worker rendered the relay, then the rep forgot (finding no posted copy), then Slack took it."""
    with seeded.begin() as session:
        answer_id = session.query(Answer.id).filter_by(team_id=T, rep_id="U1", text="latest").scalar()
        kept = session.query(Answer.id).filter_by(team_id=T, rep_id="U3").scalar()
        for key, answer in (("mine", answer_id), ("theirs", kept)):
            outbox.enqueue(session, team_id=T, kind=OutboxKind.ANSWER_RELAY, recipient="M1", dedupe_key=key,
                           now=NOW, payload={"answer_id": answer, "relay_id": 0})
        for key, rep in (("page-mine", "U1"), ("page-theirs", "U2")):
            outbox.enqueue(session, team_id=T, kind=OutboxKind.SUMMARY_PAGE, recipient="M1", dedupe_key=key, now=NOW,
                           payload={"message": {"text": "", "blocks": [{"block_id": f"summary_rep_{rep}"}]}})
        claimed = outbox.claim_due(session, NOW, "worker", 10)
    with seeded.begin() as session:
        assert forget_rep(session, T, "U1", "summary_rep_U1", {}).copies == []  # not posted yet
    with seeded.begin() as session:
        retract_late_copies(session, T, [(row, "D1", f"{row.id}.0") for row in claimed], NOW)
    with seeded.begin() as session:
        rows = session.query(OutboxMessage).filter_by(kind=OutboxKind.RETRACT).all()
        mine = next(r.id for r in claimed if r.payload.get("answer_id") == answer_id)
        page = next(r.id for r in claimed if "summary_rep_U1" in json.dumps(r.payload))
        assert sorted(json.loads(r.payload)["ts"] for r in rows) == sorted([f"{mine}.0", f"{page}.0"]), \
            "only the forgotten rep's copies"


def test_export_holds_the_callers_own_rows_only(seeded: sessionmaker[Session]) -> None:
    with seeded.begin() as session:
        data = export_data(session, T, "U1", NOW)
    assert sorted(a["text"] for a in data["answers"]) == ["latest", "recent", "too old"]
    assert [n["kind"] for n in data["notes_received"]] == ["thanks"]
    assert data["teams"] == [{"team": "team-M1", "manager": "M1", "status": "active"}]
