"""Custom prompts are vetted wherever the bot loads its config: a status demand is an error with its line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import ConfigError, parse_config
from wiring.config import load_checked, parse_checked

BIN = Path(sys.executable).parent
DEMAND = 'prompts = ["Any update on {goal} now?"]\n'


def problems(text: str) -> list[tuple[int | None, str, str]]:
    with pytest.raises(ConfigError) as caught:
        parse_checked(text, "checkins.toml")
    return [(p.line, p.key, p.message) for p in caught.value.problems]


def test_a_custom_prompt_that_reads_as_a_status_demand_is_an_error_on_its_line() -> None:
    [(line, key, message)] = problems('default_timezone = "UTC"\n' + DEMAND)
    assert (line, key) == (2, "prompts")
    assert message.startswith('prompt 1 "Any update on {goal} now?" reads as status demand')


def test_prompt_errors_are_listed_with_the_others_in_line_order() -> None:
    found = problems(DEMAND + '[cadence]\nevery = "fortnightly"\n')
    assert [(line, key) for line, key, _ in found] == [(1, "prompts"), (3, "cadence.every")]


def test_each_bad_prompt_is_named_by_its_number() -> None:
    [(_, _, message)] = problems('prompts = ["What helps with {goal}?", "No goal here", "Why {goal}? {goal}"]\n')
    assert "prompt 2" in message and "does not contain {goal}" in message
    assert "prompt 3" in message and "contains {goal} 2 times" in message
    assert "prompt 1" not in message


def test_an_open_custom_prompt_is_accepted() -> None:
    config = parse_checked('prompts = ["Which conversation about {goal} taught you the most?"]\n')
    assert config.prompts == ["Which conversation about {goal} taught you the most?"]


def test_the_leaf_parser_alone_only_type_checks_prompts() -> None:
    # Without the check (core/config cannot reach the tone classifier) the text is kept as given...
    assert parse_config(DEMAND).prompts == ["Any update on {goal} now?"]
    # ...and a wrong type is still an error with its line.
    with pytest.raises(ConfigError) as caught:
        parse_config("prompts = [3]\n")
    assert caught.value.problems[0].line == 1


def test_load_checked_reads_a_file_and_vets_it(tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(DEMAND)
    with pytest.raises(ConfigError) as caught:
        load_checked(path)
    assert caught.value.source == str(path) and caught.value.problems[0].key == "prompts"
    assert load_checked(None).prompts == []


def run(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN / "checkin-bot"), *args], capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin", **env}, cwd=cwd)


def test_config_check_lists_a_status_demand_prompt_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('admins = ["U0ADMIN"]\n' + DEMAND)
    result = run("config", "check", str(path), env={}, cwd=tmp_path)
    assert result.returncode == 1
    assert f"{path}: line 2: prompts: prompt 1" in result.stderr and "status demand" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_to_start_with_a_status_demand_prompt(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(DEMAND)
    result = run("serve", env={"SLACK_BOT_TOKEN": "xoxb-1", "CHECKINS_CONFIG": str(path)}, cwd=tmp_path)
    assert result.returncode == 1
    assert "line 1: prompts" in result.stderr and "Traceback" not in result.stderr
