"""Alembic environment: the engine comes from `storage.migrate.alembic_config`, never from an ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from storage.models import Base


def run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


# storage.db.upgrade passes a connection (holding a lock) or the engine.
shared = context.config.attributes.get("connection")
engine = context.config.attributes.get("engine")
if isinstance(shared, Connection):
    run(shared)
elif isinstance(engine, Engine):
    with engine.connect() as connection:
        run(connection)
else:
    raise RuntimeError("run migrations through storage.db.upgrade(), which passes the engine")
