"""Engine and session set-up, and Alembic upgrades. Nothing runs at import time."""

from __future__ import annotations

import functools
import math
import re
import sqlite3
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


SUPPORTED_BACKENDS = ("sqlite", "postgresql")


class DatabaseURLError(ValueError):
    """DATABASE_URL can't be used as given; the message says why without echoing the password."""


def normalise_url(url: str) -> str:
    """Check the URL, and use psycopg 3 for plain `postgresql://` URLs (SQLAlchemy's default is psycopg2)."""
    try:
        parsed = make_url(url)
    except ValueError:  # make_url turns the port into an int
        raise DatabaseURLError("DATABASE_URL has a port that is not a number from 1 to 65535") from None
    except ArgumentError:
        raise DatabaseURLError("DATABASE_URL is not a database URL; use sqlite:///path/to/file.db "
                               "or postgresql://user:password@host:5432/name") from None
    if parsed.drivername == "postgres":
        parsed = parsed.set(drivername="postgresql")
    backend = parsed.get_backend_name()
    if backend not in SUPPORTED_BACKENDS:
        raise DatabaseURLError(f"DATABASE_URL uses {backend!r}, which is not supported; "
                               "use SQLite (sqlite:///path) or PostgreSQL (postgresql://...)")
    if parsed.port is not None and not 1 <= parsed.port <= 65535:
        raise DatabaseURLError(f"DATABASE_URL has port {parsed.port}; a port is a number from 1 to 65535")
    if parsed.drivername == "postgresql":
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
    try:
        if make_url(url).get_backend_name() == "sqlite":
            engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False},
                                   hide_parameters=True)
            event.listen(engine, "connect", _sqlite_pragmas)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            # Up to 50 connections: the listener threads (wiring/app.py) and a dispatch pass's
            # senders each hold one only for a short transaction, but may do so at once.
            engine = create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=40, hide_parameters=True)
    except ModuleNotFoundError as exc:  # e.g. postgresql+psycopg2:// without psycopg2
        raise DatabaseURLError(f"DATABASE_URL names a driver that is not installed ({exc.name}); "
                               "use postgresql://... (psycopg 3) or sqlite:///...") from None
    event.listen(engine, "handle_error", _record_failure)
    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


# Arbitrary, fixed keys for PostgreSQL advisory locks taken by this app.
MIGRATION_LOCK = 727_274_001
TEAM_SYNC_LOCK = 727_274_002
_REVISION = re.compile(r"^(down_revision|revision)\s*=\s*(.+)$", re.MULTILINE)


@functools.cache
def head_revisions() -> frozenset[str]:
    """The newest migration(s), read from the version files' `revision` / `down_revision` lines.

    Reading ~a dozen small files costs far less than loading Alembic to ask it the same thing.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        for name, value in _REVISION.findall(path.read_text(encoding="utf-8")):
            found = set(re.findall(r"['\"]([^'\"]+)['\"]", value))
            (revisions if name == "revision" else parents).update(found)
    return frozenset(revisions - parents)


def current_revisions(engine: Engine) -> frozenset[str] | None:
    """What alembic_version says, or None when the database has no schema yet."""
    try:
        with engine.connect() as connection:
            return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError:
        return None


def upgrade(engine: Engine) -> None:
    """Apply every pending migration (idempotent, and safe when several processes start at once).

    Up to date (every start but the first after a release) costs one query.
    """
    if current_revisions(engine) == head_revisions():
        return
    # Alembic (with its templates and autogenerate machinery) loads only when a migration is due.
    from storage.migrate import run_upgrade

    run_upgrade(engine, MIGRATION_LOCK)


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


# --- write health ------------------------------------------------------------------------------
# A database can answer SELECT 1 and still refuse every write (a full disk, a read-only mount).
# `database_fault` says which, from a tiny committed write (at most every PROBE_EVERY seconds)
# and from the storage errors real requests hit in the last RECENT_FAULT seconds.

PROBE_EVERY = 2.0
RECENT_FAULT = 30.0
FaultKind = Literal["unreachable", "read-only", "full", "not writable"]


@dataclass
class _WriteHealth:
    lock: threading.Lock = field(default_factory=threading.Lock)
    probed_at: float = -math.inf
    probe_fault: FaultKind | None = None
    failed_at: float = -math.inf
    failure: FaultKind | None = None


_HEALTH: weakref.WeakKeyDictionary[Engine, _WriteHealth] = weakref.WeakKeyDictionary()
_HEALTH_LOCK = threading.Lock()


def _health(engine: Engine) -> _WriteHealth:
    with _HEALTH_LOCK:
        return _HEALTH.setdefault(engine, _WriteHealth())


def storage_fault_kind(exc: BaseException) -> FaultKind | None:
    """What a database error says about the storage itself; None for ordinary errors (a constraint,
    a lock wait, a bug in a query) that say nothing about whether writes can succeed."""
    if not isinstance(exc, DBAPIError):
        return None
    if exc.connection_invalidated:
        return "unreachable"
    message = str(exc.orig).lower()
    sqlstate = str(getattr(exc.orig, "sqlstate", None) or "")
    if "readonly" in message or "read-only" in message or sqlstate == "25006":
        return "read-only"
    if "disk is full" in message or "no space" in message or sqlstate.startswith("53"):
        return "full"
    if "disk i/o" in message or "unable to open database" in message or sqlstate.startswith("58"):
        return "not writable"
    if (isinstance(exc, OperationalError | InterfaceError)
            and ("connect" in message or "closed" in message or "terminat" in message
                 or sqlstate.startswith(("08", "57P")))):
        return "unreachable"
    return None


def _record_failure(context: ExceptionContext) -> None:
    error = context.sqlalchemy_exception
    kind = storage_fault_kind(error) if error is not None else None
    if kind is None and context.is_disconnect:
        kind = "unreachable"
    if kind is not None and context.engine is not None:
        health = _health(context.engine)
        health.failed_at, health.failure = time.monotonic(), kind


def _probe(engine: Engine) -> FaultKind | None:
    try:
        with engine.begin() as connection:
            # Rewriting the one-row version table with itself: a real, committed write, changing nothing.
            connection.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except SQLAlchemyError as exc:
        kind = storage_fault_kind(exc)
        if kind is None and "locked" in str(exc).lower():
            return None  # another writer held the lock past busy_timeout: busy, not broken
        return kind or "not writable"
    return None


def database_fault(engine: Engine) -> FaultKind | None:
    """None while the database takes writes; else what is wrong, for /healthz and /readyz.

    Never raises and never includes the URL or server messages, so it is safe to show.
    """
    health = _health(engine)
    now = time.monotonic()
    if now - health.probed_at >= PROBE_EVERY and health.lock.acquire(blocking=False):
        try:  # one probe at a time; concurrent callers use the latest result
            health.probe_fault, health.probed_at = _probe(engine), time.monotonic()
        finally:
            health.lock.release()
    if health.probe_fault is not None:
        return health.probe_fault
    if now - health.failed_at < RECENT_FAULT:
        return health.failure
    return None


def describe(engine: Engine) -> str:
    """The database URL with any password hidden, for messages."""
    return engine.url.render_as_string(hide_password=True)
