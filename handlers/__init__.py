"""Bolt listeners. Each module has `register(app, services)`; listeners stay thin."""

from __future__ import annotations

from concurrent.futures import Executor

from slack_bolt import App

from core.services import Services


def register(app: App, services: Services, background: Executor | None = None) -> None:
    """`background` runs event work and what follows an ack off Bolt's listener threads (None: inline)."""
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
    commands.register(app, services, background)
    actions.register(app, services)
    views.register(app, services)
    events.register(app, services, background)
    home.register(app, services)
    manager_actions.register(app, services)
    guard_actions.register(app, services)
