"""Start-up for `dispatch`: what it imports, and auth.test only for a token not yet proven."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from core.config import parse_config
from core.settings import Settings
from sandbox import Sandbox
from storage.models import Workspace
from wiring.boot import build_services, token_digest

ROOT = Path(__file__).resolve().parents[2]


def settings(sandbox: Sandbox, database_url: str, token: str) -> Settings:
    return Settings(bot_token=token, api_url=sandbox.api_url, database_url=database_url)


def test_a_second_start_with_the_same_token_skips_auth_test(sandbox: Sandbox, database_url: str) -> None:
    first = build_services(settings(sandbox, database_url, "xoxb-one"), parse_config(""))
    assert len(sandbox.calls_to("auth.test")) == 1
    second = build_services(settings(sandbox, database_url, "xoxb-one"), parse_config(""))
    assert len(sandbox.calls_to("auth.test")) == 1
    assert (second.team_id, second.bot_user_id) == (first.team_id, first.bot_user_id) == (
        sandbox.team_id, first.bot_user_id) and first.bot_user_id
    with second.sessions.begin() as session:
        stored = session.scalars(select(Workspace.token_sha256)).all()
    assert stored == [token_digest("xoxb-one")] and "xoxb-one" not in stored[0]
    # Another token is proven again (and becomes the one remembered).
    build_services(settings(sandbox, database_url, "xoxb-two"), parse_config(""))
    assert len(sandbox.calls_to("auth.test")) == 2
    for engine in (first.engine, second.engine):
        engine.dispose()


def test_dispatch_loads_no_bolt_sandbox_demo_or_alembic() -> None:
    # The modules `checkin-bot dispatch` runs, in a fresh interpreter.
    code = ("import sys, wiring.cli, wiring.boot, handlers.passes\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('slack_bolt', 'sandbox', 'alembic', 'mako', 'rich', 'apscheduler', 'waitress'))\n"
            "print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
