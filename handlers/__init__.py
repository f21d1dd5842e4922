"""Bolt listeners. Each module has `register(app, services)`; listeners stay thin."""

from __future__ import annotations

from slack_bolt import App

from core.services import Services


def register(app: App, services: Services) -> None:
    from handlers import (
        actions,
        commands,
        errors,
        events,
        guard_actions,
        home,
        manager_actions,
        vetting,
        views,
    )

    vetting.register(app, services)  # first: a foreign workspace reaches no listener
    errors.register(app, services)
    commands.register(app, services)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services)
    home.register(app, services)
    manager_actions.register(app, services)
    guard_actions.register(app, services)
