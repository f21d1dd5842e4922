"""A plain `pip install .` (not editable, no extras) into a fresh venv runs every command.

This is what an operator does first; a dev-only import in the runtime path (pyyaml once was)
only shows up here, because the development venv has every extra installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _clean_env(home: Path) -> dict[str, str]:
    # Keep only what pip needs to reach its index and cache: no DATABASE_URL, tokens or PYTHONPATH.
    keep = {k: v for k, v in os.environ.items() if k.startswith("PIP_") or k in ("PATH", "LANG", "TMPDIR")}
    keep["HOME"] = str(home)
    # The pip cache keeps the test well under a minute after the first run.
    keep.setdefault("PIP_CACHE_DIR", str(Path(os.environ.get("HOME", "~")).expanduser() / ".cache" / "pip"))
    return keep


def _source_copy(dest: Path) -> Path:
    """The files a fresh clone would have (tracked and new, not ignored), without .venv or builds."""
    if shutil.which("git") is None:
        pytest.skip("git is needed to list the source files")
    listed = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        src = ROOT / name
        if src.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / name)
    return dest


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, str], Path]]:
    base = tmp_path_factory.mktemp("fresh-install")
    src = _source_copy(base / "src")
    venv = base / "venv"
    env = _clean_env(base)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env)
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(src)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    work = base / "work"  # an empty directory: no .env, checkins.toml or source tree to lean on
    work.mkdir()
    yield venv / "bin" / "checkin-bot", env, work


def _run(installed: tuple[Path, dict[str, str], Path], *args: str, stdin: str | None = None,
         extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    exe, env, work = installed
    return subprocess.run([str(exe), *args], cwd=work, env={**env, **(extra_env or {})}, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_version_comes_from_the_package_metadata(installed: tuple[Path, dict[str, str], Path]) -> None:
    expected = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    done = _run(installed, "--version")
    assert done.returncode == 0
    assert done.stdout.strip() == f"checkin-bot {expected}"


def test_the_demo_runs_from_a_plain_install(installed: tuple[Path, dict[str, str], Path]) -> None:
    done = _run(installed, "demo", "--weeks", "1")
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Traceback" not in done.stderr + done.stdout
    assert "Simulated 1 week(s)" in done.stdout


def test_every_other_command_runs_without_a_traceback(installed: tuple[Path, dict[str, str], Path]) -> None:
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
