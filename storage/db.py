"""Engine and session set-up, and Alembic upgrades. Nothing runs at import time."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy's default driver is psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run while a dispatch pass writes; busy_timeout makes concurrent writers
    # wait instead of failing with "database is locked".
    # We issue BEGIN ourselves (see _sqlite_begin), so the driver must not.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=10000")
    for attempt in range(50):
        # Switching a brand-new file to WAL needs a moment alone with it, and SQLite answers
        # "locked" at once rather than waiting when two processes create it together.
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError:
            if attempt == 49:
                raise
            time.sleep(0.1)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # BEGIN IMMEDIATE takes the write lock up front. A deferred transaction that read first and
    # writes later fails at once with "database is locked" when another process wrote meanwhile;
    # taking the lock first makes it wait (busy_timeout) instead, so concurrent passes serialise.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    # hide_parameters: a database error's message would otherwise carry the bound values (answer
    # text, goals) into the log.
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False},
                               hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Up to 50 connections: the listener and background threads (core/app.py) and a dispatch
    # pass's senders each hold one only for a short transaction, but may do so at once.
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, hide_parameters=True)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


# Arbitrary, fixed keys for PostgreSQL advisory locks taken by this app.
MIGRATION_LOCK = 727_274_001
TEAM_SYNC_LOCK = 727_274_002


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (idempotent, and safe when several processes start at once)."""
    config = alembic_config(engine)
    if engine.dialect.name != "postgresql":
        # SQLite: BEGIN IMMEDIATE already makes a second process wait for the first.
        command.upgrade(config, "head")
        return
    with engine.begin() as connection:
        # Two processes starting together would both try to create the tables; the second waits
        # here, then finds the schema at head and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def insert_ignore(session: Session, model: type[Any], rows: dict[str, Any] | list[dict[str, Any]],
                  returning: Any = None) -> list[Any]:
    """INSERT … ON CONFLICT DO NOTHING in the session's dialect: the unique constraint decides.

    Returns the `returning` column of the rows actually inserted (none when all existed), which
    is how claims work here: whoever gets a row back owns the work.
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = insert(model).values(rows).on_conflict_do_nothing()
    if returning is None:
        session.execute(statement)
        return []
    return list(session.execute(statement.returning(returning)).scalars())


def advisory_lock(session: Session, key: int) -> None:
    """Serialise a transaction against others taking the same key (PostgreSQL; SQLite already is)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def ping(engine: Engine) -> bool:
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return False
    return True


def describe(engine: Engine) -> str:
    """The database URL with any password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)
