"""`config check` enforces the tone guard on prompts: every built-in and custom prompt is coaching."""

from __future__ import annotations

from pathlib import Path

import pytest

from coaching.prompts import PROMPTS, render_prompt
from coaching.tone import classify
from wiring.cli import main


def test_every_built_in_prompt_reads_as_coaching() -> None:
    for template in PROMPTS:
        assert classify(render_prompt(template, "the Acme renewal")).label == "coaching", template


def test_config_check_refuses_a_custom_prompt_that_reads_as_a_status_demand(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "checkins.toml"
    path.write_text('prompts = [\n  "What would help you with {goal}?",\n'
                    '  "Send me a status update on {goal} by EOD.",\n]\n', encoding="utf-8")
    assert main(["config", "check", str(path)]) == 1
    err = capsys.readouterr().err
    assert "prompt 2" in err and "status" in err and "Traceback" not in err


def test_config_check_accepts_coaching_custom_prompts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "checkins.toml"
    path.write_text('prompts = ["What would make {goal} feel easier this week?"]\n', encoding="utf-8")
    assert main(["config", "check", str(path)]) == 0
    assert "OK" in capsys.readouterr().out
