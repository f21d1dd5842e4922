"""OAuth mode (issue 11): the installed workspaces, read from slack_sdk's installation store.

`InstalledWorkspaces` is what `Services.tenants` holds. The dispatcher calls `active()` at the
start of every pass; with token rotation on, it refreshes tokens about to expire there
(slack_sdk's `TokenRotator`), since the dispatcher runs outside Bolt's request path, where Bolt
refreshes them itself.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path

import yaml
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.oauth.token_rotation import TokenRotator
from sqlalchemy.orm import Session, sessionmaker

from core.services import Clock, Tenant
from core.settings import Settings
from storage.installations import InstallationStore, InstalledBot, mark_left

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).resolve().parent.parent / "manifest.yml"
# Refresh a rotated token this long before it expires (Bolt's own default in the request path).
ROTATE_MINUTES_BEFORE = 120


def manifest_bot_scopes(path: Path = MANIFEST) -> list[str]:
    """The bot scopes the install asks for: manifest.yml's own list, read at start-up (no second list)."""
    try:
        manifest = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RuntimeError(f"cannot read the bot scopes from {path}: {exc}") from None
    scopes = ((manifest.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    if not scopes or not all(isinstance(s, str) for s in scopes):
        raise RuntimeError(f"{path} lists no oauth_config.scopes.bot")
    return list(scopes)


def _tenant(bot: InstalledBot) -> Tenant:
    return Tenant(key=bot.key, enterprise_id=bot.enterprise_id, bot_user_id=bot.bot_user_id, token=bot.token)


class InstalledWorkspaces:
    def __init__(self, store: InstallationStore, sessions: sessionmaker[Session],
                 clock: Clock, rotator: TokenRotator | None = None,
                 wall_clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.sessions = sessions
        self.clock = clock
        self.rotator = rotator
        self.wall_clock = wall_clock  # token expiry is Slack's real time, even under a test clock

    def active(self) -> list[Tenant]:
        out = []
        for bot in self.store.active():
            if self.rotator is not None and bot.refresh_token and bot.expires_at is not None:
                bot = self._rotated(bot)
            out.append(_tenant(bot))
        return out

    def _rotated(self, bot: InstalledBot) -> InstalledBot:
        if bot.expires_at is not None and bot.expires_at - self.wall_clock() > ROTATE_MINUTES_BEFORE * 60:
            return bot
        stored = self.store.find_bot_of(bot)
        assert self.rotator is not None
        if stored is None:
            return bot
        try:
            fresh = self.rotator.perform_bot_token_rotation(bot=stored, minutes_before_expiration=ROTATE_MINUTES_BEFORE)
        except (SlackApiError, SlackRequestError, OSError) as exc:
            # The old token may still work for a while; the next pass tries again.
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.warning("could not refresh the token of workspace %s: %s", bot.key, error)
            return bot
        if fresh is None:
            return bot
        self.store.save_bot(fresh)
        log.info("refreshed the rotating bot token of workspace %s", bot.key)
        return self.store.active_one(bot.key) or bot

    def find(self, team_id: str | None, enterprise_id: str | None) -> Tenant | None:
        bot = self.store.find_active(team_id, enterprise_id)
        return _tenant(bot) if bot is not None else None

    def by_key(self, key: str) -> Tenant | None:
        bot = self.store.active_one(key)
        return _tenant(bot) if bot is not None else None

    def left(self, key: str, reason: str) -> bool:
        bot = self.store.active_one(key)
        with self.sessions.begin() as session:
            changed = mark_left(session, key, reason, self.clock())
        if bot is not None:
            self.store.forget_tokens(bot)
        if changed:
            # The one line an uninstall leaves; nothing is sent to the workspace from now on.
            log.warning("workspace %s left (%s): stopped sending there; its data is kept as [data] says", key, reason)
        return changed


def build_tenants(settings: Settings, sessions: sessionmaker[Session], store: InstallationStore,
                  clock: Clock, api_url: str) -> InstalledWorkspaces:
    rotator = None
    if settings.client_id and settings.client_secret:
        # Rotation is the app's choice (Slack app settings); the rotator only acts on tokens that expire.
        rotator = TokenRotator(client_id=settings.client_id, client_secret=settings.client_secret,
                               client=WebClient(base_url=api_url))
    return InstalledWorkspaces(store, sessions, clock, rotator)
