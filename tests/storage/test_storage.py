"""Storage guarantees the check-in loop relies on: UTC datetimes, migrations, SQLite locking, dedupe.

All but the SQLite-specific tests run again on PostgreSQL when TEST_DATABASE_URL is set.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, inspect, select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session, sessionmaker

from storage.checkins import first_delivery, record_answer
from storage.db import current_revisions, head_revisions, make_engine, upgrade
from storage.models import Answer, Base, CheckIn, ProcessedEvent, User

T = "T0TEST"
NOW = dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC)


def add_checkin(session: Session, rep: str = "U0REP1", state: str = "sent") -> CheckIn:
    row = CheckIn(team_id=T, rep_id=rep, kind="scheduled", due_at=NOW, state=state, attempts=1, snooze_count=0,
                  sent_at=NOW, created_at=NOW)
    session.add(row)
    session.flush()
    return row


# ---- datetimes ---------------------------------------------------------------------------------------


def test_aware_datetimes_come_back_as_the_same_instant_in_utc(sessions: sessionmaker[Session]) -> None:
    kolkata = dt.datetime(2026, 3, 2, 13, 30, tzinfo=ZoneInfo("Asia/Kolkata"))  # 08:00 UTC
    los_angeles = dt.datetime(2026, 11, 1, 1, 30, fold=1, tzinfo=ZoneInfo("America/Los_Angeles"))  # PST: 09:30 UTC
    with sessions.begin() as session:
        session.add(User(team_id=T, slack_id="U0REP1", role="rep", prompt_sequence=0, created_at=kolkata,
                         tz_refreshed_at=los_angeles))
    with sessions.begin() as session:  # a new session: values come from the database, not the identity map
        user = session.scalar(select(User).where(User.slack_id == "U0REP1"))
        assert user is not None
        assert user.created_at == NOW and user.created_at.tzinfo is dt.UTC
        assert user.tz_refreshed_at == dt.datetime(2026, 11, 1, 9, 30, tzinfo=dt.UTC)
        assert user.tz_refreshed_at is not None and user.tz_refreshed_at.tzinfo is dt.UTC
        assert user.paused_until is None
        # Comparisons in SQL see the UTC instant too.
        assert session.scalar(select(func.count()).select_from(User).where(User.created_at == NOW)) == 1
        raw = session.execute(text("SELECT created_at FROM users")).scalar_one()
    if isinstance(raw, str):  # SQLite keeps no zone: the UTC wall time, naive
        assert raw.startswith("2026-03-02 08:00:00") and "+" not in raw
    else:  # PostgreSQL: timestamptz
        assert raw == NOW


def test_sqlite_hands_back_naive_values_that_the_column_type_makes_utc(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'naive.db'}")
    upgrade(engine)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO users (team_id, slack_id, role, prompt_sequence, created_at) "
                                "VALUES ('T0TEST', 'U0REP1', 'rep', 0, '2026-03-02 08:00:00.000000')"))
    with Session(engine) as session:
        user = session.scalar(select(User))
        assert user is not None and user.created_at == NOW and user.created_at.tzinfo is dt.UTC
    engine.dispose()


def test_naive_datetimes_are_refused(sessions: sessionmaker[Session]) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        with sessions.begin() as session:
            session.add(User(team_id=T, slack_id="U0REP1", role="rep", prompt_sequence=0,
                             created_at=dt.datetime(2026, 3, 2, 8, 0)))  # noqa: DTZ001 - the point of the test
    with pytest.raises(StatementError, match="naive datetime"):
        with sessions.begin() as session:
            session.scalar(select(CheckIn).where(CheckIn.due_at <= dt.datetime(2026, 3, 2, 8, 0)))  # noqa: DTZ001
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0


# ---- migrations --------------------------------------------------------------------------------------


def schema(engine: Engine) -> dict[str, list[str]]:
    inspector = inspect(engine)
    return {table: sorted(c["name"] for c in inspector.get_columns(table)) for table in sorted(inspector.get_table_names())}


def test_the_migration_applies_twice_and_the_second_time_changes_nothing(engine: Engine) -> None:
    before = schema(engine)  # the `engine` fixture has upgraded once already
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO processed_events (event_id, team_id, received_at) "
                                "VALUES ('Ev1', 'T0TEST', '2026-03-02 08:00:00')"))
    upgrade(engine)
    upgrade(engine)
    assert schema(engine) == before
    with engine.begin() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalars().all() == sorted(head_revisions())
        assert connection.execute(text("SELECT count(*) FROM processed_events")).scalar_one() == 1


def test_the_cheap_head_check_agrees_with_alembic(engine: Engine) -> None:
    # storage.db reads the heads from the version files without Alembic; Alembic must agree, or a
    # start would skip a pending migration (or run Alembic on every start).

    from storage.migrate import alembic_config

    assert head_revisions() == frozenset(ScriptDirectory.from_config(alembic_config(engine)).get_heads())
    assert current_revisions(engine) == head_revisions()


def test_a_database_behind_the_code_is_migrated(tmp_path: Path) -> None:
    fresh = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    assert current_revisions(fresh) is None  # no schema yet
    from alembic import command

    from storage.migrate import alembic_config

    command.upgrade(alembic_config(fresh), "0001")
    assert current_revisions(fresh) == frozenset({"0001"})
    upgrade(fresh)
    assert current_revisions(fresh) == head_revisions()
    fresh.dispose()


def test_the_migrated_schema_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        differences = compare_metadata(context, Base.metadata)
    assert differences == [], "run scripts/regen-migration.sh (before the first release) or add a revision"


# ---- SQLite locking ----------------------------------------------------------------------------------


def test_sqlite_runs_with_wal_a_busy_timeout_and_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar_one() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    engine.dispose()


def test_a_second_sqlite_writer_waits_for_the_first_instead_of_failing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'locks.db'}"
    first, second = make_engine(url), make_engine(url)  # two engines: as two processes would
    upgrade(first)
    holding, released = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with first.begin() as connection:
            connection.execute(text("INSERT INTO processed_events (event_id, team_id, received_at) "
                                    "VALUES ('Ev-first', 'T0TEST', '2026-03-02 08:00:00')"))
            holding.set()
            time.sleep(0.5)
        released.set()

    thread = threading.Thread(target=hold_the_write_lock)
    thread.start()
    assert holding.wait(5)
    started = time.monotonic()
    with second.begin() as connection:  # BEGIN IMMEDIATE waits (busy_timeout) rather than failing
        assert released.is_set()
        connection.execute(text("INSERT INTO processed_events (event_id, team_id, received_at) "
                                "VALUES ('Ev-second', 'T0TEST', '2026-03-02 08:00:01')"))
    assert time.monotonic() - started >= 0.3
    thread.join()
    with second.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM processed_events")).scalar_one() == 2
    first.dispose()
    second.dispose()


# ---- idempotency -------------------------------------------------------------------------------------


def test_first_delivery_is_true_once_per_event_id(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        assert first_delivery(session, T, "Ev-1", NOW) is True
        assert first_delivery(session, T, "Ev-1", NOW + dt.timedelta(seconds=1)) is False
    with sessions.begin() as session:  # a Slack retry arriving later, in another transaction
        assert first_delivery(session, T, "Ev-1", NOW + dt.timedelta(minutes=1)) is False
        assert first_delivery(session, T, "Ev-2", NOW) is True
    with sessions.begin() as session:
        assert session.scalar(select(func.count()).select_from(ProcessedEvent)) == 2
        first = session.get(ProcessedEvent, "Ev-1")
        assert first is not None and first.received_at == NOW


def test_an_answer_is_stored_once_per_checkin_however_often_it_is_delivered(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        checkin_id = add_checkin(session).id
    for attempt in range(3):  # the same event, delivered three times
        with sessions.begin() as session:
            checkin = session.get(CheckIn, checkin_id)
            assert checkin is not None
            recorded = record_answer(session, checkin, "Legal is the blocker", "dm", NOW, event_id="Ev-answer")
            assert recorded.created is (attempt == 0)
    with sessions.begin() as session:  # an edit (a thread reply) updates the one answer
        checkin = session.get(CheckIn, checkin_id)
        assert checkin is not None
        edited = record_answer(session, checkin, "Legal is done; pricing next", "thread",
                               NOW + dt.timedelta(hours=1), event_id="Ev-edit")
        assert edited.created is False
    with sessions.begin() as session:
        answers = session.scalars(select(Answer)).all()
        assert [(a.checkin_id, a.text, a.source) for a in answers] == [(checkin_id, "Legal is done; pricing next",
                                                                        "thread")]
        checkin = session.get(CheckIn, checkin_id)
        assert checkin is not None and checkin.state == "answered"


def test_the_database_itself_refuses_a_second_answer_to_a_checkin(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        checkin_id = add_checkin(session).id
        session.add(Answer(team_id=T, checkin_id=checkin_id, rep_id="U0REP1", text="one", source="dm",
                           created_at=NOW, updated_at=NOW))
    with pytest.raises(IntegrityError):
        with sessions.begin() as session:
            session.add(Answer(team_id=T, checkin_id=checkin_id, rep_id="U0REP1", text="two", source="modal",
                               created_at=NOW, updated_at=NOW))
