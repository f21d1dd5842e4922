"""The Web API methods the sandbox implements, with Slack-shaped responses and errors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox import views
from sandbox.models import (
    BOT_NAME,
    Message,
    SlackError,
    UploadedFile,
    fill_ids,
)
from sandbox.workspace import Workspace


@dataclass
class Ctx:
    ws: Workspace
    views: views.ViewStore
    base_url: str  # http://127.0.0.1:PORT, for upload URLs
    socket_url: Callable[[], str]  # starts the Socket Mode server on first use
    org_wide: bool = False  # the call came with an org-wide (Enterprise Grid) install's token


Handler = Callable[[Ctx, dict[str, Any]], dict[str, Any]]
MAX_ATTACHMENTS = 100  # Slack refuses more with too_many_attachments


def truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("1", "true")) or value == 1


def _str(args: dict[str, Any], name: str, error: str = "invalid_arguments") -> str:
    value = args.get(name)
    if value is None or value == "":
        raise SlackError(error)
    return str(value)


def _blocks(args: dict[str, Any]) -> list[dict[str, Any]] | None:
    blocks = args.get("blocks")
    if blocks is None or blocks == "":
        return None
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    return blocks


def _metadata(args: dict[str, Any]) -> dict[str, Any] | None:
    meta = args.get("metadata")
    if meta is None or meta == "":
        return None
    if not isinstance(meta, dict):
        raise SlackError("invalid_metadata_format")
    return {"event_type": meta.get("event_type"), "event_payload": meta.get("event_payload")}


def auth_test(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    team = ctx.ws.team
    out: dict[str, Any] = {"ok": True, "url": f"https://{team.domain}.slack.com/", "team": team.name,
                           "user": BOT_NAME, "team_id": team.id, "user_id": team.bot_user_id, "bot_id": team.bot_id}
    if ctx.org_wide:
        # An org-wide install's token belongs to the org, not to one of its workspaces.
        out.update({"url": f"https://{team.domain}.enterprise.slack.com/", "team": team.enterprise_name,
                    "team_id": team.enterprise_id})
    if team.enterprise_id:
        out["enterprise_id"] = team.enterprise_id
    out["is_enterprise_install"] = ctx.org_wide
    return out


def chat_post_message(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    chan = ctx.ws.resolve_channel(_str(args, "channel", "channel_not_found"))
    text, blocks = str(args.get("text") or ""), _blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    attachments = args.get("attachments")
    if isinstance(attachments, list) and len(attachments) > MAX_ATTACHMENTS:
        raise SlackError("too_many_attachments")
    extra: dict[str, Any] = {}
    if isinstance(attachments, list) and attachments:
        # Slack numbers the attachments it stored.
        extra["attachments"] = [{**a, "id": i} for i, a in enumerate(attachments, 1) if isinstance(a, dict)]
    _check_slack_files(ctx, blocks)
    msg = ctx.ws.post(chan.id, ctx.ws.bot_user_id, text, blocks, _metadata(args), args.get("thread_ts") or None,
                      extra=extra)
    return {"ok": True, "channel": chan.id, "ts": msg.ts, "message": msg.to_api()}


def _check_slack_files(ctx: Ctx, blocks: list[dict[str, Any]] | None) -> None:
    """An image block may show a file by `slack_file`; Slack refuses one it can't find or that
    isn't a finished upload with `invalid_blocks`."""
    for block in blocks or []:
        ref = block.get("slack_file") if isinstance(block, dict) and block.get("type") == "image" else None
        if ref is None:
            continue
        found = ctx.ws.files.get(str(ref.get("id"))) if isinstance(ref, dict) else None
        if found is None or not found.completed:
            raise SlackError("invalid_blocks")


def chat_post_ephemeral(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    chan = ctx.ws.resolve_channel(_str(args, "channel", "channel_not_found"))
    user = _str(args, "user", "user_not_in_channel")
    if user not in chan.members:
        raise SlackError("user_not_in_channel")
    text, blocks = str(args.get("text") or ""), _blocks(args)
    if not text and not blocks and not args.get("attachments"):
        raise SlackError("no_text")
    eph = ctx.ws.add_ephemeral(chan.id, user, text, blocks, "chat.postEphemeral", args.get("thread_ts") or None)
    return {"ok": True, "message_ts": eph.ts}


def _own_message(ctx: Ctx, args: dict[str, Any], ts_arg: str, not_mine: str) -> Message:
    chan = ctx.ws.resolve_channel(_str(args, "channel", "channel_not_found"), allow_user=False)
    msg = ctx.ws.find(chan.id, _str(args, ts_arg, "message_not_found"))
    if msg is None:
        raise SlackError("message_not_found")
    if not_mine and msg.bot_id != ctx.ws.team.bot_id:
        raise SlackError(not_mine)
    return msg


def chat_update(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    with ctx.ws.lock:
        msg = _own_message(ctx, args, "ts", "cant_update_message")
        if "text" in args and args["text"] is not None:
            msg.text = str(args["text"])
        blocks = _blocks(args)
        if blocks is not None:
            msg.blocks = fill_ids(blocks)
        meta = _metadata(args)
        if meta is not None:
            msg.metadata = meta
        msg.edited_ts = ctx.ws.next_ts()
        return {"ok": True, "channel": msg.channel, "ts": msg.ts, "text": msg.text, "message": msg.to_api()}


def chat_delete(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    with ctx.ws.lock:
        msg = _own_message(ctx, args, "ts", "cant_delete_message")
        msg.deleted = True
        return {"ok": True, "channel": msg.channel, "ts": msg.ts}


def conversations_open(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    if args.get("channel"):
        chan = ctx.ws.resolve_channel(str(args["channel"]), allow_user=False, for_write=False)
        return {"ok": True, "channel": {"id": chan.id}}
    users = [u.strip() for u in str(args.get("users") or "").split(",") if u.strip()]
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("method_not_supported_for_channel_type")  # group DMs are not modelled
    with ctx.ws.lock:
        user = ctx.ws.user(users[0])
        if user.deleted:
            raise SlackError("user_disabled")
        already = ctx.ws.has_im(user.id)
        channel_id = ctx.ws.im_for(user.id)
    channel: dict[str, Any] = {"id": channel_id}
    if truthy(args.get("return_im")):
        channel.update({"created": int(ctx.ws.clock()), "is_im": True, "is_org_shared": False, "user": user.id,
                        "last_read": "0000000000.000000", "latest": None, "unread_count": 0,
                        "unread_count_display": 0, "is_open": True, "is_user_deleted": user.deleted, "priority": 0})
    out: dict[str, Any] = {"ok": True, "channel": channel}
    if already:
        out.update({"no_op": True, "already_open": True})
    return out


def _cursor_start(cursor: Any, messages: list[Message]) -> int:
    if not cursor:
        return 0
    try:
        ts = base64.b64decode(str(cursor), validate=True).decode().removeprefix("next_ts:")
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise SlackError("invalid_cursor") from exc
    for i, msg in enumerate(messages):
        if msg.ts == ts:
            return i
    raise SlackError("invalid_cursor")


def _page(args: dict[str, Any], messages: list[Message], newest_first: bool) -> dict[str, Any]:
    try:
        oldest = float(args.get("oldest") or 0)
        latest = float(args["latest"]) if args.get("latest") else None
        limit = min(max(int(args.get("limit") or 100), 1), 999)
    except ValueError as exc:
        raise SlackError("invalid_arguments") from exc
    inclusive = truthy(args.get("inclusive"))

    def inside(m: Message) -> bool:
        ts = float(m.ts)
        above = ts >= oldest if inclusive else ts > oldest
        below = latest is None or (ts <= latest if inclusive else ts < latest)
        return above and below

    chosen = sorted((m for m in messages if inside(m)), key=lambda m: float(m.ts), reverse=newest_first)
    start = _cursor_start(args.get("cursor"), chosen)
    page, rest = chosen[start:start + limit], chosen[start + limit:]
    with_meta = truthy(args.get("include_all_metadata"))
    nxt = base64.b64encode(f"next_ts:{rest[0].ts}".encode()).decode() if rest else ""
    return {"ok": True, "messages": [m.to_api(with_meta) for m in page], "has_more": bool(rest),
            "response_metadata": {"next_cursor": nxt}}


def conversations_history(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    with ctx.ws.lock:
        chan = ctx.ws.resolve_channel(_str(args, "channel", "channel_not_found"), allow_user=False, for_write=False)
        top = [m for m in ctx.ws.messages.get(chan.id, [])
               if not m.deleted and (m.thread_ts is None or m.thread_ts == m.ts)]
        out = _page(args, top, newest_first=True)
    out.update({"pin_count": 0, "channel_actions_ts": None, "channel_actions_count": 0})
    return out


def conversations_replies(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    with ctx.ws.lock:
        chan = ctx.ws.resolve_channel(_str(args, "channel", "channel_not_found"), allow_user=False, for_write=False)
        parent = ctx.ws.find(chan.id, _str(args, "ts", "thread_not_found"))
        if parent is None:
            raise SlackError("thread_not_found")
        if parent.thread_ts and parent.thread_ts != parent.ts:
            parent = ctx.ws.find(chan.id, parent.thread_ts) or parent
        thread = [parent] + [m for m in ctx.ws.messages[chan.id]
                             if m.thread_ts == parent.ts and m.ts != parent.ts and not m.deleted]
        return _page(args, thread, newest_first=False)


def users_info(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    with ctx.ws.lock:
        user = ctx.ws.user(_str(args, "user", "user_not_found")).to_api(ctx.ws.clock())
    if truthy(args.get("include_locale")):
        user["locale"] = "en-US"
    return {"ok": True, "user": user}


MAX_USERS_PAGE = 1000


def users_list(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    """Members in ID order, `limit` a page (Slack's maximum is 1000), continued by `cursor`."""
    try:
        limit = int(args.get("limit") or 0)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc
    limit = MAX_USERS_PAGE if limit <= 0 else min(limit, MAX_USERS_PAGE)
    with ctx.ws.lock:
        users = sorted(ctx.ws.users.values(), key=lambda u: u.id)
        start = 0
        if args.get("cursor"):
            try:
                after = base64.b64decode(str(args["cursor"]), validate=True).decode().removeprefix("user:")
            except (binascii.Error, UnicodeDecodeError) as exc:
                raise SlackError("invalid_cursor") from exc
            start = next((i for i, u in enumerate(users) if u.id == after), -1)
            if start < 0:
                raise SlackError("invalid_cursor")
        page, rest = users[start:start + limit], users[start + limit:]
        at = ctx.ws.clock()
        members = [u.to_api(at) for u in page]
    if truthy(args.get("include_locale")):
        for member in members:
            member["locale"] = "en-US"
    nxt = base64.b64encode(f"user:{rest[0].id}".encode()).decode() if rest else ""
    return {"ok": True, "members": members, "cache_ts": int(at), "response_metadata": {"next_cursor": nxt}}


def reactions_add(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    name = str(args.get("name") or "").strip(":")
    if not name:
        raise SlackError("invalid_name")
    with ctx.ws.lock:
        msg = _own_message(ctx, args, "timestamp", "")
        users = msg.reactions.setdefault(name, [])
        if ctx.ws.bot_user_id in users:
            raise SlackError("already_reacted")
        users.append(ctx.ws.bot_user_id)
    return {"ok": True}


def files_get_upload_url(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    filename = _str(args, "filename")
    try:
        length = int(args.get("length") or -1)
    except (TypeError, ValueError) as exc:
        raise SlackError("invalid_arguments") from exc
    if length < 0:
        raise SlackError("invalid_arguments")
    with ctx.ws.lock:
        file_id = ctx.ws.new_id("F")
        ctx.ws.files[file_id] = UploadedFile(file_id, filename, length, alt_txt=args.get("alt_txt") or None)
    return {"ok": True, "upload_url": f"{ctx.base_url}/upload/v1/{file_id}", "file_id": file_id}


def files_complete_upload(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    entries = args.get("files")
    if not isinstance(entries, list) or not entries:
        raise SlackError("invalid_arguments")
    with ctx.ws.lock:
        done: list[UploadedFile] = []
        for entry in entries:
            found = ctx.ws.files.get(str(entry.get("id"))) if isinstance(entry, dict) else None
            if found is None or found.content is None:
                raise SlackError("file_not_found")
            found.title = entry.get("title") or found.filename
            found.completed = True
            done.append(found)
        channel = args.get("channel_id") or args.get("channels")
        if channel:
            chan = ctx.ws.resolve_channel(str(channel).split(",")[0], allow_user=False)
            msg = ctx.ws.post(chan.id, ctx.ws.bot_user_id, str(args.get("initial_comment") or ""),
                              thread_ts=args.get("thread_ts") or None)
            msg.files = [f.id for f in done]
            for f in done:
                f.channels.append(chan.id)
        return {"ok": True, "files": [{"id": f.id, "title": f.title, "name": f.filename, "size": len(f.content or b""),
                                       "user": ctx.ws.bot_user_id, "created": int(ctx.ws.clock()),
                                       "url_private": f"{ctx.base_url}/files/{f.id}",
                                       "permalink": f"https://{ctx.ws.team.domain}.slack.com/files/"
                                                    f"{ctx.ws.bot_user_id}/{f.id}/{f.filename}"} for f in done]}


def apps_connections_open(ctx: Ctx, args: dict[str, Any]) -> dict[str, Any]:
    return {"ok": True, "url": ctx.socket_url()}


HANDLERS: dict[str, Handler] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.update": chat_update,
    "chat.delete": chat_delete,
    "conversations.open": conversations_open,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "users.info": users_info,
    "users.list": users_list,
    "reactions.add": reactions_add,
    "files.getUploadURLExternal": files_get_upload_url,
    "files.completeUploadExternal": files_complete_upload,
    "apps.connections.open": apps_connections_open,
    "views.open": lambda ctx, a: views.views_open(ctx.views, a),
    "views.push": lambda ctx, a: views.views_push(ctx.views, a),
    "views.update": lambda ctx, a: views.views_update(ctx.views, a),
    "views.publish": lambda ctx, a: views.views_publish(ctx.views, ctx.ws.users, a),
}
