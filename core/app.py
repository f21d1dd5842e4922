"""The app factory: build a Bolt `App` wired to our services (see `core.boot`) and listeners."""

from __future__ import annotations

import logging

from slack_bolt import App

import handlers
from core.services import Services

log = logging.getLogger(__name__)


def build_app(services: Services, process_before_response: bool = False) -> App:
    """`process_before_response=True` finishes each listener before the HTTP response (FaaS, tests)."""
    app = App(
        client=services.client,
        signing_secret=services.settings.signing_secret or "",
        # auth.test already ran in build_services; don't call it twice.
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=logging.getLogger("slack_bolt"),
    )
    handlers.register(app, services)
    return app
