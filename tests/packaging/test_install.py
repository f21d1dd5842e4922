"""A plain `pip install .` (not editable, no extras) into a fresh venv runs every command.

This is what an operator does first; a dev-only import in the runtime path (pyyaml once was)
only shows up here, because the development venv has every extra installed.
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow
Installed = tuple[Path, dict[str, str], Path]


def _run(installed: Installed, *args: str, stdin: str | None = None,
         extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe, env, work = installed
    return subprocess.run([str(exe), *args], cwd=work, env={**env, **(extra_env or {})}, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_version_comes_from_the_package_metadata(installed: Installed) -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = _run(installed, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"checkin-bot {expected}"


def test_the_demo_runs_from_a_plain_install(installed: Installed) -> None:
    done = _run(installed, "demo", "--weeks", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert "Simulated 1 week(s)" in done.stdout


def test_every_other_command_runs_without_a_traceback(installed: Installed) -> None:
    db = {"DATABASE_URL": f"sqlite:///{installed[2] / 'fresh.db'}"}
    checks = [
        (("config", "check"), None, {}, 0),
        (("config", "schema"), None, {}, 0),
        (("tone", "Why did you miss the number?"), None, {}, 0),
        (("tone",), "What would help you this week?\n", {}, 0),
        (("db", "upgrade"), None, db, 0),
        # No token: one polite line and exit 1, not a crash.
        (("dispatch",), None, db, 1),
        (("serve", "--http"), None, db, 1),
    ]
    for args, stdin, extra, code in checks:
        done = _run(installed, *args, stdin=stdin, extra_env=extra)
        assert done.returncode == code, (args, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (args, done.stderr[-2000:])
        assert done.stdout.strip() or done.stderr.strip(), args
