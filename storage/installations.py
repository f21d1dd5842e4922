"""OAuth installs (issue 11): slack_sdk's stores on our tables, and which workspaces are installed.

The installation, bot and state tables are slack_sdk's own layout, declared on our metadata in
`storage.models` and created by our migrations; the stores here are slack_sdk's SQLAlchemy stores
pointed at those Table objects, and never create tables themselves.

A workspace's *key* is what its rows carry as `team_id`: the workspace's T… ID, or for an org-wide
Enterprise Grid install the org's E… ID, so a W… user seen in two workspaces of the org is one
person with one set of rows.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from slack_sdk.oauth.installation_store import Bot, Installation
from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore
from sqlalchemy import Engine, and_, delete, desc, select, update
from sqlalchemy.orm import Session, sessionmaker

from storage.models import (
    SLACK_BOTS,
    SLACK_INSTALLATIONS,
    SLACK_OAUTH_STATES,
    Base,
    OutboxMessage,
    OutboxState,
    Workspace,
)

log = logging.getLogger(__name__)


def workspace_key(team_id: str | None, enterprise_id: str | None, org_wide: bool) -> str:
    """The `team_id` our rows carry for an install (documented in README, "Several workspaces")."""
    key = enterprise_id if org_wide else team_id
    if not key:
        raise ValueError("an install names a workspace, or an org for an org-wide install")
    return key


@dataclass(frozen=True)
class InstalledBot:
    """One active install: its key, where it is, and its bot token (never logged)."""

    key: str
    team_id: str | None
    enterprise_id: str | None
    org_wide: bool
    bot_user_id: str | None
    token: str
    refresh_token: str | None = None
    expires_at: int | None = None  # Unix seconds, with token rotation


class InstallationStore(SQLAlchemyInstallationStore):
    """slack_sdk's store on our tables; saving an install also (re)activates its workspace."""

    def __init__(self, client_id: str, engine: Engine, clock: Any = None) -> None:
        super().__init__(client_id=client_id, engine=engine, logger=log)
        # Our metadata's tables, not the private copies the base class just built.
        self.metadata = Base.metadata
        self.bots, self.installations = SLACK_BOTS, SLACK_INSTALLATIONS
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        # Set by the wiring: sync the new workspace's config teams once its install is saved.
        self.on_save: Callable[[str], None] | None = None

    def create_tables(self) -> None:
        raise RuntimeError("the OAuth tables are created by the Alembic migrations (checkin-bot migrate)")

    def save(self, installation: Installation) -> None:
        super().save(installation)
        org_wide = bool(installation.is_enterprise_install)
        key = workspace_key(installation.team_id, installation.enterprise_id, org_wide)
        with self.sessions.begin() as session:
            returned = activate(session, key, installation.enterprise_id, org_wide, installation.bot_user_id,
                                self.clock())
        log.info("installed in workspace %s%s", key, " (reinstalled: sending resumes)" if returned else "")
        if self.on_save is not None:
            self.on_save(key)

    def active(self) -> list[InstalledBot]:
        """Every installed workspace's newest bot token, oldest install first."""
        with self.sessions() as session:
            keys = {w.team_id: w for w in session.scalars(select(Workspace).where(
                Workspace.left_at.is_(None), Workspace.bot_user_id.is_not(None)))}
            out = []
            for key in sorted(keys):
                workspace = keys[key]
                bot = self._newest_bot(session, key, workspace)
                if bot is not None:
                    out.append(bot)
            return out

    def active_one(self, key: str) -> InstalledBot | None:
        with self.sessions() as session:
            workspace = session.get(Workspace, key)
            if workspace is None or workspace.left_at is not None:
                return None
            return self._newest_bot(session, key, workspace)

    def find_active(self, team_id: str | None, enterprise_id: str | None) -> InstalledBot | None:
        """The install a request from this workspace (and org) speaks for, if the app is installed there.

        An org-wide install covers every workspace of its org; otherwise the workspace's own install.
        """
        with self.sessions() as session:
            for key, org_wide in ((enterprise_id, True), (team_id, False)):
                workspace = session.get(Workspace, key) if key else None
                if (workspace is None or workspace.left_at is not None or workspace.org_wide != org_wide
                        or workspace.enterprise_id != enterprise_id):
                    continue
                bot = self._newest_bot(session, workspace.team_id, workspace)
                if bot is not None:
                    return bot
            return None

    def _newest_bot(self, session: Session, key: str, workspace: Workspace) -> InstalledBot | None:
        c = SLACK_BOTS.c
        team = None if workspace.org_wide else key
        row = session.execute(
            select(SLACK_BOTS).where(and_(c.client_id == self.client_id, c.enterprise_id == workspace.enterprise_id,
                                          c.team_id == team, c.bot_token.is_not(None)))
            .order_by(desc(c.installed_at), desc(c.id)).limit(1)).mappings().first()
        if row is None:
            return None
        expires = row["bot_token_expires_at"]
        return InstalledBot(key=key, team_id=team, enterprise_id=workspace.enterprise_id, org_wide=workspace.org_wide,
                            bot_user_id=row["bot_user_id"], token=row["bot_token"],
                            refresh_token=row["bot_refresh_token"],
                            expires_at=int(expires.replace(tzinfo=dt.UTC).timestamp()) if expires else None)

    def find_bot_of(self, bot: InstalledBot) -> Bot | None:
        return self.find_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id,
                             is_enterprise_install=bot.org_wide)

    def forget_tokens(self, bot: InstalledBot) -> None:
        """A workspace left: its (dead) tokens are deleted, not kept at rest."""
        self.delete_bot(enterprise_id=bot.enterprise_id, team_id=bot.team_id)
        self.delete_installation(enterprise_id=bot.enterprise_id, team_id=bot.team_id)


class OAuthStateStore(SQLAlchemyOAuthStateStore):
    """slack_sdk's state store (one-time `state` values of the install redirect) on our table."""

    def __init__(self, engine: Engine, expiration_seconds: int = 600) -> None:
        super().__init__(expiration_seconds=expiration_seconds, engine=engine, logger=log)
        self.metadata = Base.metadata
        self.oauth_states = SLACK_OAUTH_STATES

    def create_tables(self) -> None:
        raise RuntimeError("the OAuth tables are created by the Alembic migrations (checkin-bot migrate)")


# ---- arriving, leaving, coming back ------------------------------------------------------------


def activate(session: Session, key: str, enterprise_id: str | None, org_wide: bool, bot_user_id: str | None,
             now: dt.datetime) -> bool:
    """Mark the workspace installed; True when it had left (a reinstall: its held rows are due again)."""
    workspace = session.get(Workspace, key)
    if workspace is None:
        workspace = Workspace(team_id=key, created_at=now)
        session.add(workspace)
    returned = workspace.left_at is not None
    workspace.enterprise_id, workspace.org_wide, workspace.bot_user_id = enterprise_id, org_wide, bot_user_id
    workspace.left_at, workspace.left_reason = None, None
    if returned:
        # Rows held while it was gone go out from now, each still in its recipient's hours.
        session.execute(update(OutboxMessage).where(OutboxMessage.team_id == key,
                                                    OutboxMessage.state == OutboxState.PENDING,
                                                    OutboxMessage.not_before < now).values(not_before=now))
    session.flush()
    return returned


def mark_left(session: Session, key: str, reason: str, now: dt.datetime) -> bool:
    """The app was removed (or its tokens revoked): stop at once. False when it had already left.

    Pending rows stay pending (held: the dispatcher visits only installed workspaces) so a reinstall
    resumes them; claims in flight are given back by the worker's token-gone policy.
    """
    found = session.execute(update(Workspace).where(Workspace.team_id == key, Workspace.left_at.is_(None))
                            .values(left_at=now, left_reason=reason[:64]))
    return bool(getattr(found, "rowcount", 0))


def departed(session: Session, before: dt.datetime) -> list[str]:
    """Keys of workspaces that left before `before` and still have data."""
    return list(session.scalars(select(Workspace.team_id).where(Workspace.left_at.is_not(None),
                                                                Workspace.left_at <= before)))


def _tables_with_team_id() -> Iterator[Any]:
    # Children first (reverse dependency order), so foreign keys never block a delete.
    for table in reversed(Base.metadata.sorted_tables):
        if "team_id" in table.c and table.name not in ("workspaces", SLACK_BOTS.name, SLACK_INSTALLATIONS.name):
            yield table


def purge_workspace(session: Session, key: str) -> int:
    """Delete everything stored for a workspace that left (the retention setting's end). Rows deleted."""
    total = 0
    for table in _tables_with_team_id():
        result = session.execute(delete(table).where(table.c.team_id == key))
        total += int(getattr(result, "rowcount", 0) or 0)
    session.execute(delete(Workspace).where(Workspace.team_id == key, Workspace.left_at.is_not(None)))
    return total
