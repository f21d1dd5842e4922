"""The app factory: build a Bolt `App` wired to our services and listeners."""

from __future__ import annotations

import logging
from concurrent.futures import Executor, ThreadPoolExecutor

from slack_bolt import App
from slack_sdk.errors import SlackApiError, SlackRequestError

import handlers
from core.config import AdminConfig
from core.services import Clock, Services, make_web_client, system_clock
from core.settings import Settings
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
    services.enterprise_id = auth.get("enterprise_id") or None
    services.bot_user_id = auth.get("user_id")


# Bolt runs every listener on one pool and answers Slack only once the listener has acked; with
# its default of 5 threads, a burst of DM answers left slash commands waiting past Slack's 3 s.
# Commands now hold a thread only until they ack; clicks still until their last Web API call.
LISTENER_THREADS = 32
# Acked events (storing and passing on a DM answer, publishing a Home tab) and whatever follows a
# command's ack run here (handlers.background), so they can never take the threads acks need.
# Sized for 20 DM answers a second at ~1 s of Web API calls each, with room for summaries.
BACKGROUND_THREADS = 24


def build_app(services: Services, process_before_response: bool = False) -> App:
    """`process_before_response=True` finishes each listener before the HTTP response (FaaS, tests)."""
    app = App(
        client=services.client,
        signing_secret=services.settings.signing_secret or "",
        # auth.test already ran in build_services; don't call it twice.
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=logging.getLogger("slack_bolt"),
        listener_executor=ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener"),
    )
    # Finishing before the response means that work must run inline too.
    background: Executor | None = None if process_before_response else ThreadPoolExecutor(
        max_workers=BACKGROUND_THREADS, thread_name_prefix="background")
    handlers.register(app, services, background)
    return app
