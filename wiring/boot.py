"""Services for one process: the database, the Web API client and who we are in Slack.

Kept apart from `wiring.app` so `checkin-bot dispatch` builds what a pass needs without loading
Bolt or the listeners.
"""

from __future__ import annotations

import gc
import hashlib
import logging
import signal
import threading
from types import FrameType

from slack_sdk.errors import SlackApiError, SlackRequestError
from sqlalchemy import Engine

from core import logcontext
from core.config import AdminConfig
from core.services import Clock, Services, make_web_client, system_clock
from core.settings import Settings
from storage.db import make_engine, make_session_factory, upgrade
from storage.installations import InstallationStore
from storage.people import known_identity, remember_identity, sync_config_teams
from wiring.tenancy import build_tenants

log = logging.getLogger(__name__)


def build_services(settings: Settings, config: AdminConfig, clock: Clock = system_clock,
                   migrate: bool = True) -> Services:
    engine = make_engine(settings.database_url)
    if migrate:
        upgrade(engine)
    if settings.oauth:
        return _multi_workspace(settings, config, clock, engine)
    client = make_web_client(settings.require_bot_token(), settings.api_url)
    services = Services(settings=settings, config=config, engine=engine,
                        sessions=make_session_factory(engine),
                        client=client, clock=clock)
    identify(services)
    services.config = config.for_workspace(services.team_id)  # its [workspaces.T…] table, if any
    with services.sessions.begin() as session:
        # Teams from the admin config are known from the first request, not the first pass.
        sync_config_teams(session, services.team_id, services.config, services.now())
    return services


def settle_heap() -> None:
    """Leave what start-up built out of garbage collection: call once a process has booted.

    The modules, engine, clients and config live as long as the process. Left in the collector's
    oldest generation, every full collection walked them all (60-80 ms on a 2-core machine) while
    holding the GIL, and each post in flight waited that long for its answer (bench/dispatch.py).
    """
    gc.freeze()


def token_digest(token: str) -> str:
    """What the database keeps to recognise the token: its SHA-256, never the token."""
    return hashlib.sha256(token.encode()).hexdigest()


def identify(services: Services) -> None:
    """Learn our workspace and bot user from auth.test (also proves the token works).

    A process started with the token that was last proven (cron's `dispatch` every minute) reads
    the stored identity instead: a revoked token then shows at the first Web API call of the pass.
    """
    digest = token_digest(services.settings.require_bot_token())
    with services.sessions.begin() as session:
        known = known_identity(session, digest)
    if known is not None:
        services.team_id, services.bot_user_id = known
        logcontext.set_default(workspace=services.team_id)
        return
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
    logcontext.set_default(workspace=services.team_id)
    if services.bot_user_id:
        with services.sessions.begin() as session:
            remember_identity(session, services.team_id, services.bot_user_id, digest, services.now())


def _multi_workspace(settings: Settings, config: AdminConfig, clock: Clock, engine: Engine) -> Services:
    """OAuth mode: no token of our own; each installed workspace brings its own (wiring.tenancy)."""
    client = make_web_client(None, settings.api_url)  # Bolt copies its base URL and retries per request
    sessions = make_session_factory(engine)
    services = Services(settings=settings, config=config, engine=engine, sessions=sessions, client=client,
                        clock=clock)
    store = InstallationStore(str(settings.client_id), engine, clock=services.now)
    services.tenants = build_tenants(settings, sessions, store, services.now, client.base_url)
    store.on_save = lambda key: sync_workspace_config(services, key)
    for each in services.each_workspace():
        sync_workspace_config(each, each.team_id)
    return services


def sync_workspace_config(services: Services, key: str) -> None:
    """Teams from a workspace's admin config are known from its first request, not its first pass."""
    with services.sessions.begin() as session:
        sync_config_teams(session, key, services.config.for_workspace(key), services.now())


def stop_claiming_on_sigterm(stopping: threading.Event) -> None:
    """`dispatch`: on SIGTERM the pass stops claiming, finishes the posts in flight, gives back the
    rest and returns, so the process exits 0 within seconds and another worker sends the rest."""

    def stop(signum: int, frame: FrameType | None) -> None:
        log.warning("SIGTERM: finishing the posts in flight, giving back the rest")
        stopping.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
