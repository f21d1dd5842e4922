"""Alembic environment: the engine comes from `storage.db.alembic_config`, never from an ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.models import Base

engine = context.config.attributes.get("engine")
if not isinstance(engine, Engine):
    raise RuntimeError("run migrations through storage.db.upgrade(), which passes the engine")

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite needs batch ALTERs
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
