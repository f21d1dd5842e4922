"""Real storage faults under a running bot: the person is told the truth, /healthz shows it.

Each fault is real, not a patched exception: SQLite on an ext4 image that the kernel turns
read-only mid-run (an emergency remount, as after disk errors), SQLite on a tmpfs filled to the
last byte, and a throw-away PostgreSQL server stopped while the bot is using it. Mounting needs
root and a kernel that allows it; PostgreSQL needs its server binaries. Without them the test
skips and says why.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from core.clock import ManualClock
from core.config import parse_config
from handlers.errors import NOT_SAVED
from sandbox import Sandbox
from storage.models import Answer, CheckIn, Goal
from wiring.harness import BotHarness

pytestmark = pytest.mark.slow

REP, MANAGER = "U0REP1", "U0MANAGER"
CONFIG = f'[[teams]]\nname = "West"\nmanager = "{MANAGER}"\nmembers = ["{REP}"]\n'
LOST_GOAL = "Close the Globex <renewal> & upsell"
LOST_ANSWER = "Pricing is the blocker; legal has the draft"
FALSE_COMFORT = ("discarded", "was saved", "Added your goal", "Skipped.", "Thanks")


@pytest.fixture(autouse=True)
def quick_health(monkeypatch: pytest.MonkeyPatch) -> None:
    # Probe on every /healthz and forget a failure after a second, so recovery shows at once.
    monkeypatch.setattr("storage.db.PROBE_EVERY", 0.0)
    monkeypatch.setattr("storage.db.RECENT_FAULT", 1.0)


def _run(*args: str, user: str | None = None) -> subprocess.CompletedProcess[str]:
    command = ["su", user, "-s", "/bin/sh", "-c", " ".join(args)] if user else list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=120)


def _mount(*args: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("mounting a test file system needs root")
    result = _run("mount", *args)
    if result.returncode != 0:
        pytest.skip(f"mount is not permitted here: {result.stderr.strip()}")


def _umount(path: Path) -> None:
    if _run("umount", str(path)).returncode != 0:
        _run("umount", "-l", str(path))


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MB tmpfs: small enough to fill in a moment."""
    where = tmp_path / "tmpfs"
    where.mkdir()
    _mount("-t", "tmpfs", "-o", "size=4m", "tmpfs", str(where))
    try:
        yield where
    finally:
        _umount(where)


@pytest.fixture
def ext4(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    """An ext4 loop file system mounted errors=remount-ro; yields (mount point, device name)."""
    if shutil.which("mkfs.ext4") is None:
        pytest.skip("mkfs.ext4 is not installed")
    image, where = tmp_path / "disk.img", tmp_path / "ext4"
    where.mkdir()
    with image.open("wb") as f:
        f.truncate(16 * 1024 * 1024)
    assert _run("mkfs.ext4", "-q", "-F", str(image)).returncode == 0
    _mount("-o", "loop,errors=remount-ro", str(image), str(where))
    try:
        device = os.path.basename(_run("findmnt", "-n", "-o", "SOURCE", str(where)).stdout.strip())
        if not Path(f"/sys/fs/ext4/{device}/trigger_fs_error").exists():
            pytest.skip("this kernel has no ext4 trigger_fs_error to force a read-only remount")
        yield where, device
    finally:
        _umount(where)


def healthz(bot: BotHarness) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(bot.base_url + "/healthz", timeout=30) as response:  # noqa: S310 - local
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


def start_bot(sandbox: Sandbox, url: str, clock: ManualClock, production: bool = False) -> BotHarness:
    """`production`: acknowledge first and run listeners afterwards, as `serve` does."""
    sandbox.add_user(REP, name="ana", tz="UTC")
    sandbox.add_user(MANAGER, name="maya", tz="UTC")
    return BotHarness(sandbox, url, parse_config(CONFIG), clock=clock, process_before_response=not production)


def open_checkin(bot: BotHarness, clock: ManualClock) -> None:
    """A goal, and a check-in sent and open: the things a fault must not falsely claim to change."""
    assert "Added your goal" in bot.slack.slash("goal add Close the Acme renewal", user=REP).text
    bot.dispatch()  # plans Monday 10:00 (UTC is the rep's zone)
    clock.set(dt.datetime(2026, 3, 2, 10, 5, tzinfo=dt.UTC))
    bot.dispatch()
    assert len(bot.sandbox.dms_to(REP)) == 1
    assert healthz(bot) == (200, {"ok": True, "database": "ok"})


def new_ephemerals(bot: BotHarness, since: int) -> list[str]:
    return [e.text for e in bot.sandbox.ephemerals_to(REP)[since:]]


def assert_honest_while_broken(bot: BotHarness, kinds: set[str]) -> None:
    seen = len(bot.sandbox.ephemerals_to(REP))
    # A slash command: a 200 with the truth and the text to resend, never a 500.
    reply = bot.slack.slash(f"goal add {LOST_GOAL}", user=REP)
    assert reply.status == 200, reply.text
    assert NOT_SAVED in reply.text
    assert "Close the Globex &lt;renewal&gt; &amp; upsell" in reply.text  # quoted back, escaped
    # A button.
    assert bot.slack.click("checkin_skip", user=REP).status == 200
    # A plain DM answer: quoted back so nothing is lost.
    assert bot.slack.dm(REP, LOST_ANSWER).status == 200
    replies = new_ephemerals(bot, seen)
    assert len(replies) == 3, replies
    assert NOT_SAVED in replies[1]
    assert "couldn't save your answer" in replies[2] and LOST_ANSWER in replies[2]
    assert not [r for r in replies if any(phrase in r for phrase in FALSE_COMFORT)], replies
    status, body = healthz(bot)
    assert status == 503 and body["ok"] is False and body["database"] in kinds, body


def assert_nothing_was_kept(url: str) -> None:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            goals = list(connection.scalars(select(Goal.text)))
            answers = list(connection.scalars(select(Answer.text)))
            states = list(connection.scalars(select(CheckIn.state).where(CheckIn.rep_id == REP)))
    finally:
        engine.dispose()
    assert goals == ["Close the Acme renewal"] and answers == [] and states == ["sent"]


def wait_healthy(bot: BotHarness, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while healthz(bot)[0] != 200:
        assert time.monotonic() < deadline, healthz(bot)
        time.sleep(0.2)


def test_a_full_disk_is_admitted_and_recovered_from(tmpfs: Path, sandbox: Sandbox, clock: ManualClock) -> None:
    database = tmpfs / "checkins.db"
    url = f"sqlite:///{database}"
    with start_bot(sandbox, url, clock) as bot:
        open_checkin(bot, clock)
        # Fold the write-ahead log into the database and empty it, so the next write must grow
        # a file; then take every free byte.
        with sqlite3.connect(database) as connection:
            assert connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
        filler = tmpfs / "filler"
        with filler.open("wb", buffering=0) as f:  # unbuffered: close has nothing left to flush
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        assert_honest_while_broken(bot, {"full"})
        filler.unlink()
        wait_healthy(bot)
        assert_nothing_was_kept(url)
        # Once there is room again, the same command works.
        assert "Added your goal" in bot.slack.slash(f"goal add {LOST_GOAL}", user=REP).text


def test_a_disk_turned_read_only_mid_run_is_admitted(ext4: tuple[Path, str], sandbox: Sandbox,
                                                     clock: ManualClock) -> None:
    where, device = ext4
    database = where / "checkins.db"
    with start_bot(sandbox, f"sqlite:///{database}", clock) as bot:
        open_checkin(bot, clock)
        # What the kernel does after disk errors on a file system mounted errors=remount-ro.
        Path(f"/sys/fs/ext4/{device}/trigger_fs_error").write_text("check-in coach fault test\n")
        assert "emergency_ro" in _run("findmnt", "-n", "-o", "OPTIONS", str(where)).stdout
        assert_honest_while_broken(bot, {"read-only", "not writable"})
    copy = where.parent / "copy.db"  # read what the disk really holds, from outside the mount
    shutil.copy(database, copy)
    for suffix in ("-wal", "-shm"):
        if Path(f"{database}{suffix}").exists():
            shutil.copy(f"{database}{suffix}", f"{copy}{suffix}")
    assert_nothing_was_kept(f"sqlite:///{copy}")


def test_a_database_directory_mounted_read_only_is_admitted(tmp_path: Path, sandbox: Sandbox,
                                                             clock: ManualClock) -> None:
    """The volume holding the database comes back read-only, and the bot reconnects to it."""
    where = tmp_path / "volume"
    where.mkdir()
    database = where / "checkins.db"
    with start_bot(sandbox, f"sqlite:///{database}", clock) as bot:
        open_checkin(bot, clock)
        _mount("--bind", str(where), str(where))
        try:
            _mount("-o", "remount,bind,ro", str(where))
            bot.services.engine.dispose()  # as after a restart: every connection is opened anew
            assert_honest_while_broken(bot, {"read-only", "not writable"})
        finally:
            _umount(where)
    assert_nothing_was_kept(f"sqlite:///{database}")


def test_in_production_mode_a_failed_command_is_a_200_with_the_truth(tmp_path: Path, sandbox: Sandbox,
                                                                    clock: ManualClock) -> None:
    where = tmp_path / "volume"
    where.mkdir()
    with start_bot(sandbox, f"sqlite:///{where / 'checkins.db'}", clock, production=True) as bot:
        assert "Added your goal" in bot.slack.slash("goal add Close the Acme renewal", user=REP).text
        _mount("--bind", str(where), str(where))
        try:
            _mount("-o", "remount,bind,ro", str(where))
            bot.services.engine.dispose()
            reply = bot.slack.slash(f"goal add {LOST_GOAL}", user=REP)
        finally:
            _umount(where)
    assert reply.status == 200 and NOT_SAVED in reply.text


# --- PostgreSQL ----------------------------------------------------------------------------------


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    return found[-1].parent if found else None


@dataclass
class Postgres:
    bin: Path
    data: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.data.parent} -c listen_addresses=127.0.0.1 -c fsync=off"
        # -l: the server must not hold our pipes open, or waiting for pg_ctl would never end.
        result = _run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.data.parent / "log"),
                      "-o", f"'{options}'", "-w", "-t", "60", *args, user="postgres")
        assert result.returncode == 0, result.stderr


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    """A throw-away PostgreSQL server of our own, on a free port: stopping it harms nobody else."""
    bin_dir = _pg_bin()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql")
    if os.geteuid() != 0:
        pytest.skip("starting a private PostgreSQL here needs root (to run it as the postgres user)")
    # Not under pytest's own temp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="checkin-pg-"))
    try:
        os.chmod(root, 0o755)
        shutil.chown(root, "postgres")
        data = root / "data"
        result = _run(str(bin_dir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", user="postgres")
        if result.returncode != 0:
            pytest.skip(f"initdb failed: {result.stderr.strip()[-200:]}")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        server = Postgres(bin_dir, data, port)
        server.ctl("start")
        try:
            yield server
        finally:
            _run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop", user="postgres")
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_postgres_server_stopped_mid_run_is_admitted(postgres: Postgres, sandbox: Sandbox,
                                                       clock: ManualClock) -> None:
    with start_bot(sandbox, postgres.url, clock) as bot:
        open_checkin(bot, clock)
        postgres.ctl("-m", "immediate", "stop")
        assert_honest_while_broken(bot, {"unreachable"})
        postgres.ctl("start")
        wait_healthy(bot)
        assert_nothing_was_kept(postgres.url.replace("postgresql://", "postgresql+psycopg://"))
        assert "Added your goal" in bot.slack.slash(f"goal add {LOST_GOAL}", user=REP).text

