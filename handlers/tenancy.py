"""Leaving: `app_uninstalled` and `tokens_revoked` stop all sending to that workspace at once.

With OAuth installs the workspace is marked as left (the dispatcher visits only installed ones,
so its pending rows are held, not retried) and its dead tokens are deleted; a reinstall through
/slack/install resumes it. What happens to its data then is `[data] uninstalled_retention_days`.
In single-token mode there is nothing to switch to: the next Web API call answers token_revoked,
and the worker's token-gone policy stops the pass with one log line, as before.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext

from handlers.context import services_of

log = logging.getLogger(__name__)


def workspace_leaving(body: dict[str, Any], context: BoltContext) -> list[str]:
    """Keys of the install the event may speak for, likeliest first: the org for an org-wide
    install, else the workspace, then (a Grid workspace) its org's org-wide install."""
    org_wide = bool(context.is_enterprise_install or body.get("is_enterprise_install"))
    team = context.team_id or body.get("team_id")
    keys = [context.enterprise_id] if org_wide else [team, context.enterprise_id]
    return [str(k) for k in keys if k]


def leave(body: dict[str, Any], context: BoltContext, reason: str) -> None:
    services = services_of(context)
    keys = workspace_leaving(body, context)
    if services.tenants is None:
        if services.team_id in keys[:1]:
            log.warning("%s for this workspace: Slack will refuse the bot token from now on", reason)
        return
    installed = next((k for k in keys if services.tenants.by_key(k) is not None), None)
    if installed is not None:
        services.tenants.left(installed, reason)


def on_app_uninstalled(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    leave(body, context, "app_uninstalled")


def on_tokens_revoked(ack: Ack, body: dict[str, Any], event: dict[str, Any], context: BoltContext) -> None:
    ack()
    # Only the bot's own token matters: a user revoking a user token they never gave us changes nothing.
    if (event.get("tokens") or {}).get("bot"):
        leave(body, context, "tokens_revoked")


def register(app: App) -> None:
    app.event("app_uninstalled")(on_app_uninstalled)
    app.event("tokens_revoked")(on_tokens_revoked)
