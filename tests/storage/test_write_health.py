"""storage.db.database_fault: writable, read-only, and ordinary errors that are not faults."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from storage.db import database_fault, make_engine, upgrade


@pytest.fixture(autouse=True)
def probe_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("storage.db.PROBE_EVERY", 0.0)


def test_a_writable_database_has_no_fault(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ok.db'}")
    upgrade(engine)
    assert database_fault(engine) is None


def test_a_database_opened_read_only_reports_read_only(tmp_path: Path) -> None:
    path = tmp_path / "ro.db"
    writable = make_engine(f"sqlite:///{path}")
    upgrade(writable)
    writable.dispose()
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with engine.connect() as connection:  # reads still work: only writes are refused
        assert connection.execute(text("SELECT count(*) FROM alembic_version")).scalar() == 1
    assert database_fault(engine) == "read-only"


def test_a_schema_that_was_never_created_is_a_fault(tmp_path: Path) -> None:
    assert database_fault(make_engine(f"sqlite:///{tmp_path / 'empty.db'}")) == "not writable"


def test_a_storage_error_met_by_a_request_is_reported_even_before_the_next_probe(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "x.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    assert database_fault(engine) is None
    monkeypatch.setattr("storage.db.PROBE_EVERY", 3600.0)  # the last probe said "fine"
    with pytest.raises(OperationalError), engine.connect() as connection:
        connection.exec_driver_sql("ATTACH DATABASE 'file:/nonexistent/dir/x.db?mode=rw' AS gone")
    assert database_fault(engine) == "not writable"


def test_a_constraint_violation_is_not_a_storage_fault(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    upgrade(engine)
    assert database_fault(engine) is None
    monkeypatch.setattr("storage.db.PROBE_EVERY", 3600.0)
    with pytest.raises(IntegrityError), engine.begin() as connection:
        connection.execute(text("INSERT INTO alembic_version SELECT version_num FROM alembic_version"))
    assert database_fault(engine) is None
