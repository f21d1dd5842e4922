"""The app factory: build a Bolt `App` wired to our services (see `wiring.boot`) and listeners."""

from __future__ import annotations

import logging
from collections.abc import Callable

from slack_bolt import App, BoltContext
from slack_bolt.oauth.oauth_settings import OAuthSettings

from core import metrics
from core.logcontext import ContextExecutor
from core.services import Services
from handlers import (
    actions,
    commands,
    errors,
    events,
    guard_actions,
    help_actions,
    home,
    leave_home,
    manager_actions,
    observe,
    replies,
    tenancy,
    vetting,
    views,
)
from handlers.context import SERVICES_KEY
from storage import outbox
from storage.installations import OAuthStateStore
from wiring.tenancy import InstalledWorkspaces, manifest_bot_scopes

log = logging.getLogger(__name__)

# Bolt runs every listener on one pool and answers Slack only once the listener has acked; with a
# small pool, a burst of DM answers (each a few Web API calls) left slash commands waiting past
# Slack's 3 s. 32 threads keep acks prompt under 20 DM answers a second (bench/load.py).
LISTENER_THREADS = 32


def outbox_state(services: Services) -> metrics.OutboxState:
    """What is waiting to be sent, for /metrics (read once per scrape)."""
    now = services.now()
    with services.sessions() as session:
        # One workspace's queue, or (OAuth installs) all of them: a count, no workspace named.
        depth, oldest_age = outbox.depth(session, now, None if services.multi_workspace else services.team_id)
    return metrics.OutboxState(depth, oldest_age)


class _DropTokenSkippedWarning(logging.Filter):
    # Bolt reads SLACK_BOT_TOKEN itself and warns that the client we pass (built from that same
    # token) wins. That is the intent; the line would only clutter every start and one-line errors.
    def filter(self, record: logging.LogRecord) -> bool:
        return "`token` will be unused" not in record.getMessage()


_BOLT_LOG = logging.getLogger("slack_bolt")
_BOLT_LOG.addFilter(_DropTokenSkippedWarning())


def oauth_settings(services: Services) -> OAuthSettings | None:
    """OAuth mode: Bolt's install flow on our stores, asking for manifest.yml's own bot scopes."""
    if not isinstance(services.tenants, InstalledWorkspaces):
        return None
    settings = services.settings
    return OAuthSettings(
        client_id=settings.client_id, client_secret=settings.client_secret, scopes=manifest_bot_scopes(),
        redirect_uri=settings.redirect_uri, installation_store=services.tenants.store,
        installation_store_bot_only=True, state_store=OAuthStateStore(services.engine), logger=_BOLT_LOG)


def build_app(services: Services, process_before_response: bool = False) -> App:
    """`process_before_response=True` finishes each listener before the HTTP response (FaaS, tests)."""
    app = App(
        client=services.client,
        oauth_settings=oauth_settings(services),
        signing_secret=services.settings.signing_secret or "",
        # auth.test already ran in build_services; don't call it twice.
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=_BOLT_LOG,
        # Listeners (and what they do after their ack) keep the request's log fields.
        listener_executor=ContextExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="bolt-listener"),
    )
    metrics.set_outbox_probe(lambda: outbox_state(services))

    def provide_services(context: BoltContext, next: Callable[[], None]) -> None:
        # Every listener reads it with handlers.context.services_of. With OAuth installs it is scoped
        # to the request's workspace: its key, config, bot user and Bolt's per-installation client.
        scoped = services
        if services.tenants is not None:
            tenant = services.tenants.find(context.team_id, context.enterprise_id)
            if tenant is not None:
                scoped = services.scoped(tenant, client=context.client)
        context[SERVICES_KEY] = scoped
        next()

    app.use(provide_services)
    # Before the listeners, so every ack is timed (/metrics).
    observe.register(app)
    vetting.register(app)  # a foreign workspace reaches no listener
    errors.register(app)
    commands.register(app)
    actions.register(app)
    views.register(app)
    events.register(app)
    home.register(app)
    leave_home.register(app)
    manager_actions.register(app)
    guard_actions.register(app)
    replies.register(app)
    help_actions.register(app)
    tenancy.register(app)
    return app
