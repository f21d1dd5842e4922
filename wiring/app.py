"""The app factory: build a Bolt `App` wired to our services and listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext
from slack_sdk.errors import SlackApiError, SlackRequestError

from core import logcontext, metrics
from core.config import AdminConfig
from core.logcontext import ContextExecutor
from core.services import Clock, Services, make_web_client, system_clock
from core.settings import Settings
from handlers import actions, commands, errors, events, guard_actions, home, manager_actions, observe, views
from handlers.context import SERVICES_KEY
from storage import outbox
from storage.db import make_engine, make_session_factory, upgrade
from storage.people import sync_config_teams

log = logging.getLogger(__name__)


def build_services(settings: Settings, config: AdminConfig, clock: Clock = system_clock,
                   migrate: bool = True) -> Services:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    client = make_web_client(settings.require_bot_token(), settings.api_url)
    services = Services(settings=settings, config=config, engine=engine,
                        sessions=make_session_factory(engine),
                        client=client, clock=clock)
    identify(services)
    with services.sessions.begin() as session:
        # Teams from the admin config are known from the first request, not the first pass.
        sync_config_teams(session, services.team_id, config, services.now())
    return services


def identify(services: Services) -> None:
    """Learn our workspace and bot user from auth.test (also proves the token works)."""
    try:
        auth = services.client.auth_test()
    except SlackApiError as exc:
        raise RuntimeError(f"Slack rejected SLACK_BOT_TOKEN: {exc.response.get('error')}") from None
    except (SlackRequestError, OSError) as exc:  # URLError, timeouts, refused connections
        reason = getattr(exc, "reason", None) or exc
        raise RuntimeError(f"cannot reach Slack's Web API at {services.client.base_url}: {reason}") from None
    services.team_id = str(auth.get("team_id") or services.team_id)
    services.bot_user_id = auth.get("user_id")
    logcontext.set_default(workspace=services.team_id)


def outbox_state(services: Services) -> metrics.OutboxState:
    """What is waiting to be sent, for /metrics (read once per scrape)."""
    now = services.now()
    with services.sessions() as session:
        depth, oldest_age = outbox.depth(session, now, services.team_id)
    return metrics.OutboxState(depth, oldest_age)


class _DropTokenSkippedWarning(logging.Filter):
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we pass (built from that same
    # token) wins. That is the intent; the line would only clutter every start and one-line errors.
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("slack_bolt")
_BOLT_LOG.addFilter(_DropTokenSkippedWarning())


def build_app(services: Services, process_before_response: bool = False) -> App:
    """`process_before_response=True` finishes each listener before the HTTP response (FaaS, tests)."""
    app = App(
        client=services.client,
        signing_secret=services.settings.signing_secret or "",
        # auth.test already ran in build_services; don't call it twice.
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=_BOLT_LOG,
        # Listeners (and what they do after their ack) keep the request's log fields.
        listener_executor=ContextExecutor(max_workers=8, thread_name_prefix="bolt-listener"),
    )
    metrics.set_outbox_probe(lambda: outbox_state(services))

    def provide_services(context: BoltContext, next: Callable[[], None]) -> None:
        context[SERVICES_KEY] = services  # every listener reads it with handlers.context.services_of
        next()

    app.use(provide_services)
    # Before the listeners, so every ack is timed (/metrics).
    observe.register(app)
    errors.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    home.register(app)
    manager_actions.register(app)
    guard_actions.register(app)
    return app
