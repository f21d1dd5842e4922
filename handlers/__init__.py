"""Bolt listeners. Each module has `register(app, services)`; listeners stay thin."""

from __future__ import annotations

from typing import TYPE_CHECKING

from core.services import Services

if TYPE_CHECKING:  # only the annotation: `dispatch` renders messages from here without loading Bolt
    from slack_bolt import App


def register(app: App, services: Services) -> None:
    from handlers import actions, commands, errors, events, guard_actions, home, manager_actions, views

    errors.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services)
    home.register(app, services)
    manager_actions.register(app, services)
    guard_actions.register(app, services)
