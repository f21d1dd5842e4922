"""Loading the admin config for use: core/config's strict parsing plus the prompt checks.

core/config is a leaf and cannot reach the tone classifier, so every place that loads a config
to run the bot (`serve`, `dispatch`, `config check`, the demo and its harness) comes through here.
"""

from __future__ import annotations

from pathlib import Path

from coaching.prompts import PROMPTS, validate_prompts
from core.config import AdminConfig, ConfigError, ConfigProblem, load_config, parse_config


def _builtins_ok(config: AdminConfig, source: str) -> AdminConfig:
    broken = validate_prompts(PROMPTS)
    if broken:  # A broken built-in prompt is a bug, but it must still stop the bot.
        raise ConfigError(source, [ConfigProblem(None, "built-in prompts", m) for m in broken])
    return config


def parse_checked(text: str, source: str = "config") -> AdminConfig:
    return _builtins_ok(parse_config(text, source, check_prompts=validate_prompts), source)


def load_checked(path: Path | None) -> AdminConfig:
    """Load `path` (or the built-in defaults when None) with every check the bot relies on."""
    config = load_config(path, check_prompts=validate_prompts)
    return _builtins_ok(config, str(path) if path else "built-in defaults")
