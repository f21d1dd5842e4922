"""Listeners (filled in by the feature that owns them)."""

from __future__ import annotations

from slack_bolt import App

from core.services import Services


def register(app: App, services: Services) -> None:
    return None
