"""`checkin-bot config schema`: the JSON Schema editors use agrees with the real parser."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jsonschema
import pytest

from wiring.cli import main

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "checkins.example.toml"


def _schema(capsys: pytest.CaptureFixture[str]) -> dict[str, object]:
    assert main(["config", "schema"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_committed_schema_file_is_what_the_command_prints(capsys: pytest.CaptureFixture[str]) -> None:
    printed = _schema(capsys)
    assert json.loads((ROOT / "docs" / "checkins.schema.json").read_text()) == printed, \
        "run `make schema` after changing core/config.py"


def test_the_example_points_editors_at_the_schema() -> None:
    first = EXAMPLE.read_text().splitlines()[0]
    assert first.startswith("#:schema ")
    assert (ROOT / first.removeprefix("#:schema ").strip()).resolve().is_file()


def test_the_example_is_valid_and_mistakes_are_not(capsys: pytest.CaptureFixture[str]) -> None:
    validator = jsonschema.Draft202012Validator(_schema(capsys))
    example = tomllib.loads(EXAMPLE.read_text())
    example["teams"] = [{"name": "West", "manager": "U0M", "members": ["U0R"], "cadence": {"day": "tue"}}]
    assert list(validator.iter_errors(example)) == []
    for bad in ({"cadense": {}}, {"guard": {"contact_gap_days": "14"}}, {"cadence": {"every": "hourly"}},
                {"teams": [{"name": "West", "members": [], "cadence": {"colour": "red"}}]}):
        assert list(validator.iter_errors(bad)), bad
