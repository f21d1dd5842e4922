"""Shared fixtures. Tests that use `database_url` run on SQLite, and again on PostgreSQL when
TEST_DATABASE_URL points at one (scripts/test-postgres.sh does that with `-m db`)."""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, inspect, make_url, text
from sqlalchemy.orm import Session, sessionmaker

from core.clock import ManualClock
from core.config import AdminConfig, parse_config
from sandbox import Sandbox
from sandbox.checks import UNSAFE_MARKUP
from sandbox.client import signature
from storage.db import head_revisions, make_engine, make_session_factory, normalise_url, upgrade
from storage.models import Base
from wiring.harness import BotHarness
from wiring.server import WsgiApp

SPEC_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "slack-spec"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "database_url" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.db)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "db: touches the database (re-run on PostgreSQL)")


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


def _empty_postgres_at_head(url: str) -> None:
    """Leave the database migrated and empty: TRUNCATE when the schema is exactly at head (about
    twenty times cheaper than dropping and migrating again), else drop and migrate for real."""
    engine = make_engine(url)
    try:
        tables = [table.name for table in Base.metadata.sorted_tables]
        with engine.connect() as connection:
            present = set(inspect(connection).get_table_names())
            versions = (sorted(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
                        if "alembic_version" in present else [])
        if present == {*tables, "alembic_version"} and versions == sorted(head_revisions()):
            with engine.begin() as connection:
                connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
            return
    finally:
        engine.dispose()
    _reset_postgres(url)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


def _worker_postgres(url: str) -> str:
    """Under pytest-xdist each worker gets a database of its own, `<name>_<worker>`, created on
    first use (the role has CREATEDB); a plain run uses `url` itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    name = f"{make_url(url).database}_{worker}"
    engine = create_engine(normalise_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def _postgres_url() -> str | None:
    url = os.environ.get("TEST_DATABASE_URL")
    return _worker_postgres(url) if url else None


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated once per session by the real Alembic upgrade."""
    path = tmp_path_factory.mktemp("schema") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


# Tests that take these fixtures get a database already at head (their upgrade() is then the
# one-query no-op); every other test taking `database_url` gets an empty one and migrates it itself.
_MIGRATING_FIXTURES = frozenset({"engine", "sessions", "bot", "in_process"})


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path, _postgres_url: str | None) -> str:
    at_head = not _MIGRATING_FIXTURES.isdisjoint(request.fixturenames)
    if _postgres_url:
        if at_head:
            _empty_postgres_at_head(_postgres_url)
        else:
            _reset_postgres(_postgres_url)
        return _postgres_url
    path = tmp_path / "checkins.db"
    if at_head:
        shutil.copyfile(request.getfixturevalue("_sqlite_template"), path)
    return f"sqlite:///{path}"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return make_session_factory(engine)


@pytest.fixture
def clock() -> ManualClock:
    # A Monday morning in UTC; tests move it explicitly.
    return ManualClock(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC))


@pytest.fixture
def sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    # The workspace's message timestamps follow the simulated clock.
    with Sandbox.start(clock=lambda: clock().timestamp()) as sb:
        yield sb


@pytest.fixture
def admin_config(request: pytest.FixtureRequest) -> AdminConfig:
    """Override in a test module to give the bot a different config; a module that sets
    `ANY_HOUR = True` gets the default one with ANY_HOUR_CADENCE."""
    text = DEFAULT_TEST_CONFIG
    if getattr(request.module, "ANY_HOUR", False):
        text = with_any_hour(text)
    return parse_config(text, "test config")


def with_any_hour(text: str) -> str:
    """A test config with ANY_HOUR_CADENCE, before its first [[teams]] (after the top-level keys)."""
    return text.replace("\n[[teams]]", "\n" + ANY_HOUR_CADENCE + "\n[[teams]]", 1)


@pytest.fixture
def bot(sandbox: Sandbox, database_url: str, clock: ManualClock, admin_config: AdminConfig) -> Iterator[BotHarness]:
    for user_id, name, tz in TEST_PEOPLE:
        sandbox.add_user(user_id, name=name, tz=tz)
    with BotHarness(sandbox, database_url, admin_config, clock=clock) as harness:
        yield harness
    # User text that reached Slack as a live broadcast, mention or link fails the test that caused it.
    live = [str(v) for v in sandbox.violations if v.kind == UNSAFE_MARKUP]
    assert not live, "unescaped user text in the bot's messages:\n" + "\n".join(live)


class InProcess:
    """The bot's WSGI app called directly (no socket): the fastest faithful path for big request counts."""

    def __init__(self, harness: BotHarness) -> None:
        self.app = WsgiApp(harness.app, harness.services.engine, services=harness.services)
        self.secret = harness.settings.signing_secret or ""

    def signed(self, body: bytes, content_type: str, timestamp: str | None = None) -> dict[str, str]:
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": stamp,
                "X-Slack-Signature": signature(self.secret, stamp, body)}

    def post(self, body: bytes, headers: dict[str, str], length: int | None = None) -> tuple[int, bytes]:
        environ: dict[str, object] = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "SERVER_PROTOCOL": "HTTP/1.1",
            "QUERY_STRING": "", "wsgi.input": io.BytesIO(body),
            "CONTENT_LENGTH": str(len(body) if length is None else length),
        }
        for name, value in headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key == "CONTENT_TYPE" else "HTTP_" + key] = value
        status: list[str] = []
        chunks = self.app(environ, lambda s, h, exc_info=None: status.append(s))  # type: ignore[arg-type]
        return int(status[0].split()[0]), b"".join(chunks)


@pytest.fixture
def in_process(bot: BotHarness) -> InProcess:
    return InProcess(bot)


# A small team used by most end-to-end tests.
TEST_PEOPLE = [
    ("U0MANAGER", "maya", "America/New_York"),
    ("U0REP1", "ana", "America/Los_Angeles"),
    ("U0REP2", "ben", "Europe/Berlin"),
    ("U0REP3", "chen", "Australia/Sydney"),
    ("U0OTHERMGR", "omar", "UTC"),
    ("U0ADMIN", "ada", "UTC"),
]
# Tests of the manager features exchange messages between people in four zones and are about
# something other than their hours: with this cadence (every day a working day, one quiet minute)
# nearly every moment is allowed for everyone. Respect for real hours is tested on its own
# (tests/e2e/test_respect_month.py) and by the tests that keep the default cadence.
ANY_HOUR_CADENCE = """
[cadence]
working_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
quiet_hours = { start = "04:37", end = "04:38" }
"""
DEFAULT_TEST_CONFIG = """
admins = ["U0ADMIN"]

[[teams]]
name = "West"
manager = "U0MANAGER"
members = ["U0REP1", "U0REP2", "U0REP3"]

[[teams]]
name = "East"
manager = "U0OTHERMGR"
members = []
"""

