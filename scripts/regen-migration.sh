#!/usr/bin/env bash
# Before the first release there is one migration; regenerate it from storage/models.py.
# After a release, add a new revision instead (alembic revision --autogenerate).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -f storage/migrations/versions/0001_initial_schema.py /tmp/regen-migration.db
.venv/bin/python - <<'PY'
from alembic import command
from storage.db import make_engine
from storage.migrate import alembic_config
engine = make_engine("sqlite:////tmp/regen-migration.db")
command.revision(alembic_config(engine), message="initial schema", autogenerate=True, rev_id="0001")
PY
sed -i '/^Create Date:/d' storage/migrations/versions/0001_initial_schema.py
