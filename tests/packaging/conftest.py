"""A fresh, plain (non-editable, no extras) install of the project, shared by the packaging tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


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


@pytest.fixture(scope="session")
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


