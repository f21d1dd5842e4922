"""Records of the sandbox workspace: users, conversations, messages, ephemerals, files."""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

TEAM_ID = "T0SANDBOX"
TEAM_DOMAIN = "sandbox"
TEAM_NAME = "Sandbox"
APP_ID = "A0SANDBOX"
BOT_ID = "B0SANDBOX"
BOT_USER_ID = "U0BOTUSER"
BOT_NAME = "checkin-coach"
ENTERPRISE_ID: str | None = None


@dataclass
class Team:
    """A workspace's identity, and the bot user the app has in it (each workspace has its own)."""

    id: str = TEAM_ID
    name: str = TEAM_NAME
    domain: str = TEAM_DOMAIN
    enterprise_id: str | None = ENTERPRISE_ID
    enterprise_name: str | None = None
    bot_user_id: str = BOT_USER_ID
    bot_id: str = BOT_ID


class SlackError(Exception):
    """A Web API error: becomes {"ok": false, "error": error, **extra}."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class User:
    id: str
    name: str
    real_name: str
    tz: str | None = "UTC"  # None: the profile has no zone (Slack then sends no tz fields)
    is_admin: bool = False
    is_bot: bool = False
    deleted: bool = False
    email: str | None = None
    team_id: str = TEAM_ID
    enterprise_id: str | None = None  # set for an Enterprise Grid user (W… ID)
    enterprise_name: str | None = None
    teams: list[str] = field(default_factory=list)  # a Grid user's workspaces
    updated: float = 0.0

    def zone_fields(self, at: float) -> dict[str, Any]:
        if self.tz is None:
            return {}
        try:
            zone = ZoneInfo(self.tz)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo("UTC")
        local = datetime.fromtimestamp(at, tz=UTC).astimezone(zone)
        offset = local.utcoffset()
        return {
            "tz": self.tz,
            "tz_label": local.tzname() or self.tz,
            "tz_offset": int(offset.total_seconds()) if offset is not None else 0,
        }

    def to_api(self, at: float) -> dict[str, Any]:
        profile: dict[str, Any] = {
            "real_name": self.real_name,
            "real_name_normalized": self.real_name,
            "display_name": self.name,
            "display_name_normalized": self.name,
            "team": self.team_id,
            "avatar_hash": "g0sandbox000",
            "image_original": f"https://avatars.example.invalid/{self.id}.png",
            "status_text": "",
            "status_emoji": "",
            **{f"image_{n}": f"https://avatars.example.invalid/{self.id}_{n}.png" for n in (24, 32, 48, 72, 192, 512)},
        }
        if self.email:
            profile["email"] = self.email
        if self.is_bot:
            profile.update({"bot_id": BOT_ID, "api_app_id": APP_ID, "always_active": True})
        updated = int(self.updated or at)
        if self.deleted:
            # A deactivated user comes back without most top-level fields (no tz, no roles).
            return {"id": self.id, "team_id": self.team_id, "name": self.name, "deleted": True, "profile": profile,
                    "is_bot": self.is_bot, "is_app_user": False, "updated": updated}
        out: dict[str, Any] = {
            "id": self.id,
            "team_id": self.team_id,
            "name": self.name,
            "deleted": self.deleted,
            "color": "9f69e7",
            "real_name": self.real_name,
            **self.zone_fields(at),
            "profile": profile,
            "is_admin": self.is_admin,
            "is_owner": False,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "updated": updated,
            "is_email_confirmed": self.email is not None,
            "has_2fa": False,
            "who_can_share_contact_card": "EVERYONE",
        }
        if self.enterprise_id:
            out["enterprise_user"] = {"id": self.id, "enterprise_id": self.enterprise_id,
                                      "enterprise_name": self.enterprise_name or "", "is_admin": self.is_admin,
                                      "is_owner": False, "is_primary_owner": False,
                                      "teams": list(self.teams or [self.team_id])}
        return out


@dataclass
class Channel:
    id: str
    name: str
    is_im: bool = False
    im_user: str | None = None
    members: set[str] = field(default_factory=set)


@dataclass
class Message:
    """A message in a conversation, as stored (and as shown to tests)."""

    channel: str
    ts: str
    user: str
    text: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    metadata: dict[str, Any] | None = None
    thread_ts: str | None = None
    bot_id: str | None = None
    files: list[str] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)
    reply_ts: list[str] = field(default_factory=list)
    edited_ts: str | None = None
    deleted: bool = False
    client_msg_id: str | None = None
    parent_user_id: str | None = None
    team: str = TEAM_ID
    subtype: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # other fields as Slack sent them (files, root…)

    @property
    def event_type(self) -> str | None:
        return self.metadata.get("event_type") if self.metadata else None

    @property
    def event_payload(self) -> dict[str, Any]:
        payload = self.metadata.get("event_payload") if self.metadata else None
        return payload if isinstance(payload, dict) else {}

    def action_ids(self) -> list[str]:
        return [e["action_id"] for e in iter_elements(self.blocks) if "action_id" in e]

    @property
    def visible_text(self) -> str:
        return visible_text(self.text, self.blocks)

    def to_api(self, include_metadata: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "user": self.user, "text": self.text, "ts": self.ts}
        if self.subtype:
            out["subtype"] = self.subtype
        out["team"] = self.team
        if self.bot_id:
            out["bot_id"] = self.bot_id
            out["app_id"] = APP_ID
            out["bot_profile"] = {"id": self.bot_id, "app_id": APP_ID, "name": BOT_NAME, "deleted": False,
                                  "team_id": self.team}
        elif self.client_msg_id:
            out["client_msg_id"] = self.client_msg_id
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        if self.thread_ts:
            out["thread_ts"] = self.thread_ts
            if self.thread_ts != self.ts and self.parent_user_id:
                out["parent_user_id"] = self.parent_user_id
        if self.reply_ts:
            out["thread_ts"] = self.ts
            out["reply_count"] = len(self.reply_ts)
            out["latest_reply"] = self.reply_ts[-1]
        if self.files:
            out["files"] = [{"id": f} for f in self.files]
        out.update(copy.deepcopy(self.extra))
        if self.reactions:
            out["reactions"] = [{"name": n, "users": list(u), "count": len(u)} for n, u in self.reactions.items()]
        if self.edited_ts:
            out["edited"] = {"user": self.user, "ts": self.edited_ts}
        if include_metadata and self.metadata:
            out["metadata"] = copy.deepcopy(self.metadata)
        return out


@dataclass
class Ephemeral:
    """An ephemeral message, from chat.postEphemeral, a response_url or an immediate ack reply."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    ts: str
    source: str  # "chat.postEphemeral" | "response_url" | "ack"
    thread_ts: str | None = None
    deleted: bool = False

    def action_ids(self) -> list[str]:
        return [e["action_id"] for e in iter_elements(self.blocks) if "action_id" in e]

    @property
    def visible_text(self) -> str:
        return visible_text(self.text, self.blocks)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "message", "subtype": "bot_message", "text": self.text, "ts": self.ts,
                               "bot_id": BOT_ID, "user": BOT_USER_ID}
        if self.blocks:
            out["blocks"] = copy.deepcopy(self.blocks)
        return out


@dataclass
class UploadedFile:
    id: str
    filename: str
    length: int
    title: str | None = None
    content: bytes | None = None
    channels: list[str] = field(default_factory=list)
    completed: bool = False
    alt_txt: str | None = None  # files.getUploadURLExternal's description for screen readers


@dataclass
class ResponseTarget:
    """Where a response_url posts land: the conversation, the user, and the source message if any."""

    token: str
    channel: str
    user: str
    message_ts: str | None = None
    ephemeral_ts: str | None = None
    uses: int = 0
    created: float = 0.0


def visible_text(text: str, blocks: Any) -> str:
    """The fallback text and every text in the blocks, one per line (for assertions on content)."""
    found: list[str] = [text] if text else []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("text"), str) and node.get("type") in ("plain_text", "mrkdwn", "text"):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(blocks)
    return "\n".join(found)


def iter_elements(blocks: Any) -> list[dict[str, Any]]:
    """All interactive elements of a list of blocks (section accessories, actions, input elements)."""
    found: list[dict[str, Any]] = []
    if not isinstance(blocks, list):
        return found
    for block in blocks:
        if not isinstance(block, dict):
            continue
        candidates: list[Any] = []
        if block.get("type") in ("actions", "context_actions"):
            candidates.extend(block.get("elements") or [])
        for key in ("accessory", "element"):
            if key in block:
                candidates.append(block[key])
        for el in candidates:
            if isinstance(el, dict):
                found.append({**el, "_block_id": block.get("block_id")})
    return found


def fill_ids(blocks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `blocks` with the block_ids and action_ids Slack generates when they are left out."""
    out = copy.deepcopy(blocks)
    for block in out:
        if not isinstance(block, dict):
            continue
        block.setdefault("block_id", secrets.token_urlsafe(4)[:5])
        elements: list[Any] = []
        if block.get("type") == "actions":
            elements.extend(block.get("elements") or [])
        elements.extend(block[k] for k in ("accessory", "element") if k in block)
        for el in elements:
            if isinstance(el, dict) and el.get("type") not in ("image", None):
                el.setdefault("action_id", secrets.token_urlsafe(4)[:5])
    return out
