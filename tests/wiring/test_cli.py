"""The command line: every contract command exists, exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from wiring.cli import main

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None,
        cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CHECKINS_", "DATABASE_URL"))}
    return subprocess.run([str(BIN / "checkin-bot"), *args], capture_output=True, text=True, timeout=60,
                          env={**base, **(env or {})}, input=stdin, cwd=cwd or ROOT)


@pytest.mark.parametrize("command", [["serve"], ["dispatch"], ["demo"], ["config", "check"], ["tone"],
                                     ["db", "upgrade"]])
def test_every_contract_command_has_help(command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    assert "usage: checkin-bot" in capsys.readouterr().out


def test_a_usage_error_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2


def test_bot_py_and_the_console_script_run_the_same_code() -> None:
    script = subprocess.run([sys.executable, str(ROOT / "bot.py"), "tone", "Any update?"], capture_output=True,
                            text=True, timeout=60, cwd=ROOT)
    console = run("tone", "Any update?")
    assert script.returncode == console.returncode == 0
    assert script.stdout == console.stdout


def test_tone_prints_one_json_object_per_question() -> None:
    result = run("tone", stdin="Why did you lose Acme?\nWhat would help you move the Acme renewal forward?\n")
    assert result.returncode == 0
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["label"] for line in lines] == ["blame", "coaching"]
    assert lines[0]["suggestion"] and "Acme" in lines[0]["suggestion"]
    assert lines[1]["suggestion"] is None
    assert set(lines[0]) == {"text", "label", "suggestion"}


def test_config_check_prints_every_error_with_its_line_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[cadence]\nevery = "fortnightly"\nday = "funday"\n\n[guard]\nwat = 1\n')
    result = run("config", "check", str(path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"{path}: line 2: cadence.every" in result.stderr
    assert f"{path}: line 3: cadence.day" in result.stderr
    assert f"{path}: line 6: guard.wat" in result.stderr


def test_config_check_prints_the_effective_cadence_for_each_team(tmp_path: Path) -> None:
    path = tmp_path / "ok.toml"
    path.write_text('[[teams]]\nname = "West"\nmanager = "U0M"\nmembers = ["U0R1"]\n'
                    'cadence = { day = "tue", time = "09:30" }\n')
    result = run("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "team West" in result.stdout and "every week on Tue at 09:30 local time" in result.stdout


def test_config_check_reads_checkins_config_from_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "env.toml"
    path.write_text('default_timezone = "Nowhere/Land"\n')
    result = run("config", "check", env={"CHECKINS_CONFIG": str(path)})
    assert result.returncode == 1 and "line 1: default_timezone" in result.stderr


def test_a_missing_config_file_is_one_clear_line(tmp_path: Path) -> None:
    result = run("config", "check", str(tmp_path / "nope.toml"))
    assert result.returncode == 1 and "cannot read" in result.stderr and "Traceback" not in result.stderr


def test_serve_without_a_bot_token_says_what_to_set_and_where(tmp_path: Path) -> None:
    result = run("serve", cwd=tmp_path)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr and ".env" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr


def test_serve_refuses_a_broken_config(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[cadence]\nevery = 3\n")
    result = run("serve", env={"SLACK_BOT_TOKEN": "xoxb-1", "CHECKINS_CONFIG": str(path)}, cwd=tmp_path)
    assert result.returncode == 1 and "cadence.every" in result.stderr


def test_a_swapped_token_is_caught_without_echoing_it(tmp_path: Path) -> None:
    result = run("serve", env={"SLACK_BOT_TOKEN": "xapp-secret-value-123"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "xoxb-" in result.stderr and "secret-value-123" not in result.stderr


def test_http_mode_needs_the_signing_secret(tmp_path: Path) -> None:
    result = run("serve", "--http", env={"SLACK_BOT_TOKEN": "xoxb-1"}, cwd=tmp_path)
    assert result.returncode == 1 and "SLACK_SIGNING_SECRET" in result.stderr


def test_db_upgrade_creates_the_schema_and_is_idempotent(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}"}
    first, second = run("db", "upgrade", env=env, cwd=tmp_path), run("db", "upgrade", env=env, cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert "up to date" in first.stdout


def test_an_unreachable_database_is_one_line_without_the_password(tmp_path: Path) -> None:
    env = {"DATABASE_URL": "postgresql://someone:hunter2@127.0.0.1:1/nothing"}
    result = run("db", "upgrade", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "hunter2" not in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_dispatch_runs_one_pass_against_the_sandbox_and_exits_0(tmp_path: Path) -> None:
    from sandbox import Sandbox

    with Sandbox.start() as sb:
        env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sb.api_url,
               "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
        result = run("dispatch", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("dispatch:")


def test_a_rejected_token_is_reported_without_a_traceback(tmp_path: Path) -> None:
    from sandbox import Sandbox

    with Sandbox.start() as sb:
        sb.faults.slack_error("auth.test", "invalid_auth")
        env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": sb.api_url,
               "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
        result = run("dispatch", env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert "invalid_auth" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_slack_api_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'd.db'}"}
    result = run("dispatch", env=env, cwd=tmp_path)
    assert result.returncode == 1
    # slack_sdk logs its connection retries first; the reason is the last line, with no traceback.
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("checkin-bot: cannot reach Slack")
