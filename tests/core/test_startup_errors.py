"""Every bad start-up is one line on stderr and exit 1, never a traceback (CONTRACT §1).

Each case runs the real console script (or `python bot.py`) in a fresh directory, with the
token cases pointed at a local sandbox so they get as far as the failure they are about.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = [str(Path(sys.executable).with_name("checkin-bot"))]
BOT_PY = [sys.executable, str(ROOT / "bot.py")]
TOKENS = {"SLACK_BOT_TOKEN": "xoxb-1-startup-secret", "SLACK_SIGNING_SECRET": "startup-signing-secret"}


@dataclass(frozen=True)
class Case:
    id: str
    args: list[str]
    expect: str  # a phrase the one line must contain
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)  # written into the working directory
    slack: bool = False  # point SLACK_API_URL at the sandbox
    busy_port: bool = False  # `{port}` in args/env becomes a port something already listens on
    entry: tuple[str, ...] = ()  # () = the console script; "bot.py" = python bot.py
    migrate_first: bool = False  # create startup.db (`{cwd}` in env) with `db upgrade` first


NOT_UTF8 = b'admins = ["caf\xe9"]\n'  # Latin-1, as an editor on an old system might save it

CASES = [
    Case("config-check-not-utf8", ["config", "check", "checkins.toml"], "not UTF-8",
         files={"checkins.toml": NOT_UTF8}),
    Case("config-check-not-utf8-bot-py", ["config", "check", "checkins.toml"], "not UTF-8",
         files={"checkins.toml": NOT_UTF8}, entry=("bot.py",)),
    Case("config-check-unreadable", ["config", "check", "folder.toml"], "cannot read",
         files={"folder.toml/x": b""}),
    Case("serve-not-utf8-config", ["serve", "--http"], "not UTF-8", env=TOKENS,
         files={"checkins.toml": NOT_UTF8}),
    Case("dispatch-not-utf8-config", ["dispatch"], "not UTF-8", env={**TOKENS, "CHECKINS_CONFIG": "c.toml"},
         files={"c.toml": NOT_UTF8}),
    Case("not-utf8-dotenv", ["db", "upgrade"], ".env is not UTF-8", files={".env": b"X=caf\xe9\n"}),
    Case("port-env-not-a-number", ["serve", "--http"], "PORT must be a port number", env={**TOKENS, "PORT": "abc"}),
    Case("port-env-too-big", ["serve", "--http"], "PORT must be a port number", env={**TOKENS, "PORT": "70000"}),
    Case("port-env-unicode-digits", ["serve", "--http"], "PORT must be a port number",
         env={**TOKENS, "PORT": "３０００"}),
    Case("port-flag-too-big", ["serve", "--http", "--port", "99999"], "--port must be a port number", env=TOKENS),
    Case("port-flag-zero", ["serve", "--http", "--port", "0"], "--port must be a port number", env=TOKENS),
    Case("port-flag-negative", ["serve", "--http", "--port=-5"], "--port must be a port number", env=TOKENS,
         entry=("bot.py",)),
    Case("port-in-use", ["serve", "--http", "--no-scheduler", "--port", "{port}"], "cannot listen on port",
         env=TOKENS, slack=True, busy_port=True),
    Case("mysql-url-upgrade", ["db", "upgrade"], "not supported", env={"DATABASE_URL": "mysql://u:pw@db/x"}),
    Case("mysql-url-dispatch", ["dispatch"], "not supported", env={**TOKENS, "DATABASE_URL": "mysql://u:pw@db/x"},
         slack=True),
    Case("mysql-url-serve", ["serve", "--http"], "not supported", env={**TOKENS, "DATABASE_URL": "mysql://db/x"},
         slack=True, entry=("bot.py",)),
    Case("not-a-url", ["db", "upgrade"], "not a database URL", env={"DATABASE_URL": "checkins.db"}),
    Case("postgres-port-not-a-number", ["db", "upgrade"], "port",
         env={"DATABASE_URL": "postgresql://u:pw@127.0.0.1:abc/x"}),
    Case("postgres-port-too-big", ["db", "upgrade"], "port 99999",
         env={"DATABASE_URL": "postgresql://u:pw@127.0.0.1:99999/x"}),
    Case("postgres-nothing-listening", ["dispatch"], "cannot use the database",
         env={**TOKENS, "DATABASE_URL": "postgresql://u:pw@127.0.0.1:{port}/x"}, slack=True, busy_port=False),
    Case("postgres-unknown-host", ["db", "upgrade"], "cannot use the database",
         env={"DATABASE_URL": "postgresql://u:pw@no-such-host.invalid/x"}),
    Case("postgres-driver-missing", ["db", "upgrade"], "driver that is not installed",
         env={"DATABASE_URL": "postgresql+pg8000://u:pw@127.0.0.1/x"}),
    Case("sqlite-read-only", ["dispatch"], "readonly database", slack=True, migrate_first=True,
         env={**TOKENS, "DATABASE_URL": "sqlite:///file:{cwd}/startup.db?mode=ro&uri=true"}),
    Case("sqlite-dir-missing", ["db", "upgrade"], "cannot use the database",
         env={"DATABASE_URL": "sqlite:////no/such/dir/x.db"}),
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listening() -> Iterator[int]:
    """A port with a listener on every interface, as another service holding it would be."""
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))  # noqa: S104 - the bot binds 0.0.0.0, so the clash must be there
        s.listen()
        yield int(s.getsockname()[1])


def _run(case: Case, cwd: Path, port: int, sandbox_url: str | None) -> subprocess.CompletedProcess[str]:
    fill: Callable[[str], str] = lambda text: text.replace("{port}", str(port)).replace("{cwd}", str(cwd))  # noqa: E731
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("SLACK_", "CHECKINS_", "DATABASE_URL", "PORT", "LOG_LEVEL"))}
    env["DATABASE_URL"] = f"sqlite:///{cwd / 'startup.db'}"
    env.update({k: fill(v) for k, v in case.env.items()})
    if sandbox_url:
        env["SLACK_API_URL"] = sandbox_url
    command = BOT_PY if case.entry == ("bot.py",) else CONSOLE
    return subprocess.run([*command, *map(fill, case.args)], capture_output=True, text=True, timeout=90,
                          env=env, cwd=cwd)


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_a_bad_start_is_one_line_and_exit_1(case: Case, tmp_path: Path, listening: int) -> None:
    for name, content in case.files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    port = listening if case.busy_port else _free_port()
    if case.migrate_first:
        migrate = _run(Case("migrate", ["db", "upgrade"], ""), tmp_path, port, None)
        assert migrate.returncode == 0, migrate.stderr
    if case.slack:
        with Sandbox.start() as sb:
            result = _run(case, tmp_path, port, sb.api_url)
    else:
        result = _run(case, tmp_path, port, None)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert case.expect in lines[0]
    for secret in ("pw@", *TOKENS.values()):
        assert secret not in result.stderr


def test_tone_with_non_utf8_stdin_is_one_line(tmp_path: Path) -> None:
    result = subprocess.run([*CONSOLE, "tone"], input=b"Any upd\xe4te?\n", capture_output=True, timeout=60,
                            cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.decode().strip().splitlines() == ["checkin-bot: the questions on stdin are not UTF-8 text"]
