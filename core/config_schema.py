"""The admin config's JSON Schema, generated from the pydantic models so it can't drift from them.

Editors use it for completion and checks (taplo / Even Better TOML read the `#:schema` line at the
top of checkins.example.toml). The models stay the authority: `config check` catches what a schema
can't say (zones, quiet hours that leave no time, prompts that read as status demands).
"""

from __future__ import annotations

import json
from typing import Any

from core.config import AdminConfig

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def config_schema() -> dict[str, Any]:
    schema = AdminConfig.model_json_schema(mode="validation")
    return {"$schema": SCHEMA_DIALECT, "title": "Check-in Coach admin config (checkins.toml)", **{
        k: v for k, v in schema.items() if k != "title"}}


def config_schema_text() -> str:
    return json.dumps(config_schema(), indent=2, sort_keys=True) + "\n"
