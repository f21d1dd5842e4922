"""Subcommands (filled in by the feature that owns them)."""

from __future__ import annotations

from handlers.context import SubcommandHandler

ROUTES: dict[str, SubcommandHandler] = {}
