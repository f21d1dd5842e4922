"""Running Alembic. Imported only when `storage.db.upgrade` finds the schema behind the code."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, text

# The same folder as storage.db.MIGRATIONS, found on its own: this module must not import
# storage.db, which imports it lazily (Alembic costs every cron start otherwise).
MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def run_upgrade(engine: Engine, lock_key: int) -> None:
    config = alembic_config(engine)
    if engine.dialect.name != "postgresql":
        # SQLite: one transaction for the whole upgrade, begun IMMEDIATE (storage.db), so a second
        # process waits for the first to finish and then finds the schema at head. Left to itself,
        # Alembic (which takes SQLite's DDL as not transactional) committed between migrations,
        # and a second process starting then ran the next one too: "duplicate column".
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
        return
    with engine.begin() as connection:
        # Two processes starting together would both try to create the tables; the second waits
        # here, then finds the schema at head and does nothing.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key})
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
