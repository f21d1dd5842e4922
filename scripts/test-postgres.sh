#!/usr/bin/env bash
# Re-run every test that touches the database against PostgreSQL (the `db` marker).
# Skipped, saying so, only when no server is reachable.
set -euo pipefail
url="${TEST_POSTGRES_URL:-postgresql://checkin:checkin@127.0.0.1:5432/checkin_test}"
if .venv/bin/python - "$url" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1], connect_timeout=3).close()
PY
then
  echo "== the database tests again, on PostgreSQL"
  # Under pytest-xdist each worker uses its own database, <name>_gw0, <name>_gw1 ... (tests/conftest.py).
  # Test by test (`load`): no database test has a module fixture worth keeping to one worker, and
  # whole files left one worker on a slow file (test_time_off) at the end.
  TEST_DATABASE_URL="$url" .venv/bin/pytest -m db -n "${PYTEST_WORKERS:-auto}" --dist load
else
  echo "SKIPPED the PostgreSQL run: no server reachable at ${url##*@} (set TEST_POSTGRES_URL, or run .ci/run)"
fi
