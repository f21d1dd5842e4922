"""Several workspaces, Enterprise Grid orgs, bot tokens, and the OAuth install (`oauth.v2.access`).

Each workspace has its own state, views and bot user; a token belongs to one workspace (or, for an
org-wide install, to the org), so a token used against another workspace's channel or user gets
Slack's own `channel_not_found` / `user_not_found`. Unknown tokens are `invalid_auth` unless the
directory is lenient (the single-workspace default: any xoxb-/xoxp- token is the default workspace's).
"""

from __future__ import annotations

import base64
import binascii
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from sandbox import views
from sandbox.methods import Ctx
from sandbox.models import APP_ID, SlackError, Team
from sandbox.workspace import Workspace

ROTATION_SECONDS = 43200  # Slack's rotated tokens live 12 hours


@dataclass
class Grant:
    """A bot token: its workspace (`team_id`, None for an org-wide install) and its state."""

    token: str
    team_id: str | None
    enterprise_id: str | None = None
    revoked: bool = False
    expires_at: float | None = None


@dataclass
class Org:
    id: str
    name: str
    team_ids: list[str] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    org_wide: bool = False  # installed org-wide (one token for every workspace)


@dataclass
class Tenant:
    ws: Workspace
    views: views.ViewStore
    ctx: Ctx


@dataclass
class _Pending:
    team_id: str | None
    enterprise_id: str | None
    user: str
    redirect_uri: str | None


def _new_id(prefix: str) -> str:
    return prefix + "0" + secrets.token_hex(4).upper()


class Directory:
    """The workspaces, orgs and tokens of one sandbox."""

    def __init__(self, default: Tenant, clock: Callable[[], float], trigger_ttl: float,
                 make_ctx: Callable[[Workspace, views.ViewStore], Ctx], lenient: bool = True) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.trigger_ttl = trigger_ttl
        self.make_ctx = make_ctx
        self.lenient = lenient
        self.default = default
        self.tenants: dict[str, Tenant] = {default.ws.team.id: default}
        self.orgs: dict[str, Org] = {}
        self.grants: dict[str, Grant] = {}
        self.codes: dict[str, _Pending] = {}
        self.refresh_tokens: dict[str, tuple[str | None, str | None]] = {}
        self.client_id = "1111111111.2222222222"
        self.client_secret = secrets.token_hex(16)
        self.token_rotation = False

    # ---- workspaces and orgs ------------------------------------------------------------------
    def add_workspace(self, team_id: str | None = None, name: str | None = None, domain: str | None = None,
                      enterprise_id: str | None = None) -> Tenant:
        with self.lock:
            team_id = team_id or _new_id("T")
            if team_id in self.tenants:
                raise ValueError(f"workspace {team_id} exists")
            org = self.orgs.get(enterprise_id) if enterprise_id else None
            if enterprise_id and org is None:
                raise ValueError(f"no org {enterprise_id}: add it with add_org first")
            team = Team(team_id, name or team_id, domain or team_id.lower(), enterprise_id,
                        org.name if org else None, bot_user_id=_new_id("U"), bot_id=_new_id("B"))
            ws = Workspace(self.clock, team, org.lock if org else None)
            store = views.ViewStore(ws.lock, self.clock, self.trigger_ttl, team)
            tenant = Tenant(ws, store, self.make_ctx(ws, store))
            self.tenants[team_id] = tenant
            if org is not None:
                org.team_ids.append(team_id)
            return tenant

    def add_org(self, enterprise_id: str | None = None, name: str | None = None) -> Org:
        with self.lock:
            org = Org(enterprise_id or _new_id("E"), name or "Sandbox Org")
            self.orgs[org.id] = org
            return org

    def tenant(self, team_id: str | None) -> Tenant:
        with self.lock:
            if team_id is None:
                return self.default
            found = self.tenants.get(team_id)
            if found is None:
                raise KeyError(f"no workspace {team_id}")
            return found

    def issue_token(self, team_id: str | None, enterprise_id: str | None = None, token: str | None = None,
                    expires_in: int | None = None) -> str:
        with self.lock:
            token = token or f"xoxb-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
            expires = self.clock() + expires_in if expires_in else None
            self.grants[token] = Grant(token, team_id, enterprise_id, expires_at=expires)
            return token

    def revoke(self, team_id: str | None = None, enterprise_id: str | None = None) -> list[str]:
        """Revoke every token of a workspace (or of an org's org-wide install); the tokens revoked."""
        with self.lock:
            out = []
            for grant in self.grants.values():
                mine = grant.team_id == team_id if team_id else (grant.team_id is None
                                                                 and grant.enterprise_id == enterprise_id)
                if mine and not grant.revoked:
                    grant.revoked = True
                    out.append(grant.token)
            return out

    # ---- tokens -------------------------------------------------------------------------------
    def resolve(self, token: str, args: dict[str, Any]) -> Ctx:
        """The workspace a bot/user token acts in, or SlackError (invalid_auth, token_revoked...)."""
        with self.lock:
            grant = self.grants.get(token)
            if grant is None:
                if self.lenient:
                    return self.default.ctx
                raise SlackError("invalid_auth")
            if grant.revoked:
                raise SlackError("token_revoked")
            if grant.expires_at is not None and self.clock() >= grant.expires_at:
                raise SlackError("token_expired")
            if grant.team_id is not None:
                tenant = self.tenants[grant.team_id]
                if not tenant.ws.installed:
                    raise SlackError("account_inactive")
                return tenant.ctx
            org = self.orgs[str(grant.enterprise_id)]
            return replace(self._org_tenant(org, args).ctx, org_wide=True)

    def _org_tenant(self, org: Org, args: dict[str, Any]) -> Tenant:
        """The workspace an org-wide token's call is about: `team_id`, else the one holding its target."""
        if args.get("team_id"):
            if args["team_id"] not in org.team_ids:
                raise SlackError("team_not_found")
            return self.tenants[str(args["team_id"])]
        targets = [str(args[k]) for k in ("channel", "channel_id", "user", "user_id") if args.get(k)]
        targets += [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
        for team_id in org.team_ids:
            tenant = self.tenants[team_id]
            if any(t in tenant.ws.channels or t in tenant.ws.users for t in targets):
                return tenant
        if not org.team_ids:
            raise SlackError("team_not_found")
        return self.tenants[org.team_ids[0]]

    # ---- OAuth --------------------------------------------------------------------------------
    def authorize(self, team_id: str | None, enterprise_id: str | None, user: str,
                  redirect_uri: str | None) -> str:
        """A user approved the install: the `code` Slack puts on the redirect."""
        with self.lock:
            code = f"{secrets.randbelow(10**10)}.{secrets.randbelow(10**12)}.{secrets.token_hex(16)}"
            self.codes[code] = _Pending(team_id, enterprise_id, user, redirect_uri)
            return code

    def _client_auth(self, args: dict[str, Any], basic: str | None) -> None:
        client_id, secret = args.get("client_id"), args.get("client_secret")
        if basic:
            try:
                client_id, _, secret = base64.b64decode(basic, validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise SlackError("invalid_client_id") from exc
        if client_id != self.client_id:
            raise SlackError("invalid_client_id")
        if secret != self.client_secret:
            raise SlackError("bad_client_secret")

    def oauth_access(self, args: dict[str, Any], basic: str | None, scopes: str) -> dict[str, Any]:
        with self.lock:
            self._client_auth(args, basic)
            grant_type = args.get("grant_type") or "authorization_code"
            if grant_type == "refresh_token":
                where = self.refresh_tokens.pop(str(args.get("refresh_token") or ""), None)
                if where is None:
                    raise SlackError("invalid_refresh_token")
                team_id, enterprise_id = where
                installer = ""
            elif grant_type == "authorization_code":
                pending = self.codes.pop(str(args.get("code") or ""), None)
                if pending is None:
                    raise SlackError("invalid_code")
                if pending.redirect_uri and args.get("redirect_uri") not in (None, "", pending.redirect_uri):
                    raise SlackError("bad_redirect_uri")
                team_id, enterprise_id, installer = pending.team_id, pending.enterprise_id, pending.user
            else:
                raise SlackError("invalid_grant_type")
            return self._install(team_id, enterprise_id, installer, scopes)

    def _install(self, team_id: str | None, enterprise_id: str | None, installer: str,
                 scopes: str) -> dict[str, Any]:
        org = self.orgs.get(enterprise_id) if enterprise_id else None
        if team_id is not None:
            tenant = self.tenants[team_id]
            tenant.ws.installed = True
            team = tenant.ws.team
            team_obj: dict[str, Any] | None = {"id": team.id, "name": team.name}
            bot_user = team.bot_user_id
        else:
            if org is None:
                raise SlackError("invalid_code")
            org.org_wide = True
            first = self.tenants[org.team_ids[0]].ws.team if org.team_ids else Team()
            team_obj, bot_user = None, first.bot_user_id
        expires_in = ROTATION_SECONDS if self.token_rotation else None
        token = self.issue_token(team_id, enterprise_id, expires_in=expires_in,
                                 token=f"xoxe.xoxb-1-{secrets.token_hex(20)}" if expires_in else None)
        out: dict[str, Any] = {
            "ok": True, "app_id": APP_ID, "authed_user": {"id": installer}, "scope": scopes,
            "token_type": "bot", "access_token": token, "bot_user_id": bot_user, "team": team_obj,
            "enterprise": {"id": org.id, "name": org.name} if org else None,
            "is_enterprise_install": team_id is None,
        }
        if expires_in:
            refresh = f"xoxe-1-{secrets.token_hex(24)}"
            self.refresh_tokens[refresh] = (team_id, enterprise_id)
            out.update({"expires_in": expires_in, "refresh_token": refresh})
        return out
